// File: gateway/auth/digest_scheme.hpp
//
// Private to gateway/auth: Dovecot's plain and salted digest schemes ({SHA}, {SSHA512},
// {PLAIN-MD5}, ...), as libdovecot's password-scheme.c defines them:
//   unsalted: value = encode(H(password))
//   salted:   value = encode(H(password + salt) + salt), salt = whatever follows the digest
// encode is base64 by default (hex for PLAIN-MD5), or as the .HEX/.B64 suffix says; a value
// of exactly 2 * digest-length hex digits is taken as hex (Dovecot does the same).
#pragma once

#include <string>
#include <string_view>

#include "gateway/auth/password_hash.hpp"

namespace mb::auth {

bool is_digest_scheme(Scheme scheme);

// "" if `value` decodes to a plausible stored digest for `scheme`, else why not.
std::string check_digest_value(Scheme scheme, DigestEncoding encoding, std::string_view value);

// Constant-time compare of the recomputed digest. False on undecodable values.
bool verify_digest(Scheme scheme, DigestEncoding encoding, std::string_view value,
                   std::string_view password);

}  // namespace mb::auth
