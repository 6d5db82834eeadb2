// File: protocols/common/mutf7.hpp
//
// Modified UTF-7 (RFC 3501 §5.1.3), the one codec for both of its uses: IMAP mailbox names
// on the wire (protocols/imap) and Maildir++ folder names on disk, as Dovecot and Courier
// write them (gateway/store/maildir: ".Caf&AOk-" is "Café"). Printable US-ASCII except '&'
// stands for itself, "&-" is '&', and "&<modified base64 of UTF-16BE>-" encodes everything
// else (base64 alphabet with ',' instead of '/', no padding).
//
// Contract:
//  - mutf7_decode() is strict: it accepts only the canonical encoding (what mutf7_encode()
//    produces for the decoded text), so there is one form per name, and a foreign directory
//    or wire name that is not valid mUTF-7 is refused rather than misread. It fails on 8-bit
//    bytes, control characters, unterminated or empty shifts, non-zero padding bits,
//    printable ASCII hidden in a shift, adjacent shifts, and ill-formed UTF-16.
//  - mutf7_encode() fails only on ill-formed UTF-8 (overlong forms, surrogates, > U+10FFFF).
//  - Both are pure functions; std::nullopt is the only failure signal.
// Header-only (inline), so libraries on both sides of the protocols/gateway line use it
// without a link dependency.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::proto {
namespace mutf7_detail {


inline constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

inline int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

inline bool is_direct(std::uint32_t cp) { return cp >= 0x20 && cp <= 0x7e; }

// One code point from UTF-8 at s[i]; advances i. False on ill-formed input.
inline bool next_utf8(std::string_view s, std::size_t& i, std::uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int extra = 0;
  std::uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xe0) == 0xc0) {
    extra = 1, cp = b0 & 0x1fu, min = 0x80;
  } else if ((b0 & 0xf0) == 0xe0) {
    extra = 2, cp = b0 & 0x0fu, min = 0x800;
  } else if ((b0 & 0xf8) == 0xf0) {
    extra = 3, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return false;
  }
  if (i + static_cast<std::size_t>(extra) >= s.size()) return false;
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xc0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  i += static_cast<std::size_t>(extra) + 1;
  return true;
}

inline void put_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

inline void flush_shift(std::string& out, std::vector<std::uint16_t>& units) {
  if (units.empty()) return;
  out += '&';
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint16_t u : units) {
    acc = (acc << 16) | u;
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3f];
    }
    acc &= (1u << bits) - 1;
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
  out += '-';
  units.clear();
}

// Lenient decoder; canonical form is checked by the caller.
inline bool decode_loose(std::string_view in, std::string& out) {
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x20 || c > 0x7e) return false;
    if (c != '&') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    ++i;
    if (i < in.size() && in[i] == '-') {
      out += '&';
      ++i;
      continue;
    }
    std::uint32_t acc = 0;
    int bits = 0;
    std::uint32_t high = 0;  // pending high surrogate
    bool any = false;
    for (;;) {
      if (i >= in.size()) return false;  // unterminated shift
      const char d = in[i++];
      if (d == '-') break;
      const int v = base64_value(d);
      if (v < 0) return false;
      any = true;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        const std::uint32_t u = (acc >> bits) & 0xffff;
        acc &= (1u << bits) - 1;
        if (high != 0) {
          if (u < 0xdc00 || u > 0xdfff) return false;
          put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
          high = 0;
        } else if (u >= 0xd800 && u <= 0xdbff) {
          high = u;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          return false;
        } else {
          put_utf8(out, u);
        }
      }
    }
    if (!any || high != 0 || bits >= 6 || acc != 0) return false;
  }
  return true;
}

}  // namespace mutf7_detail

// UTF-8 -> modified UTF-7.
inline std::optional<std::string> mutf7_encode(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 8);
  std::vector<std::uint16_t> units;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::uint32_t cp = 0;
    if (!mutf7_detail::next_utf8(utf8, i, cp)) return std::nullopt;
    if (mutf7_detail::is_direct(cp)) {
      mutf7_detail::flush_shift(out, units);
      out += static_cast<char>(cp);
      if (cp == '&') out += '-';
    } else if (cp >= 0x10000) {
      const std::uint32_t v = cp - 0x10000;
      units.push_back(static_cast<std::uint16_t>(0xd800 + (v >> 10)));
      units.push_back(static_cast<std::uint16_t>(0xdc00 + (v & 0x3ff)));
    } else {
      units.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  mutf7_detail::flush_shift(out, units);
  return out;
}

// Modified UTF-7 -> UTF-8 (canonical input only).
inline std::optional<std::string> mutf7_decode(std::string_view wire) {
  std::string out;
  out.reserve(wire.size());
  if (!mutf7_detail::decode_loose(wire, out)) return std::nullopt;
  // Only the canonical form is accepted: one wire name per mailbox.
  auto again = mutf7_encode(out);
  if (!again || *again != wire) return std::nullopt;
  return out;
}

}  // namespace mb::proto
