// File: gateway/store/maildir/mailbox_write.cpp
//
// MaildirMailbox's own changes to a folder: APPEND, STORE (flags, keywords) and EXPUNGE.
// Each runs its disk half on the mailbox's operation queue (a pool thread: FolderDisk), then
// applies the outcome to the shared state on the loop and tells every observer (store.hpp).
// Kept apart from the mailbox's life cycle and rescans (maildir_mailbox.cpp), like the read
// path (mailbox_read.cpp) and COPY/MOVE (mailbox_copy.cpp).
#include <algorithm>
#include <set>

#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/detail/side_task.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"

namespace mb::store::maildir {
namespace {

// Expunged records left in the uidlist before an EXPUNGE rewrites it (at least this many, and
// a quarter of the folder).
constexpr std::size_t kMaxStaleRecords = 256;

}  // namespace

void MaildirMailbox::append(AppendRequest request, MailboxObserver* origin,
                            std::function<void(StoreResult<Uid>)> done) {
  struct State {
    AppendRequest req;
    StoreResult<SavedFile> saved;
    StoreResult<std::optional<CommitOutcome>> commit;  // the usual path: no listing
    StoreResult<SyncOutcome> outcome;                  // when commit_new() declined
    std::optional<Uid> orphan_next;  // UIDs recorded for a file that never reached cur/
  };
  auto st = std::make_shared<State>();
  st->req = std::move(request);
  enqueue(
      [this, st] {
        KeywordMask mask = 0;
        if (!st->req.keywords.empty()) {
          auto table = disk_.ensure_keywords(st->req.keywords);
          if (!table) {
            st->saved = mb::unexpected(table.error());
            return;
          }
          mask = keyword_mask_of(*table, st->req.keywords);
        }
        auto pending = disk_.write_tmp(st->req.message, st->req.flags, mask, st->req.internal_date);
        st->req.message = std::string();
        if (!pending) {
          st->saved = mb::unexpected(pending.error());
          return;
        }
        st->saved = pending->saved;
        // The file's fsync + rename + cur/ fsync on a side thread while this one appends and
        // fsyncs the uidlist record: two disk flushes on the way to the EXISTS instead of
        // three. commit_new() waits for it before unlocking (folder_disk.hpp: why that order
        // is crash safe and safe against other processes' syncs).
        StoreResult<void> published;
        detail::SideTask publisher([&] { published = FolderDisk::publish(*pending); });
        st->commit = disk_.commit_new({*st->saved}, uidnext_, [&] { publisher.join(); });
        publisher.join();
        if (!published) {
          if (st->commit && *st->commit) {
            disk_.note_orphan_records((*st->commit)->uids.size());
            st->orphan_next = (*st->commit)->next_uid;
          }
          st->saved = mb::unexpected(published.error());
          return;
        }
        disk_.note_published(*pending);
        if (st->commit && !*st->commit) st->outcome = disk_.sync(table_, uidvalidity_, uidnext_);
        reserve_modseqs(1 + (st->outcome ? table_.size() + st->outcome->table.size() : 0));
      },
      [this, st, origin, done = std::move(done)] {
        if (failed_) return done(mb::unexpected(*failed_));
        // Never hand out a UID that has a record on disk, even one whose file never came.
        if (st->orphan_next) uidnext_ = std::max(uidnext_, *st->orphan_next);
        if (!st->saved) return done(mb::unexpected(st->saved.error()));
        if (!st->commit) return done(mb::unexpected(st->commit.error()));
        if (*st->commit) {
          Uid uid = (*st->commit)->uids.front();
          auto changes = apply_commit({*st->saved}, std::move(**st->commit));
          notify(changes, Own{origin, Change::Kind::appended, {uid}});
          return done(uid);
        }
        if (!st->outcome) return done(mb::unexpected(st->outcome.error()));
        Uid uid = 0;
        const MessageTable& t = st->outcome->table;
        for (std::size_t k = t.size(); k-- > 0;)
          if (t.base(k) == st->saved->base) {
            uid = t.infos()[k].uid;
            break;
          }
        auto changes = apply_sync(std::move(*st->outcome));
        notify(changes, Own{origin, Change::Kind::appended, {uid}});
        if (uid == 0)
          return done(mb::unexpected(Error{ErrorKind::temp, "Message vanished after saving", dir_}));
        done(uid);
      });
}

void MaildirMailbox::store_flags(std::vector<Uid> uids, FlagOp op, FlagSet flags,
                                 std::vector<std::string> keywords, MailboxObserver* origin,
                                 std::function<void(StoreResult<std::vector<Change>>)> done) {
  struct State {
    std::vector<Uid> uids;
    std::vector<std::string> names;
    StoreResult<std::vector<FlagUpdate>> updates;
    std::vector<std::string> table;
  };
  auto st = std::make_shared<State>();
  st->uids = std::move(uids);
  st->names = std::move(keywords);
  enqueue(
      [this, st, op, flags] {
        auto table = op == FlagOp::remove ? disk_.ensure_keywords({}) : disk_.ensure_keywords(st->names);
        if (!table) {
          st->updates = mb::unexpected(table.error());
          return;
        }
        st->table = *table;
        KeywordMask mask = keyword_mask_of(st->table, st->names);
        std::vector<FlagUpdate> wanted;
        for (Uid uid : st->uids) {
          std::size_t i = table_.index_of(uid);
          if (i == MessageTable::npos) continue;
          const MessageInfo& m = table_.infos()[i];
          FlagUpdate u{uid, m.flags, m.keywords};
          switch (op) {
            case FlagOp::add: u.flags |= flags; u.keywords |= mask; break;
            case FlagOp::remove:
              u.flags = static_cast<FlagSet>(u.flags & ~flags);
              u.keywords &= ~mask;
              break;
            case FlagOp::replace: u.flags = flags; u.keywords = mask; break;
          }
          wanted.push_back(u);
        }
        st->updates = disk_.set_flags(table_, wanted);
        if (st->updates) reserve_modseqs(st->updates->size());
      },
      [this, st, origin, done = std::move(done)] {
        if (failed_) return done(mb::unexpected(*failed_));
        if (!st->updates) return done(mb::unexpected(st->updates.error()));
        keywords_ = st->table;
        std::vector<Change> changes;
        Own own{origin, Change::Kind::flags, {}};
        for (const auto& u : *st->updates) {
          std::size_t i = table_.index_of(u.uid);
          if (i == MessageTable::npos) continue;
          MessageInfo& m = table_.infos()[i];
          m.flags = u.flags;
          m.keywords = u.keywords;
          m.modseq = ++modseq_;
          changes.push_back(Change{Change::Kind::flags, u.uid, m.modseq});
          own.uids.push_back(u.uid);
        }
        notify(changes, own);
        done(std::move(changes));
      });
}

void MaildirMailbox::expunge(std::vector<Uid> uids, MailboxObserver* origin,
                             std::function<void(StoreResult<std::vector<Uid>>)> done) {
  struct State {
    std::vector<Uid> uids;
    StoreResult<std::vector<Uid>> removed;
    std::optional<StoreResult<SyncOutcome>> outcome;  // only to compact the uidlist
  };
  auto st = std::make_shared<State>();
  st->uids = std::move(uids);
  enqueue(
      [this, st] {
        st->removed = disk_.remove(table_, st->uids);
        // Usually no listing: the files are gone and their records wait in dovecot-uidlist
        // for the next sync; once they are a quarter of it, compact now (as Dovecot does).
        if (st->removed && disk_.stale_records() > std::max<std::size_t>(kMaxStaleRecords, table_.size() / 4))
          st->outcome = disk_.sync(table_, uidvalidity_, uidnext_);
        if (st->removed)
          reserve_modseqs(st->removed->size() +
                          (st->outcome && *st->outcome ? table_.size() + (*st->outcome)->table.size() : 0));
      },
      [this, st, origin, done = std::move(done)] {
        if (failed_) return done(mb::unexpected(*failed_));
        if (!st->removed) return done(mb::unexpected(st->removed.error()));
        if (!st->outcome) {
          auto changes = apply_removed(*st->removed);
          std::vector<Uid> gone;
          for (const auto& c : changes) gone.push_back(c.uid);
          notify(changes, Own{origin, Change::Kind::expunged, gone});
          return done(std::move(gone));
        }
        if (!*st->outcome) return done(mb::unexpected(st->outcome->error()));
        auto changes = apply_sync(std::move(**st->outcome));
        std::set<Uid> wanted(st->uids.begin(), st->uids.end());
        std::vector<Uid> gone;
        for (const auto& c : changes)
          if (c.kind == Change::Kind::expunged && wanted.count(c.uid)) gone.push_back(c.uid);
        notify(changes, Own{origin, Change::Kind::expunged, gone});
        done(std::move(gone));
      });
}

}  // namespace mb::store::maildir
