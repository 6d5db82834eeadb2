// File: protocols/imap/utf7.hpp
//
// Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3): the IMAP spelling of the shared
// codec in protocols/common/mutf7.hpp (strict canonical decoding, encode fails only on
// ill-formed UTF-8; see the contract there). Kept so existing callers compile; new code
// includes protocols/common/mutf7.hpp and calls mb::proto::mutf7_decode/mutf7_encode.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "protocols/common/mutf7.hpp"

namespace mb::imap {

// Modified UTF-7 (wire form) -> UTF-8.
inline std::optional<std::string> utf7_decode(std::string_view wire) { return proto::mutf7_decode(wire); }

// UTF-8 -> modified UTF-7 (wire form), for LIST/LSUB/STATUS output.
inline std::optional<std::string> utf7_encode(std::string_view utf8) { return proto::mutf7_encode(utf8); }

}  // namespace mb::imap
