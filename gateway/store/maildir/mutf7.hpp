// File: gateway/store/maildir/mutf7.hpp
//
// Modified UTF-7 (RFC 3501 §5.1.3), the encoding Dovecot and Courier use for Maildir++
// folder names on disk (".Caf&AOk-" is "Café"): the store's spelling of the shared codec in
// protocols/common/mutf7.hpp. decode() returns nullopt for anything but the canonical form,
// so a foreign directory name that is not valid mUTF-7 is skipped rather than misread.
// encode() takes valid UTF-8 (callers validate with normalize_mailbox_name first); should
// it get ill-formed UTF-8 anyway, each byte >= 0x80 is taken as Latin-1, so the result is
// still a non-empty, deterministic name that cannot contain '/'.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/mutf7.hpp"

namespace mb::store::maildir {

inline std::string mutf7_encode(std::string_view utf8) {
  if (auto encoded = proto::mutf7_encode(utf8)) return *encoded;
  std::string latin1;
  latin1.reserve(utf8.size() * 2);
  for (const char c : utf8) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      latin1 += c;
    } else {
      latin1 += static_cast<char>(0xc0 | (b >> 6));
      latin1 += static_cast<char>(0x80 | (b & 0x3f));
    }
  }
  return proto::mutf7_encode(latin1).value_or(std::string());
}

inline std::optional<std::string> mutf7_decode(std::string_view mutf7) { return proto::mutf7_decode(mutf7); }

}  // namespace mb::store::maildir
