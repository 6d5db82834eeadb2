// File: protocols/common/base64.cpp
#include "protocols/common/base64.hpp"

#include <array>
#include <cstdint>

namespace mb::proto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters, -1 for everything else (including '=').
constexpr std::array<std::int8_t, 256> make_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr std::array<std::int8_t, 256> kTable = make_table();

int value_of(char c) { return kTable[static_cast<unsigned char>(c)]; }

}  // namespace

void base64_encode_append(std::string_view bytes, std::string& out) {
  out.reserve(out.size() + base64_encoded_size(bytes.size()));
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t n = bytes.size();
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{p[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_encode_append(bytes, out);
  return out;
}

mb::Result<std::string, Base64Error> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return mb::unexpected(Base64Error::bad_length);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=') {
        // Padding only in the last quantum, only in positions 3 and 4, and contiguous.
        if (!last || k < 2) return mb::unexpected(Base64Error::bad_padding);
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad > 0) return mb::unexpected(Base64Error::bad_padding);  // "AB=C"
      v[k] = value_of(c);
      if (v[k] < 0) return mb::unexpected(Base64Error::bad_character);
    }
    const std::uint32_t bits = (static_cast<std::uint32_t>(v[0]) << 18) |
                               (static_cast<std::uint32_t>(v[1]) << 12) |
                               (static_cast<std::uint32_t>(v[2]) << 6) |
                               static_cast<std::uint32_t>(v[3]);
    out.push_back(static_cast<char>((bits >> 16) & 0xFF));
    if (pad == 2) {
      if ((bits & 0xFFFF) != 0) return mb::unexpected(Base64Error::bad_padding);
      break;
    }
    out.push_back(static_cast<char>((bits >> 8) & 0xFF));
    if (pad == 1) {
      if ((bits & 0xFF) != 0) return mb::unexpected(Base64Error::bad_padding);
      break;
    }
    out.push_back(static_cast<char>(bits & 0xFF));
  }
  return out;
}

}  // namespace mb::proto
