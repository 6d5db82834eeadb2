// File: gateway/store/maildir/fs_util.cpp
#include "gateway/store/maildir/fs_util.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mb::store::maildir {

Error errno_error(int err, const std::string& what) {
  std::string internal = fmt::format("{}: {}", what, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT)
    return Error{ErrorKind::over_quota, "Mailbox is over quota or the disk is full", internal};
  if (err == ENOENT) return Error{ErrorKind::not_found, "No such mailbox or message", internal};
  if (err == EACCES || err == EPERM)
    return Error{ErrorKind::no_permission, "Permission denied by the mail store", internal};
  if (err == EMFILE || err == ENFILE || err == ENOMEM || err == EAGAIN || err == EINTR)
    return Error{ErrorKind::temp, "Mail store temporarily unavailable", internal};
  return Error{ErrorKind::internal, "Internal mail store error", internal};
}

std::optional<std::string> read_fd(int fd) {
  // Sized from fstat: one allocation and (for a file not growing meanwhile) one read that
  // lands in place, not 64 KB pieces appended to a string that keeps doubling.
  struct stat st {};
  std::string out;
  std::size_t cap = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 65536;
  std::size_t len = 0;
  while (true) {
    if (out.size() < len + 1) out.resize(std::max(cap, 2 * out.size()));
    ssize_t n = ::read(fd, out.data() + len, out.size() - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  out.resize(len);
  return out;
}

StoreResult<std::optional<std::string>> read_whole_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<std::string>{};
    return mb::unexpected(errno_error(errno, "open " + path));
  }
  auto out = read_fd(fd.get());
  if (!out) return mb::unexpected(errno_error(errno, "read " + path));
  return std::optional<std::string>(std::move(*out));
}

static StoreResult<std::vector<std::string>> list_impl(const std::string& path, bool dot_dirs) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return mb::unexpected(errno_error(errno, "opendir " + path));
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    if (dot_dirs) {
      if (n[0] != '.') continue;
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) continue;
      if (e->d_type != DT_DIR && !is_dir(path + "/" + n)) continue;
    } else if (n[0] == '.') {
      continue;
    }
    out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

StoreResult<std::vector<std::string>> list_dir(const std::string& path) { return list_impl(path, false); }
StoreResult<std::vector<std::string>> list_dot_dirs(const std::string& path) {
  return list_impl(path, true);
}

bool write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

namespace {
std::atomic<std::uint64_t> g_dir_fsyncs{0};
}  // namespace

void fsync_dir(const std::string& path) {
  g_dir_fsyncs.fetch_add(1, std::memory_order_relaxed);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

std::uint64_t dir_fsyncs() { return g_dir_fsyncs.load(std::memory_order_relaxed); }

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool make_dirs(const std::string& path) {
  if (path.empty() || is_dir(path)) return true;
  std::size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0 && !make_dirs(path.substr(0, slash))) return false;
  return ::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST;
}

bool remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (!S_ISDIR(st.st_mode)) return ::unlink(path.c_str()) == 0;
  DIR* d = ::opendir(path.c_str());
  if (!d) return false;
  bool ok = true;
  while (dirent* e = ::readdir(d)) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    ok = remove_tree(path + "/" + n) && ok;
  }
  ::closedir(d);
  return ::rmdir(path.c_str()) == 0 && ok;
}

}  // namespace mb::store::maildir
