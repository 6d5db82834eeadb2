// File: gateway/store/maildir/wire_reader.hpp
//
// Streams a stored message (LF or CRLF line ends) as its wire form (CRLF) from any wire
// offset. A WireCursor keeps the open fd and the (file offset, wire offset) pair, so reading
// a message sequentially in chunks costs O(chunk) per call and never holds the whole message
// in memory; a jump backwards reopens from the start.
//
// One pass per byte: a vector scan (SSE2, 16 octets a step; AVX2, 32, where the CPU has it,
// chosen at run time) finds the next "event" (a bare LF
// that needs its CR, or a line-start escape byte, Mailbox::read_now's generic hook); the
// clean run before it is copied with one memcpy. CRLF files are read straight into the
// output; LF files through a 64 KB stack block.
//
// Blocking: wire_open()/wire_read() may block (pool threads). The `nowait` variants never
// wait for the disk (openat2 RESOLVE_CACHED, preadv2 RWF_NOWAIT) and report `would_block`
// instead, so the loop thread can use them on page-cache hits; after `would_block` the
// cursor's position is unspecified and it must be dropped.
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
  bool line_start = true;   // last wire octet produced was LF (or none yet)
  bool pending_lf = false;  // emitted the CR of an inserted CRLF, LF still owed
  bool bare_lf = false;     // a bare LF was seen: read blocks aside and convert them
};

// Opens `path` and positions the cursor at wire offset 0.
StoreResult<void> wire_open(WireCursor& cursor, Uid uid, const std::string& path);
// Appends up to `max_len` wire octets to `out` (nullptr: skip them). Fewer only at the end.
StoreResult<void> wire_read(WireCursor& cursor, std::uint64_t max_len, std::string* out);

enum class OpenNow { ok, would_block, missing };
// wire_open() that never waits for the disk: only a path the dentry cache resolves.
// `missing`: no such file (the caller searches, off the loop). Other failures answer
// `would_block`: the blocking path then reports them properly.
// `dirfd` (or AT_FDCWD) is where a relative `path` starts: an open cur/ directory makes the
// lookup one component.
OpenNow wire_open_now(WireCursor& cursor, Uid uid, int dirfd, const std::string& path);

struct WireRead {
  std::uint64_t wire = 0;     // wire octets consumed
  std::size_t written = 0;    // bytes written to dst (wire + escapes)
  bool would_block = false;   // nowait only: the data is not in the page cache
};
// Writes up to `max_len` wire octets at `dst` (nullptr: skip them), each line starting with
// `escape` (0: none) preceded by one more copy of it. `dst` holds max_len bytes (2 * max_len
// with an escape). Fewer octets only at the end (or would_block).
StoreResult<WireRead> wire_read_into(WireCursor& cursor, std::uint64_t max_len, char* dst, char escape,
                                     bool nowait);

// Test hook: false keeps the LF->CRLF conversion on its SSE2 blocks even where the CPU has
// AVX2 (true: AVX2 again when the CPU has it), so tests cover both. avx2_conversion_active()
// says which one runs.
void set_vector_width_limit(bool allow_avx2);
bool avx2_conversion_active();

// Test hook: false makes MaildirMailbox::read_now() always answer "would block", so the
// thread-pool fallback is exercised as with an uncached file. Also off when the environment
// has MAILBRIDGE_READ_NOWAIT=0 at the first call.
void set_read_nowait_enabled(bool enabled);
bool read_nowait_enabled();

}  // namespace mb::store::maildir
