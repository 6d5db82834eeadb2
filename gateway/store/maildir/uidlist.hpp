// File: gateway/store/maildir/uidlist.hpp
//
// The per-folder UID map. We read and write Dovecot's `dovecot-uidlist` (format version 3) in
// place, under Dovecot's own name, so a tree can be served by Dovecot and mailbridge in turn
// and both keep the same UIDs (and UIDVALIDITY), and POP3 UIDLs derived from them stay stable.
//   v3 header: "3 V<uidvalidity> N<nextuid> [G<guid>] ..."   lines: "<uid> [<K><value>...] :<base>"
//   v1 header: "1 <uidvalidity> <nextuid>"                   lines: "<uid> <base>"
// Courier's `courierimapuiddb` uses the v1 shape and is imported on first open.
// Unknown header and line fields are ignored (Dovecot adds extension keys).
// Like Dovecot, records are appended to the file under the lock (the header's N then lags:
// the next UID is max(N, last record + 1)); the file is rewritten (temp + rename) to compact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct UidListEntry {
  Uid uid = 0;
  std::string base;
  std::optional<std::uint64_t> wire_size;  // "W" field (when the name has no ,W=)
};

struct UidList {
  std::uint32_t uidvalidity = 0;
  Uid next_uid = 1;
  std::string guid;
  std::vector<UidListEntry> entries;  // as in the file (UID ascending when valid)
  bool torn = false;                   // the last line had no '\n' (ignored): rewrite first
};

// Parses either format. Errors name the line and the reason (for the log).
mb::Result<UidList, std::string> parse_uidlist(std::string_view text);

// Formats version 3. `entries` must be UID ascending.
std::string format_uidlist_header(std::uint32_t uidvalidity, Uid next_uid, std::string_view guid);
void append_uidlist_line(std::string& out, Uid uid, std::string_view base,
                         std::optional<std::uint64_t> wire_size);

// dovecot-keywords: lines "<index> <name>"; index = letter - 'a'.
std::vector<std::string> parse_keywords_file(std::string_view text);
std::string format_keywords_file(const std::vector<std::string>& keywords);

}  // namespace mb::store::maildir
