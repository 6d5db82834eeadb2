// File: gateway/store/maildir/uidlist_lock.cpp
#include "gateway/store/maildir/uidlist_lock.hpp"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "gateway/log/log.hpp"

namespace mb::store::maildir {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// "<pid>:<host>" as Dovecot writes it; the pid when the host is ours, else 0.
pid_t local_pid_of(const std::string& lock_path) {
  UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return 0;
  char buf[512];
  ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return 0;
  std::string text(buf, static_cast<std::size_t>(n));
  std::size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return 0;
  std::string host = text.substr(colon + 1);
  while (!host.empty() && (host.back() == '\n' || host.back() == '\r')) host.pop_back();
  if (host != host_name()) return 0;
  char* end = nullptr;
  long pid = std::strtol(text.c_str(), &end, 10);
  if (end != text.c_str() + colon || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

}  // namespace

StoreResult<void> take_dotlock(const std::string& lock_path, const DotlockSettings& settings) {
  std::string content = fmt::format("{}:{}", ::getpid(), host_name());
  std::time_t deadline = std::time(nullptr) + settings.wait_timeout_s;
  // What the existing lock looked like when first seen, to tell "unchanged for 120 s".
  struct Seen {
    ino_t ino = 0;
    off_t size = -1;
    std::time_t mtime = 0;
    std::time_t since = 0;
  } seen;
  int sleep_us = 100;
  // The lock appears with its content (temp file + link(2), as Dovecot's non-O_EXCL mode):
  // a writer killed half-way never leaves an empty lock nobody can judge stale but by age.
  // The temp file lives in tmp/ when the folder has one (old leftovers are cleaned there).
  std::string dir = lock_path.substr(0, lock_path.rfind('/'));
  std::string temp = fmt::format("{}/{}/{}.{}.{}.lock", dir, is_dir(dir + "/tmp") ? "tmp" : ".",
                                 std::time(nullptr), ::getpid(), std::hash<std::thread::id>{}(std::this_thread::get_id()));
  {
    UniqueFd tfd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!tfd) return mb::unexpected(errno_error(errno, "create " + temp));
    if (!write_all(tfd.get(), content.data(), content.size())) {
      int err = errno;
      ::unlink(temp.c_str());
      return mb::unexpected(errno_error(err, "write " + temp));
    }
  }
  struct TempGuard {
    std::string path;
    ~TempGuard() { ::unlink(path.c_str()); }
  } guard{temp};
  while (true) {
    if (::link(temp.c_str(), lock_path.c_str()) == 0) return {};
    if (errno != EEXIST) return mb::unexpected(errno_error(errno, "link " + lock_path));
    struct stat st {};
    std::time_t now = std::time(nullptr);
    if (::stat(lock_path.c_str(), &st) != 0) continue;  // released meanwhile: try again
    if (st.st_ino != seen.ino || st.st_size != seen.size || st.st_mtime != seen.mtime)
      seen = Seen{st.st_ino, st.st_size, st.st_mtime, now};
    bool stale = false;
    const char* why = "";
    // Dovecot reads the PID only of locks older than 2 s (a younger one may not have its
    // content yet); an unreadable PID reads as 0 here, so checking at once is as safe and
    // lets a writer killed with SIGKILL be replaced without a 2 s stall. Our own PID in it
    // (a release that failed) is stale too, as Dovecot treats it.
    pid_t pid = local_pid_of(lock_path);
    if (pid > 0 && (pid == ::getpid() || (::kill(pid, 0) != 0 && errno == ESRCH))) {
      stale = true;
      why = "its process no longer runs";
    }
    if (!stale && now - seen.since >= settings.stale_timeout_s && now - st.st_mtime >= settings.stale_timeout_s) {
      stale = true;
      why = "unchanged for the stale timeout";
    }
    if (stale) {
      mb::log::warn("store: overriding stale lock {} ({})", lock_path, why);
      ::unlink(lock_path.c_str());
      continue;
    }
    if (now >= deadline)
      return mb::unexpected(Error{ErrorKind::temp, "Mailbox is locked, try again later",
                                  "timed out waiting for " + lock_path});
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(sleep_us * 2, 50000);
  }
}

UidListLock::UidListLock(UidListLock&& o) noexcept
    : flock_fd_(std::move(o.flock_fd_)), dotlock_path_(std::move(o.dotlock_path_)) {
  o.dotlock_path_.clear();
}

UidListLock& UidListLock::operator=(UidListLock&& o) noexcept {
  if (this != &o) {
    release();
    flock_fd_ = std::move(o.flock_fd_);
    dotlock_path_ = std::move(o.dotlock_path_);
    o.dotlock_path_.clear();
  }
  return *this;
}

StoreResult<UidListLock> UidListLock::acquire(const std::string& dir, const DotlockSettings& settings) {
  UidListLock lock;
  std::string flock_path = dir + "/mailbridge-uidlist.lock";
  lock.flock_fd_ = UniqueFd(::open(flock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.flock_fd_) return mb::unexpected(errno_error(errno, "open " + flock_path));
  while (::flock(lock.flock_fd_.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return mb::unexpected(errno_error(errno, "flock " + flock_path));
  }
  std::string dot = dir + "/dovecot-uidlist.lock";
  if (auto r = take_dotlock(dot, settings); !r) return mb::unexpected(r.error());
  lock.dotlock_path_ = std::move(dot);
  return lock;
}

void UidListLock::release() {
  if (!dotlock_path_.empty()) {
    ::unlink(dotlock_path_.c_str());
    dotlock_path_.clear();
  }
  flock_fd_.reset();
}

}  // namespace mb::store::maildir
