// File: protocols/imap/sort_keys.hpp
//
// The per-message keys SORT compares (RFC 5256 §3), computed from a message's raw header
// block. Pure functions; the SORT command (commands/search.cpp) calls them once per matching
// message and sorts on the results.
//
// Contract:
//  - base_subject(): the RFC 5256 §2.1 base subject of an unfolded, RFC 2047-decoded Subject
//    (trailers "(fwd)", leaders "Re:", "Fw:", "Fwd:", "[blob]", "[fwd: ...]" wrappers
//    removed, white space collapsed), ASCII upper-cased: comparing two results with
//    operator< is the i;ascii-casemap collation (RFC 5256 §3 allows it for US-ASCII).
//  - first_mailbox(): the addr-mailbox (local part) of the first address of an address
//    header as ENVELOPE lists it (a group's name when it starts with a group), upper-cased;
//    "" when there is none (RFC 5256 §3: sorts first).
//  - sent_date(): the Date: header in seconds since the epoch (UTC), or nullopt when it is
//    missing or unparsable (then the internal date is used, RFC 5256 §3 DATE).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::imap {

std::string base_subject(std::string_view decoded_subject);
std::string first_mailbox(std::string_view raw_address_header);
std::optional<std::int64_t> sent_date(std::string_view raw_date_header);

}  // namespace mb::imap
