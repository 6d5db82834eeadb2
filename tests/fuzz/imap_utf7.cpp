// File: tests/fuzz/imap_utf7.cpp
//
// Fuzz target for modified UTF-7: decode must only accept canonical input (re-encoding gives
// the input back), and every encodable UTF-8 string must decode to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocols/imap/utf7.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto decoded = mb::imap::utf7_decode(input)) {
    auto again = mb::imap::utf7_encode(*decoded);
    if (!again || *again != input) std::abort();
  }
  if (auto encoded = mb::imap::utf7_encode(input)) {
    for (char c : *encoded)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) std::abort();
    auto back = mb::imap::utf7_decode(*encoded);
    if (!back || *back != input) std::abort();
  }
  return 0;
}
