// File: gateway/store/maildir/maildir_mailbox.cpp
#include "gateway/store/maildir/maildir_mailbox.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gateway/log/log.hpp"
#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/mailbox_name.hpp"
#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/modseq_file.hpp"
#include "gateway/store/maildir/user_context.hpp"
#include "gateway/uv/work.hpp"

namespace mb::store::maildir {
namespace {

constexpr std::uint64_t kDebounceMs = 5;
constexpr std::size_t kMaxOwnEvents = 10000;
constexpr int kMaxDeferrals = 40;  // x kDebounceMs
constexpr const char* kRecentFile = "mailbridge-recent";

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// libuv's UV_HANDLE_CLOSED bit (src/uv-common.h, stable across 1.x): the close has completed.
constexpr unsigned kUvHandleClosed = 0x00000002;

// Closes and frees a handle we allocated. At shutdown mb::uv::Loop::close() may already have
// closed it (its sweep calls uv_close(h, nullptr) on every handle left open, then runs the loop
// until the closes complete); a second uv_close() aborts. Then the memory is ours to free once
// the close has completed; should the sweep's close still be pending, the few bytes are left
// rather than freed under libuv.
template <class T>
void close_handle(T*& h) {
  if (!h) return;
  auto* base = reinterpret_cast<uv_handle_t*>(h);
  base->data = nullptr;
  if (uv_is_closing(base) == 0) {
    uv_close(base, [](uv_handle_t* p) { delete reinterpret_cast<T*>(p); });
  } else if ((base->flags & kUvHandleClosed) != 0) {
    delete h;
  }
  h = nullptr;
}

}  // namespace

KeywordMask keyword_mask_of(const std::vector<std::string>& table, const std::vector<std::string>& names) {
  KeywordMask m = 0;
  for (const auto& n : names)
    for (std::size_t i = 0; i < table.size() && i < kMaxKeywords; ++i)
      if (!table[i].empty() && ieq(table[i], n)) m |= 1u << i;
  return m;
}

void open_mailbox(const std::shared_ptr<UserContext>& user, std::string name,
                  std::function<void(StoreResult<std::shared_ptr<MaildirMailbox>>)> done, bool refresh) {
  auto norm = normalize_mailbox_name(name);
  if (!norm) {
    Error e = norm.error();
    detail::post(user->loop, [done = std::move(done), e] { done(mb::unexpected(e)); });
    return;
  }
  std::string dir = user->folder_dir(*norm);
  auto& slot = user->registry->by_dir[dir];
  std::shared_ptr<MaildirMailbox> mb = slot.lock();
  if (!mb) {
    mb = std::make_shared<MaildirMailbox>(user, *norm, dir, *norm == "INBOX");
    slot = mb;
    mb->start();
  } else if (refresh) {
    // Joining a live (perhaps lingering) mailbox: bring it up to date first, as a fresh open
    // would be. Usually FolderDisk's fast path: a few stats, no listing.
    mb->rescan([](StoreResult<void>) {});
  }
  std::weak_ptr<MailboxRegistry> registry = user->registry;
  mb->when_ready([registry, done = std::move(done)](StoreResult<std::shared_ptr<MaildirMailbox>> r) {
    if (r) {
      if (auto reg = registry.lock()) reg->linger(*r);
    }
    done(std::move(r));
  });
}

MaildirMailbox::MaildirMailbox(std::shared_ptr<UserContext> user, std::string name, std::string dir,
                               bool create)
    : user_(std::move(user)),
      loop_(user_->loop),
      name_(std::move(name)),
      dir_(dir),
      disk_(std::move(dir), user_->fsync, create) {
  disk_.set_uidvalidity_root(user_->root);
  disk_.set_fsync_flags(user_->fsync_flags);
}

MaildirMailbox::~MaildirMailbox() {
  // A clean snapshot of the modseqs (modseq_file.hpp), written after we are gone; if it never
  // lands (loop closing, killed), the file stays "unclean" and the next open uses the ceiling.
  // Not when the file is still the clean snapshot we opened with (no change since): it is
  // current, and rewriting it would cost a write of every message at every close.
  if (started_ && !failed_ && reserved_ != 0 && (marked_unclean_ || snapshot_due_)) {
    std::vector<MessageInfo> infos(table_.infos().begin(), table_.infos().end());
    (void)mb::uv::queue_work(
        loop_,
        [dir = dir_, ceiling = reserved_, highest = modseq_, infos = std::move(infos), fsync = user_->fsync] {
          (void)write_modseq_snapshot(dir, ceiling, highest, infos, fsync);
        },
        [](bool) {});
  }
  unwatch();
  close_handle(debounce_);
  auto it = user_->registry->by_dir.find(dir_);
  if (it != user_->registry->by_dir.end() && it->second.expired()) user_->registry->by_dir.erase(it);
}

void MaildirMailbox::start() {
  // Watch before the first sync reads the directory: a change made while it runs then
  // causes a rescan after it (see schedule_rescan) instead of going unnoticed. A folder
  // still to be created is watched once the sync made it.
  watch("new", watch_new_, /*quiet=*/true);
  watch("cur", watch_cur_, /*quiet=*/true);
  auto outcome = std::make_shared<StoreResult<SyncOutcome>>();
  auto stored_recent = std::make_shared<Uid>(0);
  auto base_modseq = std::make_shared<ModSeq>(1);
  enqueue(
      [this, outcome, stored_recent, base_modseq] {
        *outcome = disk_.sync(table_, uidvalidity_, uidnext_);
        if (*outcome) {
          // Modseqs from the last run (modseq_file.hpp), then a reservation that marks the
          // file in use before any change can be shown.
          auto file = read_modseq_file(dir_);
          if (!file && !(*outcome)->table.infos().empty() && ::access((dir_ + "/" + kModseqFile).c_str(), F_OK) == 0)
            mb::log::error("store: {}: {} unreadable; modification sequences start again", dir_, kModseqFile);
          *base_modseq = restore_modseqs(file, (*outcome)->table);
          modseq_ = *base_modseq;
          if (file && file->clean && *base_modseq == std::max<ModSeq>(file->highest, 1)) {
            // What we show is exactly the clean snapshot, already durable: nothing to write
            // now (a kill leaves the same file, which gives the same modseqs again). The
            // first change marks the file unclean before it is shown (reserve_modseqs).
            reserved_ = file->ceiling;
            // An earlier version's text snapshot: replaced by the binary one at close.
            snapshot_due_ = file->text_snapshot;
          } else {
            // Killed last time (every message shows the ceiling: the next unclean open must
            // show more), changed while closed (modseqs above the snapshot's highest), or no
            // file: the reservation lands before anything is shown.
            reserve_modseqs((*outcome)->table.size() + 1);
          }
        }
        if (*outcome) {
          auto t = read_whole_file(dir_ + "/" + kRecentFile);
          if (t && *t) *stored_recent = static_cast<Uid>(std::strtoul((*t)->c_str(), nullptr, 10));
        }
      },
      [this, outcome, stored_recent, base_modseq] {
        if (!*outcome) {
          failed_ = outcome->error();
          auto it = user_->registry->by_dir.find(dir_);
          if (it != user_->registry->by_dir.end() && it->second.lock().get() == this)
            user_->registry->by_dir.erase(it);
          return;
        }
        Uid from_new = (*outcome)->first_from_new;
        modseq_ = *base_modseq;
        apply_sync(std::move(**outcome));
        // RFC 3501 §2.3.2: recent = arrived since the last session claimed. Without a record
        // (a tree we have not opened before), what is still in new/ is recent.
        recent_from_ = from_new != 0 ? from_new : uidnext_;
        if (*stored_recent != 0) recent_from_ = std::min(recent_from_, *stored_recent);
        if (recent_from_ != *stored_recent) save_recent();
        started_ = true;
        // The per-message cache (mailbridge-cache) is read on demand: load_cache().
        if (watch_new_ <= 0) watch("new", watch_new_, false);
        if (watch_cur_ <= 0) watch("cur", watch_cur_, false);
      });
}

void MaildirMailbox::watch(const std::string& sub, int& token, bool quiet) {
  std::string path = dir_ + "/" + sub;
  // The watcher outlives this object (the registry is held through user_); the token is
  // removed in the destructor, so the callback never sees a dead `this`.
  token = user_->registry->watcher().add(path, [this](std::string_view filename) {
    // An empty name (overflow, directory gone) matches nothing we did: rescan.
    pending_events_.emplace_back(filename);
    schedule_rescan();
  });
  if (token <= 0 && !quiet) {
    mb::log::warn("store: cannot watch {}: {}; changes by others are seen on rescan only", path,
                  std::strerror(-token));
  }
}

void MaildirMailbox::unwatch() {
  for (int* t : {&watch_new_, &watch_cur_}) {
    if (*t > 0) user_->registry->watcher().remove(*t);
    *t = 0;
  }
}

void MaildirMailbox::schedule_rescan() {
  if (rescan_pending_) return;
  rescan_pending_ = true;
  if (!debounce_) {
    debounce_ = new uv_timer_t{};
    uv_timer_init(loop_, debounce_);
    uv_unref(reinterpret_cast<uv_handle_t*>(debounce_));
    debounce_->data = this;
  }
  uv_timer_start(
      debounce_,
      [](uv_timer_t* t) {
        auto* self = static_cast<MaildirMailbox*>(t->data);
        if (!self) return;
        // An operation still running may be the cause: decide when it has completed (and
        // recorded its names), but do not wait forever under constant load.
        if (self->busy_ && ++self->deferrals_ < kMaxDeferrals) {
          uv_timer_start(t, t->timer_cb, kDebounceMs, 0);
          return;
        }
        self->deferrals_ = 0;
        self->rescan_pending_ = false;
        // Events caused by our own operations (recorded when they completed) need no sync;
        // anything else does. An own event seen before its operation completed costs one
        // needless rescan, never a missed change.
        bool foreign = false;
        for (const auto& name : self->pending_events_) {
          auto it = name.empty() ? self->own_events_.end() : self->own_events_.find(name);
          if (it != self->own_events_.end()) self->own_events_.erase(it);
          else foreign = true;
        }
        self->pending_events_.clear();
        if (foreign) {
          ++self->event_syncs_;
          self->rescan([](StoreResult<void>) {});
        }
      },
      kDebounceMs, 0);
}

void MaildirMailbox::mark_gone() {
  failed_ = Error{ErrorKind::not_found, "Mailbox was deleted or renamed", dir_ + ": gone under open sessions"};
  unwatch();
  auto it = user_->registry->by_dir.find(dir_);
  if (it != user_->registry->by_dir.end() && it->second.lock().get() == this) user_->registry->by_dir.erase(it);
}

void MaildirMailbox::reserve_modseqs(std::size_t changes) {
  // Pool half of an operation (the loop does not touch modseq_ meanwhile): the ceiling on
  // disk must cover every modseq the apply half may assign before it assigns them.
  // A clean file (opened without a write) is marked unclean by the first change, even when
  // its ceiling covers it: after a kill the snapshot's flags would no longer match, and the
  // messages changed since would all show one and the same modseq again.
  if (changes == 0) return;
  if (marked_unclean_ && modseq_ + changes + 1 <= reserved_) return;
  reserved_ = std::max(reserved_, modseq_ + changes + 1 + kModseqReserve);
  if (write_modseq_reservation(dir_, reserved_, user_->fsync))
    marked_unclean_ = true;
  else
    mb::log::warn("store: {}: cannot write {}: {}", dir_, kModseqFile, std::strerror(errno));
}

void MaildirMailbox::when_ready(std::function<void(StoreResult<std::shared_ptr<MaildirMailbox>>)> done) {
  auto self = shared_from_this();
  enqueue(nullptr, [self, done = std::move(done)] {
    if (self->failed_) done(mb::unexpected(*self->failed_));
    else done(self);
  });
}

void MaildirMailbox::enqueue(std::function<void()> work, std::function<void()> apply) {
  queue_.emplace_back(std::move(work), std::move(apply));
  if (!busy_) run_next();
}

void MaildirMailbox::run_next() {
  if (queue_.empty()) {
    busy_ = false;
    return;
  }
  busy_ = true;
  auto op = std::move(queue_.front());
  queue_.pop_front();
  auto self = shared_from_this();
  // A failed first sync fails every queued operation without touching the disk.
  std::function<void()> work = failed_ ? nullptr : std::move(op.first);
  int rc = mb::uv::queue_work(loop_, std::move(work), [self, apply = std::move(op.second)](bool ran) {
    // Cancelled at loop teardown: the disk half did not run; fail instead of applying
    // an empty result.
    if (!ran && !self->failed_)
      self->failed_ = Error{ErrorKind::temp, "Mail store is shutting down", "operation cancelled"};
    for (auto& n : self->disk_.take_touched()) self->own_events_.insert(std::move(n));
    if (self->own_events_.size() > kMaxOwnEvents) self->own_events_.clear();  // events lost: forget
    apply();
    self->run_next();
  });
  if (rc != 0) busy_ = false;  // loop closing: nothing more will run
}

const MessageInfo* MaildirMailbox::find(Uid uid) const {
  std::size_t i = table_.index_of(uid);
  return i == MessageTable::npos ? nullptr : &table_.infos()[i];
}

void MaildirMailbox::add_observer(MailboxObserver* observer) {
  if (std::find(observers_.begin(), observers_.end(), observer) == observers_.end())
    observers_.push_back(observer);
  // A session is here, so changes are likely: mark the modseq file unclean now, in the
  // background (an open that found it clean wrote nothing), so that the first APPEND or
  // STORE does not wait for that write. Queued, so it still lands before any change.
  if (!unclean_requested_) {
    unclean_requested_ = true;
    enqueue([this] { reserve_modseqs(1); }, [] {});
  }
}

void MaildirMailbox::remove_observer(MailboxObserver* observer) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

std::uint32_t MaildirMailbox::recent_count() const {
  const auto& v = table_.infos();
  auto it = std::lower_bound(v.begin(), v.end(), recent_from_,
                             [](const MessageInfo& m, Uid u) { return m.uid < u; });
  return static_cast<std::uint32_t>(v.end() - it);
}

Uid MaildirMailbox::claim_recent() {
  Uid first = recent_from_;
  recent_from_ = uidnext_;
  if (first != recent_from_) save_recent();
  return first;
}

void MaildirMailbox::save_recent() {
  // Queued like any operation so writes land in order; losing one (crash) only makes a
  // message \Recent once more, which RFC 3501 allows for a new session.
  std::string text = std::to_string(recent_from_) + "\n";
  enqueue(
      [this, text] {
        std::string tmp = dir_ + "/" + kRecentFile + ".mbtmp";
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd || !write_all(fd.get(), text.data(), text.size())) return;
        fd.reset();
        ::rename(tmp.c_str(), (dir_ + "/" + kRecentFile).c_str());
      },
      [] {});
}

std::vector<Change> MaildirMailbox::apply_sync(SyncOutcome&& out) {
  std::vector<Change> changes;
  if (out.unchanged) return changes;  // FolderDisk's fast path: the table is current
  auto& old = table_.infos();
  auto& neu = out.table.infos();
  bool first = !started_;
  std::size_t i = 0, j = 0;
  while (i < old.size() || j < neu.size()) {
    if (j == neu.size() || (i < old.size() && old[i].uid < neu[j].uid)) {
      changes.push_back(Change{Change::Kind::expunged, old[i].uid, ++modseq_});
      ++i;
    } else if (i == old.size() || neu[j].uid < old[i].uid) {
      if (first) {
        if (neu[j].modseq == 0) neu[j].modseq = modseq_;  // else restored by start()
      } else {
        neu[j].modseq = ++modseq_;
        changes.push_back(Change{Change::Kind::appended, neu[j].uid, neu[j].modseq});
      }
      ++j;
    } else {
      if (old[i].flags != neu[j].flags || old[i].keywords != neu[j].keywords) {
        neu[j].modseq = ++modseq_;
        changes.push_back(Change{Change::Kind::flags, neu[j].uid, neu[j].modseq});
      } else {
        neu[j].modseq = old[i].modseq;
      }
      ++i;
      ++j;
    }
  }
  if (started_ && out.uidvalidity != uidvalidity_)
    mb::log::error("store: {}: UIDVALIDITY changed from {} to {}", dir_, uidvalidity_, out.uidvalidity);
  table_ = std::move(out.table);
  uidvalidity_ = out.uidvalidity;
  uidnext_ = out.next_uid;
  keywords_ = std::move(out.keywords);
  for (const auto& c : changes)
    if (c.kind == Change::Kind::expunged) cache_.erase(c.uid);
  return changes;
}

std::vector<Change> MaildirMailbox::apply_commit(const std::vector<SavedFile>& files, CommitOutcome&& commit) {
  std::vector<Change> changes;
  changes.reserve(files.size());
  for (std::size_t k = 0; k < files.size() && k < commit.uids.size(); ++k) {
    MessageInfo m = files[k].info;
    m.uid = commit.uids[k];
    m.modseq = ++modseq_;
    table_.push(m, files[k].base);  // above every UID present: order kept
    changes.push_back(Change{Change::Kind::appended, m.uid, m.modseq});
  }
  uidnext_ = commit.next_uid;
  keywords_ = std::move(commit.keywords);
  return changes;
}

std::vector<Change> MaildirMailbox::apply_removed(const std::vector<Uid>& uids) {
  std::vector<Change> changes;
  std::vector<std::size_t> indexes;
  for (Uid uid : uids) {
    std::size_t i = table_.index_of(uid);
    if (i != MessageTable::npos) indexes.push_back(i);
  }
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  for (std::size_t i : indexes) {
    Uid uid = table_.infos()[i].uid;
    changes.push_back(Change{Change::Kind::expunged, uid, ++modseq_});
    cache_.erase(uid);
  }
  table_.erase_sorted(indexes);
  return changes;
}

void MaildirMailbox::notify(const std::vector<Change>& changes, const Own& own) {
  if (changes.empty()) return;
  std::vector<Change> for_origin;
  if (own.origin) {
    for (const auto& c : changes)
      if (c.kind != own.kind || std::find(own.uids.begin(), own.uids.end(), c.uid) == own.uids.end())
        for_origin.push_back(c);
  }
  auto observers = observers_;
  for (MailboxObserver* o : observers) {
    // An observer may remove others (or itself) from inside its callback.
    if (std::find(observers_.begin(), observers_.end(), o) == observers_.end()) continue;
    if (o == own.origin) {
      if (!for_origin.empty()) o->on_mailbox_changed(for_origin);
    } else {
      o->on_mailbox_changed(changes);
    }
  }
}

void MaildirMailbox::rescan(std::function<void(StoreResult<void>)> done) {
  auto outcome = std::make_shared<StoreResult<SyncOutcome>>();
  enqueue(
      [this, outcome] {
        *outcome = disk_.sync(table_, uidvalidity_, uidnext_);
        if (*outcome && !(*outcome)->unchanged) reserve_modseqs(table_.size() + (*outcome)->table.size());
      },
          [this, outcome, done = std::move(done)] {
            if (failed_) return done(mb::unexpected(*failed_));
            if (!*outcome) return done(mb::unexpected(outcome->error()));
            auto changes = apply_sync(std::move(**outcome));
            notify(changes, Own{});
            done({});
          });
}

}  // namespace mb::store::maildir
