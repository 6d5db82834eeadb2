// File: protocols/imap/seqset.cpp
#include "protocols/imap/seqset.hpp"

#include <cstdint>

namespace mb::imap {
namespace {

// seq-number = nz-number / "*" (RFC 3501 §9). Advances i.
bool seq_number(std::string_view s, std::size_t& i, std::uint32_t& out) {
  if (i < s.size() && s[i] == '*') {
    ++i;
    out = kSeqStar;
    return true;
  }
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return false;  // no leading zero, no 0
  std::uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (v > 0xffffffffu) return false;
    ++i;
  }
  out = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace

std::optional<SequenceSet> parse_sequence_set(std::string_view text, std::size_t max_ranges) {
  SequenceSet set;
  std::size_t i = 0;
  for (;;) {
    SeqRange r;
    if (!seq_number(text, i, r.first)) return std::nullopt;
    r.last = r.first;
    if (i < text.size() && text[i] == ':') {
      ++i;
      if (!seq_number(text, i, r.last)) return std::nullopt;
    }
    if (set.ranges.size() >= max_ranges) return std::nullopt;
    set.ranges.push_back(r);
    if (i == text.size()) break;
    if (text[i] != ',') return std::nullopt;
    ++i;
  }
  return set;
}

}  // namespace mb::imap
