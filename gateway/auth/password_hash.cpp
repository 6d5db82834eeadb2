// File: gateway/auth/password_hash.cpp
//
// crypt(3) schemes go through libxcrypt's crypt_r/crypt_gensalt_rn, ARGON2* through
// libargon2, APOP's MD5 through mbedTLS.
#include "gateway/auth/password_hash.hpp"

#include "gateway/auth/digest_scheme.hpp"

#include <argon2.h>
#include <crypt.h>
#include <mbedtls/md5.h>
#include <sys/random.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

namespace mb::auth {
namespace {

struct SchemeName {
  std::string_view name;
  Scheme scheme;
};
constexpr SchemeName kSchemes[] = {
    {"PLAIN", Scheme::plain},          {"CLEAR", Scheme::plain},
    {"CRYPT", Scheme::crypt},          {"MD5-CRYPT", Scheme::md5_crypt},
    {"SHA256-CRYPT", Scheme::sha256_crypt}, {"SHA512-CRYPT", Scheme::sha512_crypt},
    {"BLF-CRYPT", Scheme::blf_crypt},  {"ARGON2I", Scheme::argon2i},
    {"ARGON2ID", Scheme::argon2id},    {"SHA", Scheme::sha1},
    {"SHA1", Scheme::sha1},            {"SSHA", Scheme::ssha},
    {"SHA256", Scheme::sha256},        {"SSHA256", Scheme::ssha256},
    {"SHA512", Scheme::sha512},        {"SSHA512", Scheme::ssha512},
    {"PLAIN-MD5", Scheme::plain_md5},  {"LDAP-MD5", Scheme::ldap_md5},
    {"SMD5", Scheme::smd5}};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (x != b[i]) return false;
  }
  return true;
}

bool starts_with_any(std::string_view s, std::initializer_list<std::string_view> prefixes) {
  for (auto p : prefixes) {
    if (s.starts_with(p)) return true;
  }
  return false;
}

// The prefix a hash of each crypt-family scheme must carry (empty = anything).
std::string_view required_prefix_text(Scheme s) {
  switch (s) {
    case Scheme::md5_crypt: return "$1$";
    case Scheme::sha256_crypt: return "$5$";
    case Scheme::sha512_crypt: return "$6$";
    case Scheme::blf_crypt: return "$2a$, $2b$ or $2y$";
    case Scheme::argon2i: return "$argon2i$";
    case Scheme::argon2id: return "$argon2id$";
    default: return "";
  }
}

bool has_required_prefix(Scheme s, std::string_view h) {
  switch (s) {
    case Scheme::md5_crypt: return h.starts_with("$1$");
    case Scheme::sha256_crypt: return h.starts_with("$5$");
    case Scheme::sha512_crypt: return h.starts_with("$6$");
    case Scheme::blf_crypt: return starts_with_any(h, {"$2a$", "$2b$", "$2y$"});
    case Scheme::argon2i: return h.starts_with("$argon2i$");
    case Scheme::argon2id: return h.starts_with("$argon2id$");
    default: return true;
  }
}

bool verify_crypt(const std::string& hash, const std::string& password) {
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: keep it off the pool thread's stack
  const char* out = crypt_r(password.c_str(), hash.c_str(), data.get());
  // libxcrypt returns "*0"/"*1" (or NULL) for an unusable setting; never a match.
  const bool ok = out != nullptr && out[0] != '*' && constant_time_equal(out, hash);
  explicit_bzero(data.get(), sizeof(crypt_data));
  return ok;
}

bool fill_random(unsigned char* buf, std::size_t len) {
  std::size_t done = 0;
  while (done < len) {
    const ssize_t n = getrandom(buf + done, len - done, 0);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

mb::Result<std::string, std::string> crypt_hash(std::string_view password, const char* prefix,
                                                unsigned long count) {
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  std::array<unsigned char, 16> rbytes{};
  if (!fill_random(rbytes.data(), rbytes.size())) return mb::unexpected(std::string("no random bytes"));
  if (crypt_gensalt_rn(prefix, count, reinterpret_cast<const char*>(rbytes.data()),
                       static_cast<int>(rbytes.size()), setting.data(),
                       static_cast<int>(setting.size())) == nullptr) {
    return mb::unexpected(std::string("crypt_gensalt failed: ") + std::strerror(errno));
  }
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting.data(), data.get());
  explicit_bzero(pw.data(), pw.size());
  if (out == nullptr || out[0] == '*') return mb::unexpected(std::string("crypt failed"));
  std::string result(out);
  explicit_bzero(data.get(), sizeof(crypt_data));
  return result;
}

mb::Result<std::string, std::string> argon2_hash(std::string_view password, argon2_type type) {
  constexpr std::uint32_t kTime = 3, kMemoryKiB = 65536, kLanes = 1, kSaltLen = 16, kHashLen = 32;
  std::array<unsigned char, kSaltLen> salt{};
  if (!fill_random(salt.data(), salt.size())) return mb::unexpected(std::string("no random bytes"));
  std::vector<char> encoded(argon2_encodedlen(kTime, kMemoryKiB, kLanes, kSaltLen, kHashLen, type) + 1);
  const int rc = argon2_hash(kTime, kMemoryKiB, kLanes, password.data(), password.size(), salt.data(),
                             salt.size(), nullptr, kHashLen, encoded.data(), encoded.size(), type,
                             ARGON2_VERSION_13);
  if (rc != ARGON2_OK) return mb::unexpected(std::string("argon2: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

}  // namespace

std::optional<Scheme> parse_scheme(std::string_view name) {
  for (const auto& s : kSchemes) {
    if (iequal(name, s.name)) return s.scheme;
  }
  return std::nullopt;
}

std::string_view scheme_name(Scheme scheme) {
  for (const auto& s : kSchemes) {
    if (s.scheme == scheme) return s.name;
  }
  return "CRYPT";
}

mb::Result<StoredPassword, std::string> parse_stored_password(std::string_view field) {
  StoredPassword out;
  if (field.starts_with("{")) {
    const auto close = field.find('}');
    if (close == std::string_view::npos) return mb::unexpected(std::string("\"{\" without \"}\" in the password field"));
    std::string_view name = field.substr(1, close - 1);
    // Dovecot's encoding suffix: {SHA256.HEX}, {SSHA512.B64}.
    if (const auto dot = name.rfind('.'); dot != std::string_view::npos) {
      const std::string_view suffix = name.substr(dot + 1);
      if (iequal(suffix, "HEX")) out.encoding = DigestEncoding::hex;
      else if (iequal(suffix, "B64") || iequal(suffix, "BASE64")) out.encoding = DigestEncoding::base64;
      else return mb::unexpected("unknown encoding suffix in {" + std::string(name) + "} (HEX or B64)");
      name = name.substr(0, dot);
    }
    const auto scheme = parse_scheme(name);
    if (scheme && out.encoding != DigestEncoding::automatic && !is_digest_scheme(*scheme)) {
      return mb::unexpected("{" + std::string(name) + "} takes no .HEX/.B64 suffix");
    }
    if (!scheme) {
      return mb::unexpected("unsupported password scheme {" + std::string(name) +
                            "} (supported: PLAIN, CLEAR, CRYPT, MD5-CRYPT, SHA256-CRYPT, "
                            "SHA512-CRYPT, BLF-CRYPT, ARGON2I, ARGON2ID, SHA, SSHA, SHA256, SSHA256, "
                            "SHA512, SSHA512, PLAIN-MD5, LDAP-MD5, SMD5)");
    }
    out.scheme = *scheme;
    field.remove_prefix(close + 1);
  }
  out.hash = std::string(field);
  if (is_digest_scheme(out.scheme) && !out.hash.empty()) {
    if (const std::string why = check_digest_value(out.scheme, out.encoding, out.hash); !why.empty()) {
      return mb::unexpected("{" + std::string(scheme_name(out.scheme)) + "} " + why);
    }
  }
  if (!out.hash.empty() && !has_required_prefix(out.scheme, out.hash)) {
    return mb::unexpected("{" + std::string(scheme_name(out.scheme)) + "} hash must start with " +
                          std::string(required_prefix_text(out.scheme)));
  }
  return out;
}

bool verify_password(const StoredPassword& stored, std::string_view password) {
  if (stored.hash.empty()) return false;  // locked account
  if (password.find('\0') != std::string_view::npos || password.size() > kMaxPasswordLength) return false;
  std::string pw(password);
  bool ok = false;
  switch (stored.scheme) {
    case Scheme::plain:
      ok = constant_time_equal(pw, stored.hash);
      break;
    case Scheme::argon2i:
    case Scheme::argon2id:
      ok = argon2_verify(stored.hash.c_str(), pw.data(), pw.size(),
                         stored.scheme == Scheme::argon2id ? Argon2_id : Argon2_i) == ARGON2_OK;
      break;
    case Scheme::sha1: case Scheme::ssha: case Scheme::sha256: case Scheme::ssha256:
    case Scheme::sha512: case Scheme::ssha512: case Scheme::plain_md5: case Scheme::ldap_md5:
    case Scheme::smd5:
      ok = verify_digest(stored.scheme, stored.encoding, stored.hash, pw);
      break;
    default:
      ok = verify_crypt(stored.hash, pw);
      break;
  }
  explicit_bzero(pw.data(), pw.size());
  return ok;
}

mb::Result<std::string, std::string> hash_password(std::string_view password, std::string_view scheme_text) {
  const auto scheme = parse_scheme(scheme_text);
  if (!scheme) return mb::unexpected("unknown scheme \"" + std::string(scheme_text) + "\"");
  if (password.find('\0') != std::string_view::npos) return mb::unexpected(std::string("password contains NUL"));
  if (password.size() > kMaxPasswordLength) {
    return mb::unexpected("password longer than " + std::to_string(kMaxPasswordLength) + " octets");
  }
  mb::Result<std::string, std::string> hash = mb::unexpected(std::string("scheme not supported for hashing"));
  switch (*scheme) {
    case Scheme::plain: hash = std::string(password); break;
    case Scheme::crypt:
    case Scheme::sha512_crypt: hash = crypt_hash(password, "$6$", 0); break;
    case Scheme::sha256_crypt: hash = crypt_hash(password, "$5$", 0); break;
    case Scheme::md5_crypt: hash = crypt_hash(password, "$1$", 0); break;
    case Scheme::blf_crypt: hash = crypt_hash(password, "$2y$", 10); break;
    case Scheme::argon2i: hash = argon2_hash(password, Argon2_i); break;
    case Scheme::argon2id: hash = argon2_hash(password, Argon2_id); break;
    default: break;  // digest schemes: verify only
  }
  if (!hash) return hash;
  // CRYPT hashes as SHA512-CRYPT and says so, so the prefix always names what was made.
  const Scheme written = *scheme == Scheme::crypt ? Scheme::sha512_crypt : *scheme;
  return "{" + std::string(scheme_name(written)) + "}" + *hash;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk all of b; index a modulo its size so the loop shape never depends on a's content.
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = a.empty() ? 0 : static_cast<unsigned char>(a[i % a.size()]);
    diff |= static_cast<unsigned>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0 && a.size() == b.size();
}

std::string apop_digest_hex(std::string_view timestamp, std::string_view secret) {
  std::string input;
  input.reserve(timestamp.size() + secret.size());
  input.append(timestamp).append(secret);
  std::array<unsigned char, 16> md{};
  mbedtls_md5_ret(reinterpret_cast<const unsigned char*>(input.data()), input.size(), md.data());
  explicit_bzero(input.data(), input.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace mb::auth
