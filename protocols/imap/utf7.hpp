// File: protocols/imap/utf7.hpp
//
// Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3): printable US-ASCII except '&'
// stands for itself, "&-" is '&', and "&<modified base64 of UTF-16BE>-" encodes everything
// else (base64 alphabet with ',' instead of '/', no padding).
//
// Contract:
//  - utf7_decode() is strict: it accepts only the canonical encoding (what utf7_encode()
//    produces for the decoded text), so there is one wire form per name. It fails on 8-bit
//    bytes, control characters, unterminated or empty shifts, non-zero padding bits,
//    printable ASCII hidden in a shift, adjacent shifts, and ill-formed UTF-16.
//  - utf7_encode() fails only on ill-formed UTF-8 (overlong forms, surrogates, > U+10FFFF).
//  - Both are pure functions; std::nullopt is the only failure signal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mb::imap {

// Modified UTF-7 (wire form) -> UTF-8.
std::optional<std::string> utf7_decode(std::string_view wire);

// UTF-8 -> modified UTF-7 (wire form), for LIST/LSUB/STATUS output.
std::optional<std::string> utf7_encode(std::string_view utf8);

}  // namespace mb::imap
