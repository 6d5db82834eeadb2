// File: protocols/imap/seqset.hpp
//
// Parsing of RFC 3501 §9 sequence-set ("1", "2:4", "*", "5:*", "4:2", comma lists). The
// SequenceSet type itself (and resolve()/contains() against a maximum) is in command.hpp.
//
// Contract: zero, empty elements, signs, numbers above 4294967295, "$" (SEARCHRES, not
// offered) and more than `max_ranges` elements are rejected (std::nullopt).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "protocols/imap/command.hpp"

namespace mb::imap {

std::optional<SequenceSet> parse_sequence_set(std::string_view text, std::size_t max_ranges);

// True when c may appear in a sequence-set token.
inline bool is_seqset_char(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == ':' || c == ',';
}

}  // namespace mb::imap
