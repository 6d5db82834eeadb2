// File: gateway/store/maildir/folder_disk.hpp
//
// The blocking, on-disk half of one Maildir folder (cur/ new/ tmp/, dovecot-uidlist,
// dovecot-keywords). Every method runs on a libuv pool thread; the owning mailbox runs at
// most one mutating method at a time (its operation queue), so FolderDisk needs no locking of
// its own. A MessageTable passed in is the loop's current state, read-only for the call.
//
// UID safety (see uidlist.hpp for the format): new UIDs are only ever assigned inside sync()
// or commit_new(), under UidListLock (our flock plus Dovecot's dotlock), after re-reading
// dovecot-uidlist if it changed on disk. sync() gives them to the files not yet listed, in
// delivery order (time in the name, else mtime; then name), and rewrites the uidlist (temp +
// fsync + rename + fsync dir); commit_new() appends our own new files' records (write +
// fsync). Either way the records are durable before the call returns, i.e. before any
// session can see the UIDs. A crash leaves the old or the new file (or a torn last record,
// which readers ignore); files not yet listed get the next UIDs at the next sync.
// UIDVALIDITY changes only when the uidlist is lost (existed before in this process) or
// unreadable; the reason is logged as an error.
//
// Implemented in folder_disk.cpp (sync, keywords, locate), folder_write.cpp (saves, flag
// renames, unlinks), folder_commit.cpp (commit_new) and folder_snapshot.cpp (the settled
// snapshot and dates cache).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/maildir/message_table.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

struct SyncOutcome {
  MessageTable table;  // everything on disk now, UID ascending; modseq left 0
  std::uint32_t uidvalidity = 0;
  Uid next_uid = 1;
  std::vector<std::string> keywords;
  Uid first_from_new = 0;  // lowest UID of the files found in new/ (0: none)
  // Rescan fast path: nothing changed on disk since the last completed sync; every other
  // field is empty and the caller keeps its state.
  bool unchanged = false;
};

struct FlagUpdate {
  Uid uid = 0;
  FlagSet flags = 0;
  KeywordMask keywords = 0;
};

struct SavedFile {
  std::string base;  // base name of the file now in cur/
  MessageInfo info;  // flags, keywords, wire size and internal date (uid, modseq: 0)
};

// What commit_new() did: the UIDs given to the files, in order, and the next UID after them.
struct CommitOutcome {
  std::vector<Uid> uids;
  Uid next_uid = 1;
  std::vector<std::string> keywords;  // the keyword table now
};

// A message written to tmp/ but not yet fsynced nor in cur/ (write_tmp() -> publish()).
struct PendingSave {
  SavedFile saved;
  UniqueFd fd;
  std::string tmp;  // tmp/<base>
  std::string dst;  // cur/<base>:2,<flags>
  bool fsync = true;
};

class FolderDisk {
 public:
  FolderDisk(std::string dir, bool fsync, bool create_if_missing);
  // Whether set_flags() fsyncs cur/ after its renames (StoreSettings::fsync_flags).
  void set_fsync_flags(bool on) { fsync_flags_ = on; }

  const std::string& dir() const { return dir_; }
  // The user's Maildir root, where the per-user UIDVALIDITY counter lives (default: dir).
  void set_uidvalidity_root(std::string root) { uidvalidity_root_ = std::move(root); }

  // Full synchronisation with the directory (see above).
  StoreResult<SyncOutcome> sync(const MessageTable& current, std::uint32_t uidvalidity, Uid next_uid);

  // Our own new files (save()/save_from_file()) without a listing, as Dovecot saves: under
  // the lock, when dovecot-uidlist is still the file this object last read or wrote (nobody
  // else assigned UIDs since) and new/ has not changed since the last listing (no earlier
  // delivery waits for a UID), gives `files` the UIDs from `next_uid` on, in order, and
  // appends their records to dovecot-uidlist (one write, fsync) before returning. nullopt:
  // one of those conditions failed; the caller runs sync() instead, which gives the files
  // their UIDs with everything else it finds. Crash safety as for sync(): a record is
  // durable before anyone sees its UID; a torn append is ignored by readers (uidlist.hpp)
  // and rewritten by the next sync.
  //
  // before_unlock (optional) runs exactly once, on this thread, on every path: after the
  // records are durable and before the lock is released when they were written, else before
  // returning. APPEND passes "wait for publish()": its file's fsync and rename then overlap
  // the record's write and fsync instead of preceding them (one disk flush less on the path
  // to the EXISTS), and as the rename completes under the lock, no other process's sync can
  // see the record without its file and drop it. A crash between the two leaves a record
  // whose file never came (an expunged UID, never reused) or a file without a record (it
  // gets a UID at the next sync): either way the APPEND was not acknowledged.
  StoreResult<std::optional<CommitOutcome>> commit_new(const std::vector<SavedFile>& files, Uid next_uid,
                                                       std::function<void()> before_unlock = {});
  // A record commit_new() wrote whose file never reached cur/ (publish() failed): counted
  // like a removed file's record, compacted away by the next sync().
  void note_orphan_records(std::size_t n) { stale_records_ += n; }
  // Records of files we removed stay in dovecot-uidlist (readers drop records whose file is
  // gone, as Dovecot's do) until the next sync() rewrites it; remove() counts them here.
  std::size_t stale_records() const { return stale_records_; }

  // Writes a message into tmp/ (CRLF -> LF), fsyncs, sets mtime, renames into cur/ with the
  // flags. The UID comes from the next sync(). Same as write_tmp() + publish() +
  // note_published().
  StoreResult<SavedFile> save(const std::string& message, FlagSet flags, KeywordMask keywords,
                              std::optional<std::int64_t> internal_date);
  // save() in steps: write_tmp() writes tmp/<base> (CRLF -> LF) and sets its mtime (the
  // internal date); publish() fsyncs it, renames it into cur/ and fsyncs cur/; it touches no
  // member, so it may run on another thread while this object does something else (APPEND
  // runs it beside commit_new()); note_published() then records the name as our own event.
  StoreResult<PendingSave> write_tmp(const std::string& message, FlagSet flags, KeywordMask keywords,
                                     std::optional<std::int64_t> internal_date);
  static StoreResult<void> publish(PendingSave& pending);
  void note_published(const PendingSave& pending) { touch(pending.dst); }
  // Hard-links (or copies) an existing message file into this folder's cur/.
  StoreResult<SavedFile> save_from_file(const std::string& path, FlagSet flags, KeywordMask keywords,
                                        std::int64_t internal_date);

  // Renames files to carry new flags; returns the updates that happened (files that vanished
  // are skipped: the next sync reports them expunged).
  StoreResult<std::vector<FlagUpdate>> set_flags(const MessageTable& current,
                                                 const std::vector<FlagUpdate>& wanted);
  // Unlinks the files of these UIDs; returns those now gone (removed by us, or already
  // absent from cur/ and new/). No listing and no uidlist write (see stale_records()).
  StoreResult<std::vector<Uid>> remove(const MessageTable& current, const std::vector<Uid>& uids);

  // Keywords: loads dovecot-keywords (if changed) and returns the table with the names
  // missing from it added (case-insensitive match, RFC 3501 §2.3.2) and persisted. More names
  // than the 26 letters hold: ErrorKind::limit, nothing added (IMAP: NO [LIMIT], RFC 5530).
  StoreResult<std::vector<std::string>> ensure_keywords(const std::vector<std::string>& names);
  const std::vector<std::string>& keywords() const { return keywords_; }

  // Names (in cur/ or new/) this object created, renamed or removed since the last call:
  // the inotify events they cause are our own and need no rescan. Call between operations.
  std::vector<std::string> take_touched();

  // Syncs that listed cur/ (tests and benchmarks: a fast-path rescan does not count).
  std::uint64_t listings() const { return listings_; }

  // Path of the message file for (base, flags), trying cur/ then searching by base.
  std::optional<std::string> locate(std::string_view base, FlagSet flags, KeywordMask keywords) const;

 private:
  StoreResult<void> load_keywords();
  StoreResult<void> write_atomic(const std::string& name, const std::string& content);
  void clean_tmp();
  // A UIDVALIDITY never issued before for any folder of the user: max(now, last + 1,
  // current + 1), recorded (temp + fsync + rename) under a lock before it is returned.
  std::uint32_t next_uidvalidity(std::uint32_t current);
  std::string uidvalidity_root_;
  void touch(const std::string& path);
  std::vector<std::string> touched_;
  std::vector<std::pair<Uid, std::int64_t>> load_dates() const;
  struct FileStamp;
  struct DirStamps {
    std::int64_t cur_ns = 0;
    std::int64_t new_ns = 0;
    bool trusted = false;
    bool operator==(const DirStamps& o) const { return cur_ns == o.cur_ns && new_ns == o.new_ns; }
  };
  DirStamps dir_stamps() const;

  std::string dir_;
  bool fsync_ = true;
  bool fsync_flags_ = false;
  bool create_ = false;
  bool first_sync_ = true;
  bool had_uidlist_ = false;
  bool dates_garbage_ = false;
  struct FileStamp {
    ino_t ino = 0;
    std::int64_t mtime_ns = 0;
    off_t size = -1;
    bool operator==(const FileStamp&) const = default;
  };
  FileStamp uidlist_stamp_{};
  struct IndexStamps {
    FileStamp uidlist;
    DirStamps dirs;
    bool operator==(const IndexStamps&) const = default;
  };
  IndexStamps last_index_{};
  void write_index(const SyncOutcome& out, const FileStamp& uidlist, const DirStamps& dirs);
  // The snapshot if it matches these stamps; old_format: it was an MBIDX001 file.
  std::optional<SyncOutcome> load_index(const FileStamp& uidlist, const DirStamps& dirs, bool& old_format);
  std::optional<SyncOutcome> load_index_v1(int fd, const FileStamp& uidlist, const DirStamps& dirs);
  std::string guid_;
  // Fast path of sync() after the first: cur/, new/, dovecot-uidlist and dovecot-keywords as
  // of the last completed sync. Trusted only when every mtime was > kSettleNs old when taken
  // (as Dovecot's "dirty" rule): a change within the file system's timestamp granularity of
  // the stat might keep the mtime, and a later rescan must not then miss it.
  struct SyncStamps {
    FileStamp cur, fresh, uidlist, keywords;
    bool trusted = false;
    bool same(const SyncStamps& o) const {
      return cur == o.cur && fresh == o.fresh && uidlist == o.uidlist && keywords == o.keywords;
    }
  };
  SyncStamps sync_stamps() const;
  std::optional<SyncStamps> last_sync_;
  std::uint64_t listings_ = 0;
  std::size_t stale_records_ = 0;
  bool uidlist_torn_ = false;  // the file as last read ends in a torn record: rewrite it
  FileStamp new_stamp_{};      // new/ as of the last listing (commit_new's second condition)
  void append_dates(const std::vector<std::pair<Uid, std::int64_t>>& dates);
  FileStamp keywords_stamp_{};
  std::vector<std::string> keywords_;
};

inline constexpr const char* kDates = "mailbridge-dates";
inline constexpr const char* kIndex = "mailbridge-index";
inline std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Wire (CRLF) size of stored bytes: every LF not preceded by CR counts two.
std::uint64_t wire_size_of(std::string_view stored, bool& prev_cr);
// Wire size of a whole file, read once (files without ,W= in the name); nullopt if unreadable.
std::optional<std::uint64_t> wire_size_of_file(const std::string& path);

}  // namespace mb::store::maildir
