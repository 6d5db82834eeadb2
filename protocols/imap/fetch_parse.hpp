// File: protocols/imap/fetch_parse.hpp
//
// FETCH attribute grammar (RFC 3501 §6.4.5 and §9 fetch-att, section, section-spec;
// RFC 3516 BINARY[.PEEK][part]<partial> and BINARY.SIZE[part]).
//
// Contract: reads ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
// from the cursor, appending to `out` with the macros expanded (ALL = FLAGS INTERNALDATE
// RFC822.SIZE ENVELOPE; FAST = FLAGS INTERNALDATE RFC822.SIZE; FULL = ALL BODY). On failure the
// cursor holds the error. Part numbers are nz-numbers; MIME needs a part number; BINARY takes
// only a part; partial lengths are nz-number.
#pragma once

#include <vector>

#include "protocols/imap/command.hpp"
#include "protocols/imap/cursor.hpp"

namespace mb::imap {

bool parse_fetch_atts(Cursor& cur, std::vector<FetchAtt>& out);

}  // namespace mb::imap
