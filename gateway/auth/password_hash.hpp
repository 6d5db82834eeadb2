// File: gateway/auth/password_hash.hpp
//
// Password schemes as Dovecot writes them in a passwd-file ("{SCHEME}hash"), their
// verification and hashing. Everything here is blocking CPU work (an ARGON2ID check takes
// ~0.1 s and 64 MiB): PasswdAuthenticator runs it on the libuv thread pool. Thread-safe.
//
// Schemes (names case-insensitive, as in Dovecot):
//   PLAIN, CLEAR          the password itself (reversible: usable for APOP)
//   CRYPT                 any crypt(3) string libxcrypt understands ($1$ $5$ $6$ $2y$ ...)
//   MD5-CRYPT ($1$), SHA256-CRYPT ($5$), SHA512-CRYPT ($6$), BLF-CRYPT ($2a$/$2b$/$2y$)
//   ARGON2I, ARGON2ID     PHC strings "$argon2id$v=19$m=..,t=..,p=..$salt$hash" (libargon2)
//   SHA (SHA1), SHA256, SHA512, LDAP-MD5, PLAIN-MD5      plain digests (check only)
//   SSHA, SSHA256, SSHA512, SMD5                         salted digests: H(password+salt)+salt
//     Encoded as Dovecot does: base64 (PLAIN-MD5: hex) unless the name carries ".HEX" or
//     ".B64"; a value of exactly twice the digest length in hex digits is read as hex.
//     These are old LDAP-era schemes kept so migrated passwd-files keep working; we never
//     write them (hash_password refuses).
// A stored password without a "{SCHEME}" prefix is CRYPT: Dovecot's default_pass_scheme
// for passwd-file databases.
//
// All comparisons of secrets are constant-time in the length of the stored value.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/result.hpp"

namespace mb::auth {

enum class Scheme {
  plain, crypt, md5_crypt, sha256_crypt, sha512_crypt, blf_crypt, argon2i, argon2id,
  // digest schemes (digest_scheme.hpp)
  sha1, ssha, sha256, ssha256, sha512, ssha512, plain_md5, ldap_md5, smd5,
};

// How a digest scheme's value is encoded ("{SHA256.HEX}"): automatic = the scheme's default.
enum class DigestEncoding { automatic, hex, base64 };

// "SHA512-CRYPT" -> Scheme::sha512_crypt (case-insensitive; "CLEAR" is PLAIN).
std::optional<Scheme> parse_scheme(std::string_view name);
// Canonical upper-case name ("SHA512-CRYPT", "PLAIN").
std::string_view scheme_name(Scheme scheme);
// True for schemes whose stored value is the password itself (APOP needs one).
inline bool is_reversible(Scheme scheme) { return scheme == Scheme::plain; }

struct StoredPassword {
  Scheme scheme = Scheme::crypt;
  std::string hash;  // the part after "{SCHEME}"; for PLAIN the password
  DigestEncoding encoding = DigestEncoding::automatic;  // digest schemes only
};

// Parses the password field of a passwd-file line. Errors: unknown scheme, a hash that does
// not have the shape its scheme needs ("{SHA512-CRYPT} hash must start with $6$"). An empty
// hash is accepted and never matches (a locked account).
mb::Result<StoredPassword, std::string> parse_stored_password(std::string_view field);

// Longest password accepted, in octets: libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE (512) less the
// terminating NUL, applied to every scheme so that a password works the same whatever
// scheme stores it, and so that a huge password cannot make one check expensive.
inline constexpr std::size_t kMaxPasswordLength = 511;

// Blocking. True iff `password` matches. Passwords containing NUL never match (crypt(3)
// would silently truncate them), nor do passwords longer than kMaxPasswordLength.
bool verify_password(const StoredPassword& stored, std::string_view password);

// Blocking. Returns "{SCHEME}hash" with a fresh random salt: SHA512-CRYPT (default, 5000
// rounds as Dovecot), SHA256-CRYPT, BLF-CRYPT (cost 10), ARGON2ID / ARGON2I (t=3, m=64 MiB,
// p=1, as Dovecot/libsodium "interactive"), PLAIN/CLEAR. Error: unknown scheme, NUL in the
// password, a password longer than kMaxPasswordLength, or a library failure.
mb::Result<std::string, std::string> hash_password(std::string_view password,
                                                   std::string_view scheme = "SHA512-CRYPT");

// Constant-time in b.size() (the stored side): no early exit on the first difference.
bool constant_time_equal(std::string_view a, std::string_view b);

// RFC 1939 §7 APOP: lower-case hex of MD5(timestamp + secret), 32 characters.
std::string apop_digest_hex(std::string_view timestamp, std::string_view secret);

}  // namespace mb::auth
