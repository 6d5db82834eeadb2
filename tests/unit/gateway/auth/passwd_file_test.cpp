// Tests for gateway/auth/passwd_file and user_name: Dovecot's format, errors with file:line.
#include "gateway/auth/passwd_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway/auth/user_name.hpp"

namespace mb::auth {
namespace {

using ::testing::HasSubstr;

TEST(UserNameTest, Validation) {
  EXPECT_TRUE(valid_user_name("alice"));
  EXPECT_TRUE(valid_user_name("bob@example.org"));
  EXPECT_TRUE(valid_user_name("j.doe+tag"));
  EXPECT_TRUE(valid_user_name("jörg"));
  EXPECT_TRUE(valid_user_name(std::string(255, 'a')));
  EXPECT_EQ(user_name_problem(""), "empty");
  EXPECT_EQ(user_name_problem(std::string(256, 'a')), "longer than 255 octets");
  EXPECT_EQ(user_name_problem("../etc"), "contains '/'");
  EXPECT_EQ(user_name_problem(".."), "contains \"..\"");
  EXPECT_EQ(user_name_problem("a..b"), "contains \"..\"");
  EXPECT_EQ(user_name_problem("a/b"), "contains '/'");
  EXPECT_EQ(user_name_problem(std::string_view("a\0b", 3)), "contains a control character");
  EXPECT_EQ(user_name_problem("a\r\nb"), "contains a control character");
  EXPECT_EQ(user_name_problem("a\x7f"), "contains a control character");
  EXPECT_EQ(user_name_problem("a:b"), "contains ':'");
  EXPECT_EQ(user_lookup_key("Alice@Example.ORG"), "alice@example.org");
}

TEST(PasswdFileTest, LoadsTestFile) {
  auto t = load_passwd_file(std::string(MB_TEST_DATA_DIR) + "/auth/users");
  ASSERT_TRUE(t) << t.error();
  const PasswdTable& table = **t;
  EXPECT_EQ(table.size(), 8u);
  const PasswdEntry* alice = table.find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->password.scheme, Scheme::sha512_crypt);
  EXPECT_EQ(alice->uid, 1000u);
  EXPECT_EQ(alice->gid, 1000u);
  EXPECT_EQ(alice->gecos, "Alice");
  EXPECT_EQ(alice->home, "/home/alice");
  EXPECT_EQ(alice->shell, "/bin/false");
  EXPECT_EQ(alice->extra, "userdb_quota_rule=*:storage=1G");
  EXPECT_TRUE(verify_password(alice->password, "secret"));
  const PasswdEntry* carol = table.find("carol");
  ASSERT_NE(carol, nullptr);
  EXPECT_FALSE(carol->uid);
  EXPECT_EQ(carol->home, "/srv/carol");
  EXPECT_EQ(table.find("grace")->password.scheme, Scheme::crypt);
  EXPECT_TRUE(verify_password(table.find("grace")->password, "secret"));
  EXPECT_TRUE(table.find("heidi")->password.hash.empty());
  EXPECT_NE(table.find("bob@example.org"), nullptr);
  EXPECT_EQ(table.find("nobody"), nullptr);
  EXPECT_TRUE(table.has_reversible());
}

TEST(PasswdFileTest, LookupIsCaseInsensitiveCanonicalAsWritten) {
  auto t = load_passwd_file(std::string(MB_TEST_DATA_DIR) + "/auth/users");
  ASSERT_TRUE(t);
  ASSERT_NE((*t)->find("FRANK"), nullptr);
  EXPECT_EQ((*t)->find("frank")->user, "Frank");
  EXPECT_EQ((*t)->find("ALICE")->user, "alice");
}

TEST(PasswdFileTest, ErrorsNameFileAndLine) {
  auto err = [](std::string_view text) {
    auto r = parse_passwd_file(text, "users");
    EXPECT_FALSE(r);
    return r ? std::string() : r.error();
  };
  EXPECT_EQ(err("# c\nalice\n"), "users:2: expected user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]");
  EXPECT_THAT(err("a:{PLAIN}x\n\nb:{MD4}abc\n"), HasSubstr("users:3: user b: unsupported password scheme {MD4}"));
  EXPECT_THAT(err("a/b:{PLAIN}x\n"), HasSubstr("users:1: invalid user name: contains '/'"));
  EXPECT_THAT(err(":{PLAIN}x\n"), HasSubstr("users:1: invalid user name: empty"));
  EXPECT_THAT(err("a:{PLAIN}x:12x\n"), HasSubstr("users:1: user a: uid is not a number"));
  EXPECT_THAT(err("a:{PLAIN}x:1:g\n"), HasSubstr("users:1: user a: gid is not a number"));
  EXPECT_THAT(err("a:{PLAIN}x\nA:{PLAIN}y\n"), HasSubstr("users:2: user A is already defined on line 1"));
  EXPECT_THAT(err("a:{SHA512-CRYPT}$1$abc\n"), HasSubstr("users:1: user a: {SHA512-CRYPT} hash must start with $6$"));
  EXPECT_THAT(err(std::string("a:{PLAIN}") + std::string(70000, 'x') + "\n"), HasSubstr("users:1: line longer than 64 KiB"));
}

TEST(PasswdFileTest, CommentsBlankLinesAndCrlf) {
  auto t = parse_passwd_file("# comment\r\n\r\n   \n\t# indented\nalice:{PLAIN}pw\r\nbob:{PLAIN}x", "f");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ((*t)->size(), 2u);
  EXPECT_EQ((*t)->find("alice")->password.hash, "pw");
  EXPECT_EQ((*t)->find("bob")->password.hash, "x");
}

TEST(PasswdFileTest, MissingFile) {
  auto t = load_passwd_file("/nonexistent/users");
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error(), HasSubstr("/nonexistent/users: cannot open"));
}

TEST(PasswdFileTest, DummyUsesMostCommonScheme) {
  auto t = parse_passwd_file(
      "a:{PLAIN}x\n"
      "b:{SHA256-CRYPT}$5$TOhW3m76lvV9XZuF$IFbMlLkm5zVSx4vgG3.g2Ht3wfiaqJvZGNsBFbV2U74\n"
      "c:{SHA256-CRYPT}$5$eyQUnT/JLMgeGEE5$WDMvjT26qV0NDXgTRIkC6tip51ZdJAMVl7B.fS7Kf92\n",
      "f");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->dummy().scheme, Scheme::sha256_crypt);
  EXPECT_TRUE((*t)->has_reversible()) << "one {PLAIN} user is enough";
}

TEST(PasswdFileTest, DummyIsNeverPlainWhenHashedUsersExist) {
  auto t = parse_passwd_file(
      "a:{PLAIN}x\nb:{PLAIN}y\nc:{PLAIN}z\n"
      "d:{SHA256-CRYPT}$5$TOhW3m76lvV9XZuF$IFbMlLkm5zVSx4vgG3.g2Ht3wfiaqJvZGNsBFbV2U74\n",
      "f");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->dummy().scheme, Scheme::sha256_crypt);
  auto plain_only = parse_passwd_file("a:{PLAIN}x\n", "f");
  ASSERT_TRUE(plain_only);
  EXPECT_EQ((*plain_only)->dummy().scheme, Scheme::plain);
  auto test_file = load_passwd_file(std::string(MB_TEST_DATA_DIR) + "/auth/users");
  ASSERT_TRUE(test_file);
  EXPECT_NE((*test_file)->dummy().scheme, Scheme::plain);
}

TEST(PasswdFileTest, EmptyFileHasWorkingDummy) {
  auto t = parse_passwd_file("# nobody\n", "f");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->size(), 0u);
  EXPECT_EQ((*t)->dummy().scheme, Scheme::sha512_crypt);
  EXPECT_FALSE(verify_password((*t)->dummy(), "secret"));
  EXPECT_FALSE((*t)->has_reversible());
}

}  // namespace
}  // namespace mb::auth
