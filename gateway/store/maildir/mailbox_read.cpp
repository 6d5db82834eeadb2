// File: gateway/store/maildir/mailbox_read.cpp
//
// MaildirMailbox::read and read_now: streamed body access by wire-octet range (store.hpp).
// Kept apart from the rest of the mailbox because it is the data path of RETR and FETCH
// BODY[]: what it costs per message is what POP3 downloads and IMAP body fetches cost.
//
// read_now() runs on the loop and never waits for the disk: the file is opened with
// openat2(RESOLVE_CACHED) (the name must resolve from the dentry cache; otherwise EAGAIN) and
// read with preadv2(RWF_NOWAIT) (page-cache hits only). Anything else (uncached name or data,
// a name that needs a directory search) answers "would block" and the caller uses read(),
// which does the same on the thread pool with blocking calls. Both share the per-folder LRU
// of open cursors, so a message read in chunks is opened once whichever path reads it.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/wire_reader.hpp"

namespace mb::store::maildir {
namespace {

// The idle cursor of `uid` nearest before `offset`, taken out of the LRU; null if none.
template <class State>
std::unique_ptr<WireCursor> take_cursor(State& rs, Uid uid, std::uint64_t offset) {
  std::lock_guard<std::mutex> lock(rs.mutex);
  auto& idle = rs.idle;
  std::size_t best = idle.size();
  for (std::size_t k = idle.size(); k-- > 0;) {
    const WireCursor& w = *idle[k];
    if (w.uid == uid && w.wire_off <= offset && (best == idle.size() || w.wire_off > idle[best]->wire_off))
      best = k;
  }
  if (best == idle.size()) return nullptr;
  std::unique_ptr<WireCursor> cur = std::move(idle[best]);
  idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(best));
  return cur;
}

// Kept also at the end of the file: the caller's last read (empty, at the end) then costs
// nothing. The least recently used one makes room.
template <class State>
void put_cursor(State& rs, std::unique_ptr<WireCursor> cur) {
  std::unique_ptr<WireCursor> evicted;  // closed outside the lock
  std::lock_guard<std::mutex> lock(rs.mutex);
  auto& idle = rs.idle;
  if (idle.size() >= State::kMaxIdle) {
    evicted = std::move(idle.front());
    idle.erase(idle.begin());
  }
  idle.push_back(std::move(cur));
}

// Open cur/ directories of the folders read_now() reads, most recently used last, so a
// message opens with a one-component lookup (the path walk was ~7% of a POP3 download's
// CPU). Loop thread only (thread_local: one per loop). An fd follows its directory: after a
// RENAME or DELETE of the folder the name is not found there, the entry is dropped and that
// read goes to the pool, which searches by path; the next one reopens the directory.
class CurDirFds {
 public:
  static constexpr std::size_t kMax = 64;
  // The fd of `dir`/cur, or -1 when opening it would block.
  int get(const std::string& dir) {
    for (std::size_t k = entries_.size(); k-- > 0;) {
      if (entries_[k].dir == dir) {
        if (k + 1 != entries_.size()) std::swap(entries_[k], entries_.back());
        return entries_.back().fd.get();
      }
    }
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_CACHED;
    std::string cur = dir + "/cur";
    long fd = ::syscall(SYS_openat2, AT_FDCWD, cur.c_str(), &how, sizeof how);
    if (fd < 0) return -1;
    if (entries_.size() >= kMax) entries_.erase(entries_.begin());
    entries_.push_back(Entry{dir, UniqueFd(static_cast<int>(fd))});
    return entries_.back().fd.get();
  }
  void drop(const std::string& dir) {
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      if (entries_[k].dir == dir) {
        entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(k));
        return;
      }
    }
  }

 private:
  struct Entry {
    std::string dir;
    UniqueFd fd;
  };
  std::vector<Entry> entries_;
};

thread_local CurDirFds t_cur_dirs;

Error expunged_error(std::string_view what) {
  return Error{ErrorKind::expunged, "Message has been expunged", std::string(what)};
}

}  // namespace

void MaildirMailbox::read(Uid uid, std::uint64_t offset, std::size_t max_len,
                          std::function<void(StoreResult<std::string>)> done) {
  std::size_t i = table_.index_of(uid);
  if (i == MessageTable::npos) {
    detail::post(loop_, [done = std::move(done)] { done(mb::unexpected(expunged_error("read"))); });
    return;
  }
  const MessageInfo& m = table_.infos()[i];
  auto result = std::make_shared<StoreResult<std::string>>();
  detail::post_work(
      loop_,
      [rs = read_state_, result, uid, offset, max_len, base = std::string(table_.base(i)), flags = m.flags,
       kw = m.keywords, wire = m.size, dir = dir_] {
        std::unique_ptr<WireCursor> cur = take_cursor(*rs, uid, offset);
        if (!cur) {
          cur = std::make_unique<WireCursor>();
          // The table's flags give the current name (our own renames update it): open that
          // directly; only a name they do not predict (foreign info letters, a file still
          // in new/) costs a directory search.
          std::string exact = dir + "/cur/";
          exact.append(base).append(info_suffix(flags, kw));
          if (!wire_open(*cur, uid, exact)) {
            FolderDisk finder(dir, false, false);
            auto path = finder.locate(base, flags, kw);
            if (!path) {
              *result = mb::unexpected(expunged_error(base));
              return;
            }
            if (auto o = wire_open(*cur, uid, *path); !o) {
              *result = mb::unexpected(o.error());
              return;
            }
          }
        }
        WireCursor& c = *cur;
        if (c.wire_off < offset) {
          if (auto s = wire_read(c, offset - c.wire_off, nullptr); !s) {
            *result = mb::unexpected(s.error());
            return;
          }
        }
        std::string out;
        // One allocation: the wire size is known (,W= or measured at sync).
        out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(max_len, wire > offset ? wire - offset : 0)));
        if (auto r = wire_read(c, max_len, &out); !r) {
          *result = mb::unexpected(r.error());
          return;
        }
        put_cursor(*rs, std::move(cur));
        *result = std::move(out);
      },
      [result, done = std::move(done)] { done(std::move(*result)); });
}

// The cursor of `uid` at wire `offset`, from the idle LRU or opened without waiting for the
// disk; null when that would block or needs a directory search (the pool path does both).
std::unique_ptr<WireCursor> MaildirMailbox::cursor_now(std::size_t index, Uid uid, std::uint64_t offset) {
  std::unique_ptr<WireCursor> cur = take_cursor(*read_state_, uid, offset);
  if (!cur) {
    const MessageInfo& m = table_.infos()[index];
    int dirfd = t_cur_dirs.get(dir_);
    std::string exact = dirfd >= 0 ? std::string() : dir_ + "/cur/";
    exact.append(table_.base(index)).append(info_suffix(m.flags, m.keywords));
    cur = std::make_unique<WireCursor>();
    // `missing` needs a directory search (a foreign name, or the message is gone): the pool
    // path does it and tells the two apart.
    OpenNow o = wire_open_now(*cur, uid, dirfd >= 0 ? dirfd : AT_FDCWD, exact);
    // A miss may mean the folder was renamed or deleted under the cached fd (RESOLVE_CACHED
    // then says EAGAIN as often as ENOENT): drop it; reopening a directory is cheap.
    if (o != OpenNow::ok && dirfd >= 0) t_cur_dirs.drop(dir_);
    if (o != OpenNow::ok) return nullptr;
  }
  if (cur->wire_off < offset) {
    auto s = wire_read_into(*cur, offset - cur->wire_off, nullptr, 0, true);
    if (!s || s->would_block) return nullptr;  // the cursor is dropped (closed)
  }
  return cur;
}

std::optional<StoreResult<Mailbox::ReadNow>> MaildirMailbox::read_now(Uid uid, std::uint64_t offset,
                                                                      std::size_t max_len, char* dst,
                                                                      char line_escape) {
  if (!read_nowait_enabled()) return std::nullopt;
  std::size_t i = table_.index_of(uid);
  if (i == MessageTable::npos) return StoreResult<ReadNow>(mb::unexpected(expunged_error("read")));
  std::unique_ptr<WireCursor> cur = cursor_now(i, uid, offset);
  if (!cur) return std::nullopt;
  auto r = wire_read_into(*cur, max_len, dst, line_escape, true);
  if (!r || r->would_block) return std::nullopt;
  put_cursor(*read_state_, std::move(cur));
  return StoreResult<ReadNow>(ReadNow{static_cast<std::size_t>(r->wire), r->written});
}

namespace {

// A WireCursor of its own, read with the nowait calls: usable from the body pump's thread
// (it shares nothing with the mailbox; its fd stays valid after an expunge or rename).
class CursorBodySource final : public proto::BodySource {
 public:
  CursorBodySource(std::unique_ptr<WireCursor> cursor, char escape)
      : cursor_(std::move(cursor)), escape_(escape) {}

  Step read(char* dst, std::size_t max) override {
    Step step;
    auto r = wire_read_into(*cursor_, max, dst, escape_, true);
    if (!r) {
      step.status = Status::failed;
      return step;
    }
    step.wire = static_cast<std::size_t>(r->wire);
    step.written = r->written;
    if (r->would_block) step.status = Status::would_block;
    return step;
  }
  std::size_t room_for(std::size_t max) const override { return escape_ != 0 ? 2 * max : max; }

 private:
  std::unique_ptr<WireCursor> cursor_;
  char escape_;
};

}  // namespace

std::unique_ptr<proto::BodySource> MaildirMailbox::open_body_now(Uid uid, std::uint64_t offset,
                                                                 char line_escape) {
  if (!read_nowait_enabled()) return nullptr;
  std::size_t i = table_.index_of(uid);
  if (i == MessageTable::npos) return nullptr;
  std::unique_ptr<WireCursor> cur = cursor_now(i, uid, offset);
  if (!cur) return nullptr;
  return std::make_unique<CursorBodySource>(std::move(cur), line_escape);
}

}  // namespace mb::store::maildir
