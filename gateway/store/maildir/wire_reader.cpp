// File: gateway/store/maildir/wire_reader.cpp
#include "gateway/store/maildir/wire_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mb::store::maildir {
namespace {

constexpr std::size_t kBlock = 65536;

// Converts stored bytes to wire bytes (bare LF -> CRLF, RFC 5322 §2.3) into `out` (nullptr:
// count only), producing at most `room` octets, one append per line run. Returns the file
// bytes consumed; the cursor's offsets and line-end state move on accordingly.
std::size_t convert(WireCursor& c, const char* src, std::size_t len, std::uint64_t& room, std::string* out) {
  std::size_t pos = 0;
  while (pos < len && room > 0) {
    const void* hit = std::memchr(src + pos, '\n', len - pos);
    std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - src) : len;
    std::size_t seg = static_cast<std::size_t>(std::min<std::uint64_t>(end - pos, room));
    if (seg > 0) {
      if (out) out->append(src + pos, seg);
      c.prev_cr = src[pos + seg - 1] == '\r';
      pos += seg;
      room -= seg;
      c.file_off += seg;
      c.wire_off += seg;
    }
    if (pos < end || hit == nullptr || room == 0) break;
    // At an LF.
    ++pos;
    ++c.file_off;
    if (c.prev_cr) {
      if (out) out->push_back('\n');
      ++c.wire_off;
      --room;
    } else if (room >= 2) {
      if (out) out->append("\r\n", 2);
      c.wire_off += 2;
      room -= 2;
    } else {
      if (out) out->push_back('\r');
      ++c.wire_off;
      --room;
      c.pending_lf = true;
    }
    c.prev_cr = false;
  }
  return pos;
}

// Length of the prefix of `p` that passes unchanged: every LF in it follows a CR.
std::size_t clean_prefix(const char* p, std::size_t len, bool prev_cr) {
  std::size_t i = 0;
  while (i < len) {
    const void* hit = std::memchr(p + i, '\n', len - i);
    if (hit == nullptr) return len;
    std::size_t k = static_cast<std::size_t>(static_cast<const char*>(hit) - p);
    bool cr_before = k > 0 ? p[k - 1] == '\r' : prev_cr;
    if (!cr_before) return k;
    i = k + 1;
  }
  return len;
}

}  // namespace

StoreResult<void> wire_open(WireCursor& c, Uid uid, const std::string& path) {
  c = WireCursor{};
  c.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!c.fd) return mb::unexpected(errno_error(errno, "open " + path));
  struct stat st {};
  if (::fstat(c.fd.get(), &st) == 0 && S_ISREG(st.st_mode)) c.file_size = static_cast<std::uint64_t>(st.st_size);
  c.uid = uid;
  c.path = path;
  return {};
}

StoreResult<void> wire_read(WireCursor& c, std::uint64_t max_len, std::string* out) {
  std::uint64_t room = max_len;
  if (c.pending_lf && room > 0) {
    if (out) out->push_back('\n');
    c.pending_lf = false;
    ++c.wire_off;
    --room;
  }
  char scratch[kBlock];
  while (room > 0) {
    // Maildir files are never rewritten in place: the size at open bounds every read, so a
    // small message costs one pread and no zero-fill of a whole block.
    if (c.file_size && c.file_off >= *c.file_size) break;
    std::uint64_t want = std::min<std::uint64_t>(room, kBlock);
    if (c.file_size) want = std::min<std::uint64_t>(want, *c.file_size - c.file_off);
    if (out && c.bare_lf) {
      // An LF file (as Dovecot and we store them): convert from the block in one pass.
      ssize_t n = ::pread(c.fd.get(), scratch, want, static_cast<off_t>(c.file_off));
      if (n < 0) {
        if (errno == EINTR) continue;
        return mb::unexpected(errno_error(errno, "read " + c.path));
      }
      if (n == 0) break;
      convert(c, scratch, static_cast<std::size_t>(n), room, out);
      continue;
    }
    // Read straight into the caller's string; converted only from the first bare LF on.
    std::size_t base = out ? out->size() : 0;
    char* dst = scratch;
    if (out) {
      out->resize(base + want);
      dst = out->data() + base;
    }
    ssize_t n = ::pread(c.fd.get(), dst, want, static_cast<off_t>(c.file_off));
    if (n < 0) {
      if (out) out->resize(base);
      if (errno == EINTR) continue;
      return mb::unexpected(errno_error(errno, "read " + c.path));
    }
    auto got = static_cast<std::size_t>(n);
    if (got == 0) {
      if (out) out->resize(base);
      break;
    }
    std::size_t clean = clean_prefix(dst, got, c.prev_cr);
    if (clean > 0) {
      c.prev_cr = dst[clean - 1] == '\r';
      c.file_off += clean;
      c.wire_off += clean;
      room -= clean;
    }
    if (clean == got) {
      if (out) out->resize(base + got);
      continue;
    }
    // A bare LF at `clean`: the rest of the block needs converting (it grows), so it moves
    // out of the way first.
    std::size_t rest = got - clean;
    c.bare_lf = true;
    if (out) {
      std::memcpy(scratch, dst + clean, rest);
      out->resize(base + clean);
      convert(c, scratch, rest, room, out);
    } else {
      convert(c, dst + clean, rest, room, nullptr);
    }
  }
  return {};
}

}  // namespace mb::store::maildir
