// File: gateway/store/maildir/folder_commit.cpp
//
// FolderDisk::commit_new(): UIDs for our own new files without listing the folder (see
// folder_disk.hpp). This is what keeps APPEND/COPY/MOVE from costing a directory listing and
// a whole-uidlist rewrite: on a 1,000-message folder that full sync was most of the time
// between an APPEND and the EXISTS every idle session sees.
#include <sys/stat.h>

#include <ctime>
#include <functional>

#include <fmt/format.h>

#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/maildir/uidlist.hpp"
#include "gateway/store/maildir/uidlist_lock.hpp"

namespace mb::store::maildir {

void FolderDisk::append_dates(const std::vector<std::pair<Uid, std::int64_t>>& dates) {
  // A cache (folder_snapshot.cpp): no fsync; a torn last line is skipped by load_dates().
  std::string text;
  for (const auto& [uid, date] : dates) fmt::format_to(std::back_inserter(text), "{} {}\n", uid, date);
  UniqueFd fd(::open((dir_ + "/" + kDates).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd) (void)write_all(fd.get(), text.data(), text.size());
}

namespace {
// Runs the hook once: explicitly before the lock is released, else when leaving (declared
// before the lock, so on an early return it runs after the lock went: no record was
// written then, or the write failed and the APPEND fails).
struct RunOnce {
  explicit RunOnce(std::function<void()>& h) : hook(h) {}
  std::function<void()>& hook;
  void operator()() {
    if (!hook) return;
    auto h = std::move(hook);
    hook = nullptr;
    h();
  }
  ~RunOnce() { (*this)(); }
  RunOnce(const RunOnce&) = delete;
  RunOnce& operator=(const RunOnce&) = delete;
};
}  // namespace

StoreResult<std::optional<CommitOutcome>> FolderDisk::commit_new(const std::vector<SavedFile>& files,
                                                                 Uid next_uid, std::function<void()> before_unlock) {
  RunOnce hook{before_unlock};
  if (first_sync_ || files.empty()) return std::optional<CommitOutcome>();
  auto lock = UidListLock::acquire(dir_);
  if (!lock) return mb::unexpected(lock.error());
  const std::string path = dir_ + "/dovecot-uidlist";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
  if (!fd) return std::optional<CommitOutcome>();  // lost: sync() decides what that means
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return mb::unexpected(errno_error(errno, "fstat " + path));
  // 1. Nobody else (Dovecot, another mailbridge) assigned UIDs since we last read or wrote it.
  if (!(FileStamp{st.st_ino, mtime_ns(st), st.st_size} == uidlist_stamp_)) return std::optional<CommitOutcome>();
  // 2. No delivery is waiting in new/ for a UID (it arrived first, so it must get the lower
  //    one: the next sync would otherwise order it after our file).
  struct stat nst {};
  if (::stat((dir_ + "/new").c_str(), &nst) != 0 ||
      !(FileStamp{nst.st_ino, mtime_ns(nst), nst.st_size} == new_stamp_))
    return std::optional<CommitOutcome>();
  // 3. The file ends with a complete record (appending after a torn one would glue the two).
  char last = 0;
  if (uidlist_torn_ || st.st_size == 0 || ::pread(fd.get(), &last, 1, st.st_size - 1) != 1 || last != '\n') {
    uidlist_torn_ = true;
    return std::optional<CommitOutcome>();
  }

  CommitOutcome out;
  std::string text;
  std::vector<std::pair<Uid, std::int64_t>> dates;
  for (const auto& f : files) {
    Uid uid = next_uid++;
    out.uids.push_back(uid);
    append_uidlist_line(text, uid, f.base, f.info.size);
    dates.emplace_back(uid, f.info.internal_date);
  }
  // One write(2) with O_APPEND: a reader sees the records whole or, after a crash, a torn
  // tail that it ignores. The header's N lags (readers take max(N, last record + 1)).
  if (!write_all(fd.get(), text.data(), text.size())) {
    int err = errno;
    uidlist_torn_ = true;  // perhaps partly written
    return mb::unexpected(errno_error(err, "append " + path));
  }
  if (fsync_ && ::fdatasync(fd.get()) != 0) return mb::unexpected(errno_error(errno, "fsync " + path));
  if (::fstat(fd.get(), &st) == 0) uidlist_stamp_ = FileStamp{st.st_ino, mtime_ns(st), st.st_size};
  fd.reset();
  hook();  // e.g. APPEND's rename into cur/, under the lock (see folder_disk.hpp)
  lock->release();
  append_dates(dates);
  // The sync fast path's stamps (cur/, uidlist) no longer describe the folder; the next
  // rescan lists once and learns them again.
  last_sync_.reset();
  out.next_uid = next_uid;
  out.keywords = keywords_;
  return std::optional<CommitOutcome>(std::move(out));
}

}  // namespace mb::store::maildir
