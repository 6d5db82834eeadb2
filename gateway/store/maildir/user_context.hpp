// File: gateway/store/maildir/user_context.hpp
//
// What one user's UserStore and its open mailboxes share: the loop, the Maildir root, the
// settings, and the process-wide registry of open mailboxes (weak_ptrs keyed by folder
// directory, so each folder has exactly one MaildirMailbox). Loop thread only.
//
// Linger: the registry also holds strong references to the mailboxes opened last (an LRU of
// at most max_lingering), each until linger_ms after its last user let it go (a sweep timer
// sees "only the registry holds it"), so a user who logs in again soon reuses the in-memory
// state (kept current by inotify) instead of re-reading the uidlist and listing the folder.
// A mailbox holds its UserContext which holds the registry: shutdown() (the Storage's
// destructor, on the loop, before the loop closes) drops the LRU and closes the timer.
#pragma once

#include <uv.h>

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/store/maildir/dir_watcher.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

class MaildirMailbox;

struct MailboxRegistry {
  MailboxRegistry() = default;
  MailboxRegistry(const MailboxRegistry&) = delete;
  MailboxRegistry& operator=(const MailboxRegistry&) = delete;
  ~MailboxRegistry();

  std::map<std::string, std::weak_ptr<MaildirMailbox>> by_dir;

  uv_loop_t* loop = nullptr;
  std::uint64_t linger_ms = 0;  // 0: a released mailbox goes at once
  std::size_t max_lingering = 256;

  // A mailbox was opened (successfully): (re)start its linger window, evicting the least
  // recently opened beyond max_lingering.
  void linger(const std::shared_ptr<MaildirMailbox>& mailbox);
  std::size_t lingering_count() const { return lingering_.size(); }
  // Lets go of the lingering mailboxes whose directory starts with `prefix` (DELETE and
  // RENAME: a later open of the name must read the new folder, not the old state).
  void forget_under(const std::string& prefix);
  void shutdown();
  // The loop's one inotify instance for cur/ and new/ watches (dir_watcher.hpp), made on
  // first use; closed by shutdown().
  DirWatcher& watcher() {
    if (!watcher_) watcher_ = std::make_unique<DirWatcher>(loop);
    return *watcher_;
  }

 private:
  struct Lingering {
    std::shared_ptr<MaildirMailbox> mailbox;
    std::uint64_t last_used_ms = 0;
  };
  void sweep();
  std::list<Lingering> lingering_;  // least recently opened first
  uv_timer_t* sweep_timer_ = nullptr;
  bool shut_ = false;
  std::unique_ptr<DirWatcher> watcher_;
};

struct UserContext {
  uv_loop_t* loop = nullptr;
  std::string user;
  std::string root;  // the user's Maildir (INBOX)
  bool fsync = true;
  bool fsync_flags = false;  // StoreSettings::fsync_flags
  std::map<SpecialUse, std::vector<std::string>> special_use_names;
  std::shared_ptr<MailboxRegistry> registry;

  // Directory of a normalised mailbox name: root for INBOX, root/.A.B for "A/B" (each
  // component in modified UTF-7, as Dovecot and Courier store them).
  std::string folder_dir(const std::string& normalized_name) const;
};

}  // namespace mb::store::maildir
