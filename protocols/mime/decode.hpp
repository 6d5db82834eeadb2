// File: protocols/mime/decode.hpp
//
// Helpers for IMAP SEARCH over messages: header lookup, RFC 2047 encoded-word decoding,
// RFC 2045 transfer decoding, charset conversion to UTF-8 (glibc iconv: UTF-8, US-ASCII,
// ISO-8859-*, Windows-125x and whatever else glibc knows), case-insensitive matching, and
// RFC 5322 date parsing (with the obsolete forms of §4.3) for SENTBEFORE/SENTON/SENTSINCE.
//
// All functions are pure and total: undecodable input is passed through (invalid UTF-8 is
// replaced by U+FFFD) rather than reported, because SEARCH must still answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/mime/message_structure.hpp"

namespace mb::mime {

// Raw values (folding kept, without the trailing CRLF) of every field called `name`
// (case-insensitive) in a header block, in order.
std::vector<std::string_view> find_header(std::string_view header_block, std::string_view name);

// Removes folding (CRLF / LF followed by WSP) from a raw field value; trims outer whitespace.
std::string unfold(std::string_view raw);

// Converts `bytes` in `charset` to UTF-8. Unknown charsets and invalid sequences: bytes that
// are valid UTF-8 pass, the rest become U+FFFD.
std::string to_utf8(std::string_view bytes, std::string_view charset);

// Unfolds and decodes RFC 2047 encoded-words ("=?cs?B|Q?text?=") into UTF-8; whitespace between
// adjacent encoded-words is dropped (RFC 2047 §6.2). Raw 8-bit text is taken as UTF-8 (RFC 6532).
std::string decode_header_value(std::string_view raw);

// RFC 2045 §6.7 quoted-printable and §6.8 base64 decoding (lenient: junk skipped).
std::string decode_quoted_printable(std::string_view in);
std::string decode_base64(std::string_view in);

// The body of `part` (its body bytes as read from the wire form) as UTF-8 text: transfer
// decoded per part.encoding, then converted from its charset parameter (default us-ascii,
// taken as UTF-8-compatible).
std::string decode_body_text(std::string_view body_bytes, const BodyPart& part);

// Case-insensitive substring test on UTF-8 text: ASCII and Latin-1/Latin Extended-A/Greek/
// Cyrillic simple case folding. An empty needle matches.
bool contains_icase(std::string_view haystack, std::string_view needle);

// Address lists (RFC 5322 §3.4 with the obsolete forms of §4.4). A group is represented as
// a start marker (mailbox = group name, host empty, group_start) followed by its members and
// an end marker (group_end), exactly the way RFC 3501 ENVELOPE encodes groups.
struct Address {
  std::optional<std::string> name;  // display name, raw (quotes removed, not 2047-decoded)
  std::optional<std::string> adl;   // obsolete source route, e.g. "@a,@b"
  std::string mailbox;              // local part (unquoted); the group name for group_start
  std::optional<std::string> host;  // domain; nullopt for group markers and host-less addresses
  bool group_start = false;
  bool group_end = false;
};
std::vector<Address> parse_address_list(std::string_view raw);

// The address header rendered for SEARCH FROM/TO/CC/BCC: "Decoded Name <local@domain>, ...".
std::string addresses_for_search(std::string_view raw);

// A Date: header value. The fields are as written (local time of the sender).
struct DateTime {
  int year = 0, month = 0, day = 0;  // month 1..12
  int hour = 0, minute = 0, second = 0;
  int zone_minutes = 0;  // offset east of UTC; obsolete/unknown zones = 0 (RFC 5322 §4.3)
  std::int64_t to_unix() const;  // seconds since the epoch, UTC
};
std::optional<DateTime> parse_date(std::string_view raw);

}  // namespace mb::mime
