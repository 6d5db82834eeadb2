// File: gateway/store/maildir/uidlist_lock.hpp
//
// The lock held around every read-modify-write of a folder's dovecot-uidlist (pool threads
// only). Two locks, taken in this order and released in reverse:
//   1. flock(2) on `mailbridge-uidlist.lock`: mailbridge processes among themselves (cheap,
//      released by the kernel when a process dies, so a SIGKILLed writer never blocks);
//   2. Dovecot's own dotlock `dovecot-uidlist.lock` (src/lib/file-dotlock.c rules), so a
//      Dovecot (or its LDA) serving the same tree never assigns a UID we assign:
//        - created atomically with its content "<pid>:<hostname>" (written to a temp file
//          in tmp/, then link(2)ed to the lock name, as Dovecot does without
//          dotlock_use_excl), so it is never seen empty;
//        - an existing lock is stale and overridden when its PID is on this host and no
//          longer runs, or when it has not changed for 120 s
//          (MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT);
//        - we wait up to 122 s for it (Dovecot's timeout), polling with a short back-off.
// A lock that cannot be taken is ErrorKind::temp (the client may retry).
#pragma once

#include <string>

#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct DotlockSettings {
  int stale_timeout_s = 120;  // Dovecot: MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT
  int wait_timeout_s = 122;   // Dovecot: stale timeout + 2
};

class UidListLock {
 public:
  UidListLock() = default;
  UidListLock(UidListLock&& o) noexcept;
  UidListLock& operator=(UidListLock&& o) noexcept;
  UidListLock(const UidListLock&) = delete;
  UidListLock& operator=(const UidListLock&) = delete;
  ~UidListLock() { release(); }

  // Takes both locks for the folder `dir` (blocking).
  static StoreResult<UidListLock> acquire(const std::string& dir, const DotlockSettings& settings = {});
  void release();

 private:
  UniqueFd flock_fd_;
  std::string dotlock_path_;  // empty: not holding the dotlock
};

// Creates `lock_path` as a Dovecot dotlock, overriding a stale one. Exposed for tests.
StoreResult<void> take_dotlock(const std::string& lock_path, const DotlockSettings& settings);

}  // namespace mb::store::maildir
