// File: gateway/store/maildir/dir_watcher.hpp
//
// Directory-entry watches for Maildir folders (cur/ and new/): one inotify instance per
// registry (i.e. per loop), read through one uv_poll_t, shared by every open mailbox. Loop
// thread only.
//
// Why not uv_fs_event: libuv asks inotify for IN_ATTRIB and IN_MODIFY as well, events that
// happen to a directory's *children*. The first such watch on a directory makes the kernel
// walk every cached child dentry to flag it "parent watched" (fsnotify_set_children_dentry_
// flags): about 10 ms of CPU for a 100,000-file cur/, paid at every open of the folder. Maildir
// changes are all directory-entry events (delivery = rename into new/, flag change = rename,
// expunge = unlink; nobody edits a message file in place), so the mask here has only those
// (plus the directory's own deletion or move), and adding a watch costs microseconds.
// One instance per loop, not per mailbox: inotify instances are limited per user (128 by
// default); watches are not (fs.inotify.max_user_watches).
//
// Contract: add() returns a token (> 0) or -errno; the callback gets the entry's name, or an
// empty name when the kernel's queue overflowed or the directory itself went away (the
// caller cannot tell what changed: it rescans). remove() is safe from inside a callback, and
// after close(). A callback runs only while its token is registered.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mb::store::maildir {

class DirWatcher {
 public:
  using Callback = std::function<void(std::string_view name)>;

  explicit DirWatcher(uv_loop_t* loop) : loop_(loop) {}
  ~DirWatcher() { close(); }
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  int add(const std::string& path, Callback callback);
  void remove(int token);
  // Closes the inotify instance and its poll handle (registry shutdown); later add()s fail.
  void close();
  std::size_t watch_count() const { return by_wd_.size(); }

 private:
  struct Sub {
    int token;
    Callback callback;
  };
  int open_instance();
  void on_readable();

  uv_loop_t* loop_;
  int fd_ = -1;
  uv_poll_t* poll_ = nullptr;
  bool closed_ = false;
  int next_token_ = 1;
  std::unordered_map<int, std::vector<Sub>> by_wd_;  // watch descriptor -> subscribers
  std::unordered_map<int, int> wd_of_;               // token -> watch descriptor
};

}  // namespace mb::store::maildir
