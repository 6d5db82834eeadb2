// File: gateway/store/maildir/wire_reader.hpp
//
// Streams a stored message (LF or CRLF line ends) as its wire form (CRLF) from any wire
// offset. A WireCursor keeps the open fd and the (file offset, wire offset) pair, so reading
// a message sequentially in chunks costs O(chunk) per call and never holds the whole message
// in memory; a jump backwards reopens from the start. Blocks are read straight into the
// output; line runs are found with memchr and converted with one append each. Pool threads only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct WireCursor {
  Uid uid = 0;
  std::string path;
  UniqueFd fd;
  std::uint64_t file_off = 0;
  std::optional<std::uint64_t> file_size;  // at open (Maildir files are immutable)
  std::uint64_t wire_off = 0;
  bool prev_cr = false;     // last file byte consumed was CR
  bool pending_lf = false;  // emitted the CR of an inserted CRLF, LF still owed
  bool bare_lf = false;     // a bare LF was seen: read blocks aside and convert them
};

// Opens `path` and positions the cursor at wire offset 0.
StoreResult<void> wire_open(WireCursor& cursor, Uid uid, const std::string& path);
// Appends up to `max_len` wire octets to `out` (nullptr: skip them). Fewer only at the end.
StoreResult<void> wire_read(WireCursor& cursor, std::uint64_t max_len, std::string* out);

}  // namespace mb::store::maildir
