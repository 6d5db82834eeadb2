// File: protocols/imap/response.hpp
//
// Small builders for IMAP response text (RFC 3501 §7, §9 grammar). They append to a caller's
// string so that one command's (or one batch's) responses are built in a single buffer and sent
// with one SessionSink::send(): no per-message allocation on the hot paths (FETCH, STORE).
//
//   std::string out;
//   append_astring(out, name);                    // atom, "quoted" or {n}\r\nliteral
//   append_flag_list(out, info.flags, info.keywords, mailbox.keywords(), recent);
//   append_status_code(out, store::ErrorKind::not_found);   // "[NONEXISTENT] "
//
// Strings that can hold CR, LF, NUL or 8-bit octets are always sent as literals; quoted strings
// are used only for text that needs no escaping beyond \" and \\ (§4.3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::imap {

// Decimal number.
void append_number(std::string& out, std::uint64_t value);

// RFC 3501 string: "quoted" when possible, else a synchronizing literal {n}\r\n...
void append_string(std::string& out, std::string_view value);
// nstring: NIL when absent.
void append_nstring(std::string& out, std::optional<std::string_view> value);
// astring: bare atom when every octet is an ATOM-CHAR (and not empty), else append_string.
void append_astring(std::string& out, std::string_view value);
// Mailbox name as sent in LIST/STATUS: like astring but "INBOX" stays bare.
void append_mailbox(std::string& out, std::string_view encoded_name);

// "(\Seen \Flagged kw1 ...)" with \Recent when `recent`.
void append_flag_list(std::string& out, store::FlagSet flags, store::KeywordMask keywords,
                      const std::vector<std::string>& keyword_table, bool recent);
// The FLAGS list of a mailbox: every system flag plus the keyword table.
void append_mailbox_flags(std::string& out, const std::vector<std::string>& keyword_table);

// INTERNALDATE as "dd-Mon-yyyy hh:mm:ss +0000" (quoted, §9 date-time), in UTC.
void append_internal_date(std::string& out, std::int64_t epoch_seconds);

// Parses a system flag name ("\Seen", case-insensitive); 0 if it is not one. \Recent is
// reported through `is_recent` since it cannot be stored (§2.3.2).
store::FlagSet system_flag(std::string_view name, bool* is_recent = nullptr);

// "[CODE] " for a store error kind (RFC 5530 / RFC 7889), or "" when there is none.
std::string_view status_code(store::ErrorKind kind);
// "NO" for ordinary failures; tagged response text for a store error, e.g.
// "a1 NO [NONEXISTENT] Mailbox does not exist\r\n".
void append_store_error(std::string& out, std::string_view tag, const store::Error& error);

// A tagged status line "tag OK|NO|BAD text\r\n". `text` may start with "[CODE] ".
void append_tagged(std::string& out, std::string_view tag, std::string_view status,
                   std::string_view text);

// True for characters allowed in an atom (RFC 3501 §9 ATOM-CHAR).
bool is_response_atom_char(char c);

}  // namespace mb::imap
