// File: protocols/imap/search_parse.hpp
//
// SEARCH arguments (RFC 3501 §6.4.4, §9 search / search-key):
//   [CHARSET SP astring SP] search-key *(SP search-key)
// into a SearchKey tree whose root is SearchOp::all_of.
//
// Contract: every RFC 3501 key; "(" key *(SP key) ")" lists, OR, NOT nest up to
// limits.max_depth (deeper -> too_deep); at most limits.max_items keys in all (-> too_many).
// Key names are case-insensitive. Dates accept date-text bare or quoted. The charset is
// upper-cased and not judged here (the session answers NO [BADCHARSET]).
#pragma once

#include "protocols/imap/command.hpp"
#include "protocols/imap/cursor.hpp"

namespace mb::imap {

bool parse_search(Cursor& cur, SearchArgs& out);
// 1*(SP search-key) without the leading SP: the keys of SEARCH and SORT (RFC 5256), into
// `out` as an all_of node; the same limits (count, nesting) apply.
bool parse_search_keys(Cursor& cur, SearchKey& out);

}  // namespace mb::imap
