// File: gateway/store/maildir/dir_watcher.cpp
#include "gateway/store/maildir/dir_watcher.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>


namespace mb::store::maildir {
namespace {

// Directory-entry events only (see the header): no IN_ATTRIB / IN_MODIFY / IN_CLOSE_WRITE,
// which would make the kernel flag every child dentry when the watch is added.
constexpr std::uint32_t kMask =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// libuv's UV_HANDLE_CLOSED bit (as in maildir_mailbox.cpp): mb::uv::Loop::close() may have
// closed the handle already; then it is ours to free.
constexpr unsigned kUvHandleClosed = 0x00000002;

}  // namespace

int DirWatcher::open_instance() {
  if (fd_ >= 0) return 0;
  if (closed_ || !loop_) return -EBADF;
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return -errno;
  poll_ = new uv_poll_t{};
  int rc = uv_poll_init(loop_, poll_, fd);
  if (rc != 0) {
    delete poll_;
    poll_ = nullptr;
    ::close(fd);
    return rc;
  }
  fd_ = fd;
  poll_->data = this;
  // Watching never keeps the loop alive by itself (a lingering mailbox must not either).
  uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  uv_poll_start(poll_, UV_READABLE, [](uv_poll_t* h, int status, int) {
    auto* self = static_cast<DirWatcher*>(h->data);
    if (self && status == 0) self->on_readable();
  });
  return 0;
}

int DirWatcher::add(const std::string& path, Callback callback) {
  if (int rc = open_instance(); rc != 0) return rc;
  int wd = ::inotify_add_watch(fd_, path.c_str(), kMask);
  if (wd < 0) return -errno;
  int token = next_token_++;
  by_wd_[wd].push_back(Sub{token, std::move(callback)});
  wd_of_[token] = wd;
  return token;
}

void DirWatcher::remove(int token) {
  auto it = wd_of_.find(token);
  if (it == wd_of_.end()) return;
  int wd = it->second;
  wd_of_.erase(it);
  auto w = by_wd_.find(wd);
  if (w == by_wd_.end()) return;
  auto& subs = w->second;
  subs.erase(std::remove_if(subs.begin(), subs.end(), [&](const Sub& s) { return s.token == token; }), subs.end());
  if (subs.empty()) {
    by_wd_.erase(w);
    // EINVAL when the directory is gone (the kernel dropped the watch): nothing to undo.
    if (fd_ >= 0) ::inotify_rm_watch(fd_, wd);
  }
}

void DirWatcher::close() {
  closed_ = true;
  by_wd_.clear();
  wd_of_.clear();
  if (poll_) {
    auto* h = reinterpret_cast<uv_handle_t*>(poll_);
    h->data = nullptr;
    if (uv_is_closing(h) == 0) {
      uv_close(h, [](uv_handle_t* p) { delete reinterpret_cast<uv_poll_t*>(p); });
    } else if ((h->flags & kUvHandleClosed) != 0) {
      delete poll_;
    }
    poll_ = nullptr;
  }
  // uv_close() stopped the poll (removed from epoll) synchronously: the fd may go now.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void DirWatcher::on_readable() {
  alignas(inotify_event) char buf[16384];
  while (fd_ >= 0) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: drained
    // Collect first: a callback may add or remove watches.
    std::vector<std::pair<int, std::string>> events;
    bool overflow = false;
    for (ssize_t off = 0; off + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      inotify_event ev{};
      std::memcpy(&ev, buf + off, sizeof ev);
      std::size_t name_len = ev.len ? ::strnlen(buf + off + sizeof ev, ev.len) : 0;
      if (ev.mask & IN_Q_OVERFLOW) {
        overflow = true;
      } else {
        // IN_IGNORED (watch gone), IN_DELETE_SELF, IN_MOVE_SELF: no name, i.e. "rescan".
        events.emplace_back(ev.wd, std::string(buf + off + sizeof ev, name_len));
      }
      off += static_cast<ssize_t>(sizeof ev + ev.len);
    }
    if (overflow) {
      // Events were lost: every subscriber must rescan.
      events.clear();
      for (const auto& [wd, subs] : by_wd_) events.emplace_back(wd, std::string());
    }
    for (const auto& [wd, name] : events) {
      auto w = by_wd_.find(wd);
      if (w == by_wd_.end()) continue;
      std::vector<int> tokens;
      for (const auto& s : w->second) tokens.push_back(s.token);
      for (int token : tokens) {
        // Look the subscriber up again: an earlier callback may have removed it.
        auto again = by_wd_.find(wd);
        if (again == by_wd_.end()) break;
        auto s = std::find_if(again->second.begin(), again->second.end(),
                              [&](const Sub& x) { return x.token == token; });
        if (s == again->second.end()) continue;
        Callback cb = s->callback;  // the subscriber may remove itself while it runs
        cb(name);
      }
    }
  }
}

}  // namespace mb::store::maildir
