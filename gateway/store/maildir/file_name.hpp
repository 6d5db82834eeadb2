// File: gateway/store/maildir/file_name.hpp
//
// Maildir file names (https://cr.yp.to/proto/maildir.html, Dovecot/Courier extensions):
//   <base>[:2,<info>]   base = "<secs>.M<usecs>P<pid>Q<n>.<host>[,S=<size>][,W=<wire size>]"
// Info letters, in ASCII order: D (\Draft) F (\Flagged) P (passed: no IMAP flag, ignored)
// R (\Answered) S (\Seen) T (\Deleted), then keywords 'a'..'z' = index in dovecot-keywords
// (as Dovecot maps them). ,S= is the file size, ,W= the size with CRLF line ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct ParsedName {
  std::string_view base;             // the name without ":2,..."
  FlagSet flags = 0;
  std::uint32_t keyword_letters = 0; // bit i = letter 'a'+i
  std::optional<std::uint64_t> file_size;  // ,S=
  std::optional<std::uint64_t> wire_size;  // ,W=
};

ParsedName parse_file_name(std::string_view name);
// ":2," followed by the letters, in ASCII order (uppercase system flags, then a-z).
std::string info_suffix(FlagSet flags, KeywordMask keywords);
// Info letters of `name` that are not ours to manage (not D F R S T, not keyword letters
// a-z): Maildir's P (passed) and anything a foreign server wrote. Flag renames keep them.
std::string foreign_info_letters(std::string_view name);
// info_suffix() with those letters merged in, in ASCII order as Maildir wants.
std::string info_suffix(FlagSet flags, KeywordMask keywords, std::string_view foreign);
// Delivery time in microseconds from a "<secs>.M<usecs>..." base; nullopt if not that form.
std::optional<std::uint64_t> delivery_usecs(std::string_view base);
// A new unique base: "<secs>.M<usecs>P<pid>Q<counter>.<host>,S=<size>,W=<wire>".
std::string make_base(std::uint64_t file_size, std::uint64_t wire_size);

}  // namespace mb::store::maildir
