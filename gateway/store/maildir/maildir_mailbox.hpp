// File: gateway/store/maildir/maildir_mailbox.hpp
//
// The shared in-memory state of one Maildir folder (store.hpp's Mailbox), exactly one per
// folder directory in the process (UserContext::registry keeps weak_ptrs; open_mailbox() joins
// an existing one). Mutations and syncs go through one FIFO operation queue: each runs its
// blocking half on the libuv pool (FolderDisk), then applies the result on the loop, assigns
// modseqs, tells every observer (except the origin about its own change) and completes, all
// in the same loop turn. While an operation runs, the loop does not modify the table, which
// is why the pool half may read it. Reads are not queued: they run concurrently, each with a
// cursor from a small per-folder LRU keyed by UID; the file is opened by its exact current
// name (base + flags), and only a name the flags do not predict costs a directory search.
// External changes: inotify (DirWatcher) on new/ and cur/ schedules a debounced (5 ms) sync, unless
// every event names a file our own operations just touched.
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/message_table.hpp"
#include "gateway/store/maildir/wire_reader.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

class MaildirMailbox;
struct UserContext;

// Opens or joins the folder's shared state. Joining one already in memory rescans it first
// (`refresh`), as a fresh open would read the disk; COPY's destination skips that.
void open_mailbox(const std::shared_ptr<UserContext>& user, std::string name,
                  std::function<void(StoreResult<std::shared_ptr<MaildirMailbox>>)> done,
                  bool refresh = true);

// Bits of `names` in the keyword table (case-insensitive, RFC 3501 §2.3.2).
KeywordMask keyword_mask_of(const std::vector<std::string>& table, const std::vector<std::string>& names);

class MaildirMailbox final : public Mailbox, public std::enable_shared_from_this<MaildirMailbox> {
 public:
  MaildirMailbox(std::shared_ptr<UserContext> user, std::string name, std::string dir, bool create);
  ~MaildirMailbox() override;
  MaildirMailbox(const MaildirMailbox&) = delete;
  MaildirMailbox& operator=(const MaildirMailbox&) = delete;

  // Queues the first sync and starts watching the directory.
  void start();
  // `done` runs after every operation queued so far (the first sync included).
  void when_ready(std::function<void(StoreResult<std::shared_ptr<MaildirMailbox>>)> done);
  const std::string& dir() const { return dir_; }
  std::size_t state_memory_bytes() const { return table_.memory_bytes(); }
  // Syncs started by inotify events that were not our own (tests, metrics).
  std::uint64_t event_syncs() const { return event_syncs_; }
  // Syncs that listed the directory (tests, benchmarks); read between operations only.
  std::uint64_t disk_listings() const { return disk_.listings(); }
  // The folder was deleted or renamed under the sessions holding this state: every further
  // operation fails with ErrorKind::not_found (IMAP [NONEXISTENT]) and nothing more is
  // written to the old directory; the next open of the name builds a fresh state.
  void mark_gone();
  // Messages recent for the next claim_recent() caller (STATUS RECENT).
  std::uint32_t recent_count() const;

  const std::string& name() const override { return name_; }
  std::uint32_t uidvalidity() const override { return uidvalidity_; }
  Uid uidnext() const override { return uidnext_; }
  ModSeq highest_modseq() const override { return modseq_; }
  std::span<const MessageInfo> messages() const override { return table_.infos(); }
  const MessageInfo* find(Uid uid) const override;
  const std::vector<std::string>& keywords() const override { return keywords_; }
  void add_observer(MailboxObserver* observer) override;
  void remove_observer(MailboxObserver* observer) override;
  Uid claim_recent() override;
  Uid first_recent() const override { return recent_from_; }
  void rescan(std::function<void(StoreResult<void>)> done) override;
  void append(AppendRequest request, MailboxObserver* origin,
              std::function<void(StoreResult<Uid>)> done) override;
  void store_flags(std::vector<Uid> uids, FlagOp op, FlagSet flags, std::vector<std::string> keywords,
                   MailboxObserver* origin,
                   std::function<void(StoreResult<std::vector<Change>>)> done) override;
  void expunge(std::vector<Uid> uids, MailboxObserver* origin,
               std::function<void(StoreResult<std::vector<Uid>>)> done) override;
  void copy(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
            std::function<void(StoreResult<CopyResult>)> done) override;
  void move(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
            std::function<void(StoreResult<CopyResult>)> done) override;
  void read(Uid uid, std::uint64_t offset, std::size_t max_len,
            std::function<void(StoreResult<std::string>)> done) override;
  std::optional<StoreResult<ReadNow>> read_now(Uid uid, std::uint64_t offset, std::size_t max_len, char* dst,
                                               char line_escape) override;  // mailbox_read.cpp
  std::unique_ptr<proto::BodySource> open_body_now(Uid uid, std::uint64_t offset,
                                                   char line_escape) override;  // mailbox_read.cpp
  std::optional<std::string_view> cache_get(Uid uid, CacheField field) const override;
  void cache_put(Uid uid, CacheField field, std::string value) override;
  void load_cache(std::function<void()> done) override;  // mailbox_copy.cpp
  // The persisted cache has been read (tests: an IDLE session must not load it).
  bool cache_loaded() const { return cache_state_ == CacheState::loaded; }

  // A source message for copy_in: its file and what the copy keeps.
  struct CopySource {
    Uid uid;
    std::string dir;
    std::string base;
    FlagSet flags;
    KeywordMask mask;
    std::vector<std::string> keyword_names;
    std::int64_t internal_date;
  };
  void copy_in(std::vector<CopySource> sources, std::function<void(StoreResult<CopyResult>)> done);

 private:
  struct Own {
    MailboxObserver* origin = nullptr;
    Change::Kind kind = Change::Kind::appended;
    std::vector<Uid> uids;  // the origin's own changes (not echoed back to it)
  };
  void enqueue(std::function<void()> work, std::function<void()> apply);
  void run_next();
  std::vector<Change> apply_sync(SyncOutcome&& outcome);
  // Incremental updates (no listing): our own new files with the UIDs commit_new() gave them;
  // files we removed.
  std::vector<Change> apply_commit(const std::vector<SavedFile>& files, CommitOutcome&& commit);
  std::vector<Change> apply_removed(const std::vector<Uid>& uids);
  void notify(const std::vector<Change>& changes, const Own& own);
  // Raises the on-disk modseq ceiling (modseq_file.hpp) to cover `changes` more; pool half.
  void reserve_modseqs(std::size_t changes);
  void schedule_rescan();
  // Directory-entry watches through the registry's DirWatcher (dir_watcher.hpp).
  void watch(const std::string& sub, int& token, bool quiet);
  void unwatch();
  void save_cache();  // mailbox_copy.cpp, with copy/move and the cache accessors
  // Queues the read of the persisted cache (cache_state_ unloaded -> loading).
  void start_cache_load();
  void save_recent();

  std::shared_ptr<UserContext> user_;
  uv_loop_t* loop_;
  std::string name_;
  std::string dir_;
  FolderDisk disk_;  // pool half; used by one queued operation at a time
  MessageTable table_;
  std::uint32_t uidvalidity_ = 0;
  Uid uidnext_ = 1;
  ModSeq modseq_ = 1;
  ModSeq reserved_ = 0;  // modseq ceiling on disk (written and read by pool halves only)
  bool marked_unclean_ = false;  // the file says "unclean" with reserved_ (we wrote it)
  bool snapshot_due_ = false;    // clean but in an old format: rewrite it at close
  bool unclean_requested_ = false;  // loop side: the background reservation is queued
  // First UID not yet claimed by any session; persisted in mailbridge-recent so messages
  // appended while no session had the folder open stay \Recent for the next one.
  Uid recent_from_ = 0;
  bool started_ = false;
  std::optional<Error> failed_;
  std::vector<std::string> keywords_;
  std::vector<MailboxObserver*> observers_;
  std::deque<std::pair<std::function<void()>, std::function<void()>>> queue_;
  bool busy_ = false;
  int watch_new_ = 0;  // DirWatcher tokens (<= 0: not watching)
  int watch_cur_ = 0;
  uv_timer_t* debounce_ = nullptr;
  bool rescan_pending_ = false;
  int deferrals_ = 0;
  std::uint64_t event_syncs_ = 0;
  std::vector<std::string> pending_events_;           // names from DirWatcher since the last timer
  std::unordered_multiset<std::string> own_events_;  // names our own operations touched
  // Idle read cursors, least recently used first. A read takes one out (so sessions reading
  // different messages of this folder at once each keep their own open file and position,
  // and the mutex is held only to pick), and puts it back when done.
  struct ReadState {
    static constexpr std::size_t kMaxIdle = 8;
    std::mutex mutex;
    std::vector<std::unique_ptr<WireCursor>> idle;
  };
  std::shared_ptr<ReadState> read_state_ = std::make_shared<ReadState>();
  std::unique_ptr<WireCursor> cursor_now(std::size_t index, Uid uid, std::uint64_t offset);  // mailbox_read.cpp
  // The per-message cache: entries put in this process, plus (once loaded) the persisted
  // ones. Loaded lazily (load_cache): unloaded -> loading (a queued read) -> loaded.
  enum class CacheState : std::uint8_t { unloaded, loading, loaded };
  CacheState cache_state_ = CacheState::unloaded;
  std::vector<std::function<void()>> cache_waiters_;  // load_cache callers during loading
  std::map<Uid, std::string> cache_;
  std::vector<Uid> cache_new_;           // put since the last write: appended by the next one
  std::size_t cache_file_records_ = 0;   // records in the file, live and dead (loaded state)
  bool cache_rewrite_ = false;           // damaged tail or failed append: next write is whole
  bool cache_dirty_ = false;
  bool cache_write_queued_ = false;
};

}  // namespace mb::store::maildir
