// File: protocols/common/base64.hpp
//
// Strict Base64 (RFC 4648 §4, standard alphabet, '=' padding) for SASL exchanges in POP3 AUTH
// (RFC 5034 §4) and IMAP AUTHENTICATE (RFC 3501 §6.2.2).
//
// Contract: decoding is strict, as RFC 5034 §4 demands ("MUST reject (and not ignore) any
// character not explicitly allowed"): the length must be a multiple of 4, '=' may appear only
// as one or two final pad characters, no whitespace or line breaks are accepted, and the bits
// discarded by padding must be zero (canonical encoding). The empty string decodes to "".
// Pure functions, no allocation beyond the returned string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "protocols/common/result.hpp"

namespace mb::proto {

enum class Base64Error {
  bad_length,     // not a multiple of 4 characters
  bad_character,  // outside A-Z a-z 0-9 + / (and '=' in the final positions)
  bad_padding,    // '=' in the middle, or non-zero bits discarded by the padding
};

// Encoded length of `n` octets.
constexpr std::size_t base64_encoded_size(std::size_t n) { return (n + 2) / 3 * 4; }

// Appends the Base64 form of `bytes` to `out` (no line breaks).
void base64_encode_append(std::string_view bytes, std::string& out);
std::string base64_encode(std::string_view bytes);

mb::Result<std::string, Base64Error> base64_decode(std::string_view text);

}  // namespace mb::proto
