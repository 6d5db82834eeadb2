// Tests for gateway/auth/password_hash: Dovecot's own hashes verify (doveadm vectors),
// wrong passwords fail, our hashes round-trip, stored-field parsing, APOP digest.
#include "gateway/auth/password_hash.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <vector>

namespace mb::auth {
namespace {

using ::testing::HasSubstr;

struct Vector {
  std::string scheme, password, stored;
};

std::vector<Vector> load_vectors() {
  std::ifstream in(std::string(MB_TEST_DATA_DIR) + "/auth/doveadm_vectors.txt");
  std::vector<Vector> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto t1 = line.find('\t');
    const auto t2 = line.find('\t', t1 + 1);
    out.push_back({line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)});
  }
  return out;
}

TEST(PasswordHashTest, DoveadmVectorsVerify) {
  const auto vectors = load_vectors();
  ASSERT_GE(vectors.size(), 27u);
  std::set<std::string> schemes;
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.stored);
    auto stored = parse_stored_password(v.stored);
    ASSERT_TRUE(stored) << stored.error();
    EXPECT_EQ(stored->scheme, *parse_scheme(v.scheme.substr(0, v.scheme.find('.'))));
    EXPECT_TRUE(verify_password(*stored, v.password));
    EXPECT_FALSE(verify_password(*stored, v.password + "x"));
    if (schemes.insert(v.scheme).second) {  // the slower negatives once per scheme (ARGON2 is ~0.1 s)
      EXPECT_FALSE(verify_password(*stored, v.password.substr(0, v.password.size() - 1)));
      EXPECT_FALSE(verify_password(*stored, ""));
    }
  }
  for (const char* s : {"PLAIN", "CLEAR", "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "ARGON2ID",
                        "SSHA512", "SHA256.HEX", "PLAIN-MD5", "SMD5"}) {
    EXPECT_TRUE(schemes.count(s)) << s;
  }
}

TEST(PasswordHashTest, NulInPasswordNeverMatches) {
  auto stored = parse_stored_password("{PLAIN}secret");
  ASSERT_TRUE(stored);
  EXPECT_FALSE(verify_password(*stored, std::string_view("secret\0", 7)));
  auto crypt = parse_stored_password(
      "{SHA256-CRYPT}$5$TOhW3m76lvV9XZuF$IFbMlLkm5zVSx4vgG3.g2Ht3wfiaqJvZGNsBFbV2U74");
  ASSERT_TRUE(crypt);
  EXPECT_TRUE(verify_password(*crypt, "secret"));
  EXPECT_FALSE(verify_password(*crypt, std::string_view("secret\0xyz", 10)));
}

TEST(PasswordHashTest, PasswordLengthLimit) {
  const std::string max(kMaxPasswordLength, 'p');
  const std::string over(kMaxPasswordLength + 1, 'p');
  for (const char* scheme : {"PLAIN", "SHA512-CRYPT"}) {
    auto h = hash_password(max, scheme);
    ASSERT_TRUE(h) << h.error();
    auto stored = parse_stored_password(*h);
    ASSERT_TRUE(stored);
    EXPECT_TRUE(verify_password(*stored, max)) << scheme;
    EXPECT_FALSE(verify_password(*stored, over)) << scheme;
  }
  auto plain = parse_stored_password("{PLAIN}" + over);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(verify_password(*plain, over)) << "the limit applies to every scheme";
  EXPECT_THAT(hash_password(over, "PLAIN").error(), HasSubstr("longer than 511 octets"));
}

TEST(PasswordHashTest, NoSchemeMeansCrypt) {
  auto stored = parse_stored_password("$2y$05$vpqblULzPMFBcpFImDYuWuggJ.y7TplTp1nW/TEUKsbjPWRuAX1n2");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->scheme, Scheme::crypt);
  EXPECT_TRUE(verify_password(*stored, "secret"));
  EXPECT_FALSE(verify_password(*stored, "Secret"));
}

TEST(PasswordHashTest, SchemeNamesCaseInsensitive) {
  EXPECT_EQ(parse_scheme("sha512-crypt"), Scheme::sha512_crypt);
  EXPECT_EQ(parse_scheme("Clear"), Scheme::plain);
  EXPECT_EQ(parse_scheme("argon2id"), Scheme::argon2id);
  EXPECT_FALSE(parse_scheme("CRAM-MD5"));
  EXPECT_EQ(scheme_name(Scheme::blf_crypt), "BLF-CRYPT");
}

TEST(PasswordHashTest, StoredFieldErrors) {
  EXPECT_THAT(parse_stored_password("{CRAM-MD5}abc").error(), HasSubstr("unsupported password scheme {CRAM-MD5}"));
  EXPECT_THAT(parse_stored_password("{SHA512-CRYPT$6$x").error(), HasSubstr("without \"}\""));
  EXPECT_THAT(parse_stored_password("{SHA512-CRYPT}$5$abc$def").error(),
              HasSubstr("{SHA512-CRYPT} hash must start with $6$"));
  EXPECT_THAT(parse_stored_password("{ARGON2ID}$argon2i$v=19$m=1,t=1,p=1$a$b").error(),
              HasSubstr("must start with $argon2id$"));
  EXPECT_THAT(parse_stored_password("{BLF-CRYPT}$6$x$y").error(), HasSubstr("$2a$, $2b$ or $2y$"));
  auto locked = parse_stored_password("{SHA512-CRYPT}");
  ASSERT_TRUE(locked);
  EXPECT_FALSE(verify_password(*locked, ""));
  EXPECT_FALSE(verify_password(*locked, "secret"));
}

TEST(PasswordHashTest, DigestSchemeErrors) {
  EXPECT_THAT(parse_stored_password("{SHA256}not*base64").error(), HasSubstr("{SHA256} value is not valid base64/hex"));
  EXPECT_THAT(parse_stored_password("{SHA256}YWJj").error(), HasSubstr("{SHA256} value has the wrong length"));
  EXPECT_THAT(parse_stored_password("{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=").error(), HasSubstr("wrong length"))
      << "a salted digest needs salt bytes after the digest";
  EXPECT_THAT(parse_stored_password("{SHA256.XYZ}abc").error(), HasSubstr("unknown encoding suffix"));
  EXPECT_THAT(parse_stored_password("{SHA512-CRYPT.HEX}$6$a$b").error(), HasSubstr("takes no .HEX/.B64 suffix"));
  EXPECT_THAT(parse_stored_password("{PLAIN-MD5.HEX}zz").error(), HasSubstr("not valid base64/hex"));
  // Dovecot reads a 2*digest-length hex value as hex even without the suffix.
  auto hex = parse_stored_password("{SHA256}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b");
  ASSERT_TRUE(hex) << hex.error();
  EXPECT_TRUE(verify_password(*hex, "secret"));
  EXPECT_THAT(hash_password("x", "SSHA").error(), HasSubstr("not supported for hashing"));
}

TEST(PasswordHashTest, GarbageCryptNeverMatches) {
  auto stored = parse_stored_password("{CRYPT}!locked");
  ASSERT_TRUE(stored);
  EXPECT_FALSE(verify_password(*stored, "!locked"));
  EXPECT_FALSE(verify_password(*stored, ""));
}

class HashRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(HashRoundTrip, HashThenVerify) {
  const std::string scheme = GetParam();
  auto h1 = hash_password("s3cret p@ss:wörd", scheme);
  ASSERT_TRUE(h1) << h1.error();
  auto h2 = hash_password("s3cret p@ss:wörd", scheme);
  ASSERT_TRUE(h2) << h2.error();
  EXPECT_TRUE(h1->starts_with("{" + std::string(scheme_name(*parse_scheme(scheme))) + "}")) << *h1;
  if (scheme != "PLAIN") {
    EXPECT_NE(*h1, *h2) << "salt must be random";
  }
  auto stored = parse_stored_password(*h1);
  ASSERT_TRUE(stored) << stored.error();
  EXPECT_TRUE(verify_password(*stored, "s3cret p@ss:wörd"));
  EXPECT_FALSE(verify_password(*stored, "s3cret p@ss:word"));
}

INSTANTIATE_TEST_SUITE_P(Schemes, HashRoundTrip,
                         ::testing::Values("PLAIN", "SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT",
                                           "ARGON2ID", "ARGON2I", "MD5-CRYPT"));

TEST(PasswordHashTest, HashPasswordDefaultsAndErrors) {
  auto h = hash_password("pw");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->starts_with("{SHA512-CRYPT}$6$")) << *h;
  auto c = hash_password("pw", "CRYPT");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->starts_with("{SHA512-CRYPT}$6$")) << *c;
  auto b = hash_password("pw", "BLF-CRYPT");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->starts_with("{BLF-CRYPT}$2y$10$")) << *b;
  auto a = hash_password("pw", "ARGON2ID");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->starts_with("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$")) << *a;
  EXPECT_THAT(hash_password("pw", "ROT13").error(), HasSubstr("unknown scheme \"ROT13\""));
  EXPECT_THAT(hash_password(std::string_view("a\0b", 3), "PLAIN").error(), HasSubstr("NUL"));
}

TEST(PasswordHashTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("a", ""));
  EXPECT_FALSE(constant_time_equal("abcabc", "abc"));
}

TEST(PasswordHashTest, ApopDigestRfc1939Example) {
  // RFC 1939 §7 example.
  EXPECT_EQ(apop_digest_hex("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb");
}

}  // namespace
}  // namespace mb::auth
