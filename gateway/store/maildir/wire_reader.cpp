// File: gateway/store/maildir/wire_reader.cpp
#include "gateway/store/maildir/wire_reader.hpp"

#include <cerrno>

namespace mb::store::maildir {

StoreResult<void> wire_open(WireCursor& c, Uid uid, const std::string& path) {
  c = WireCursor{};
  c.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!c.fd) return mb::unexpected(errno_error(errno, "open " + path));
  c.uid = uid;
  c.path = path;
  return {};
}

StoreResult<void> wire_read(WireCursor& c, std::uint64_t max_len, std::string* out) {
  std::uint64_t produced = 0;
  char buf[65536];
  if (c.pending_lf && max_len > 0) {
    if (out) out->push_back('\n');
    c.pending_lf = false;
    ++c.wire_off;
    ++produced;
  }
  while (produced < max_len) {
    std::uint64_t want = max_len - produced;  // each file byte yields >= 1 wire byte
    if (want > sizeof buf) want = sizeof buf;
    ssize_t n = ::pread(c.fd.get(), buf, want, static_cast<off_t>(c.file_off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return mb::unexpected(errno_error(errno, "read " + c.path));
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n && produced < max_len; ++i) {
      char ch = buf[i];
      if (ch == '\n' && !c.prev_cr) {
        // Bare LF on disk: the wire has CRLF (RFC 5322 §2.3).
        if (out) out->push_back('\r');
        ++c.wire_off;
        ++produced;
        ++c.file_off;
        c.prev_cr = false;
        if (produced == max_len) {
          c.pending_lf = true;
          break;
        }
        if (out) out->push_back('\n');
        ++c.wire_off;
        ++produced;
        continue;
      }
      if (out) out->push_back(ch);
      c.prev_cr = ch == '\r';
      ++c.file_off;
      ++c.wire_off;
      ++produced;
    }
  }
  return {};
}

}  // namespace mb::store::maildir
