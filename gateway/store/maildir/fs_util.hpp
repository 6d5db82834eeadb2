// File: gateway/store/maildir/fs_util.hpp
//
// Small blocking POSIX helpers for the Maildir backend (pool threads only): whole-file read,
// fd RAII, directory listing, directory fsync, errno -> store Error.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::store::maildir {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// nullopt if the file does not exist; error for other failures.
StoreResult<std::optional<std::string>> read_whole_file(const std::string& path);
// The rest of an open file, from its current offset (nullopt: read error, errno set).
std::optional<std::string> read_fd(int fd);
// Names in a directory, without "." entries and names starting with '.'.
StoreResult<std::vector<std::string>> list_dir(const std::string& path);
// Subdirectory names starting with '.' (excluding "." and "..").
StoreResult<std::vector<std::string>> list_dot_dirs(const std::string& path);
bool write_all(int fd, const char* data, std::size_t len);
void fsync_dir(const std::string& path);
// How many fsync_dir() calls this process made (all threads): what a change cost in flushes.
std::uint64_t dir_fsyncs();
Error errno_error(int err, const std::string& what);
bool is_dir(const std::string& path);
// mkdir -p with mode 0700; false on failure (errno set).
bool make_dirs(const std::string& path);
// Removes a directory tree (no symlink following). Returns false on failure.
bool remove_tree(const std::string& path);

}  // namespace mb::store::maildir
