// File: gateway/store/maildir/mailbox_copy.cpp
//
// MaildirMailbox's COPY and MOVE (RFC 4315 COPYUID, RFC 6851) and its per-message cache
// (store.hpp CacheField): the parts of the shared mailbox state that reach another folder or
// a side file, apart from its own queue and change handling (maildir_mailbox.cpp). The cache
// file is read only on demand (load_cache: FETCH/SEARCH that need structures), not at open:
// idle sessions then keep no ~1 KB/message of parsed structures in memory (issue #5).
#include <algorithm>
#include <cstdio>
#include <map>

#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"

namespace mb::store::maildir {

void MaildirMailbox::copy(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
                          std::function<void(StoreResult<CopyResult>)> done) {
  (void)origin;  // the destination's observers are all told; the source does not change
  // Capture the sources now, in the caller's order (RFC 4315 COPYUID pairs them).
  std::vector<CopySource> sources;
  for (Uid uid : uids) {
    std::size_t i = table_.index_of(uid);
    if (i == MessageTable::npos) continue;
    const MessageInfo& m = table_.infos()[i];
    CopySource s{uid, dir_, std::string(table_.base(i)), m.flags, m.keywords, {}, m.internal_date};
    for (std::size_t k = 0; k < keywords_.size(); ++k)
      if (m.keywords & (1u << k)) s.keyword_names.push_back(keywords_[k]);
    sources.push_back(std::move(s));
  }
  // No refresh of a destination already in memory: copy_in's commit_new() checks the disk
  // itself and syncs only when something changed behind it.
  open_mailbox(
      user_, std::move(dest_mailbox),
      [sources = std::move(sources), done = std::move(done)](
          StoreResult<std::shared_ptr<MaildirMailbox>> dest) mutable {
        if (!dest) return done(mb::unexpected(dest.error()));
        (*dest)->copy_in(std::move(sources), std::move(done));
      },
      false);
}

void MaildirMailbox::copy_in(std::vector<CopySource> sources,
                             std::function<void(StoreResult<CopyResult>)> done) {
  struct State {
    std::vector<CopySource> sources;
    std::vector<std::pair<Uid, std::string>> saved;  // source uid, new base
    std::vector<SavedFile> files;                    // same order
    std::optional<Error> error;
    StoreResult<std::optional<CommitOutcome>> commit;
    StoreResult<SyncOutcome> outcome;
  };
  auto st = std::make_shared<State>();
  st->sources = std::move(sources);
  enqueue(
      [this, st] {
        for (const auto& s : st->sources) {
          KeywordMask mask = 0;
          if (!s.keyword_names.empty()) {
            auto table = disk_.ensure_keywords(s.keyword_names);
            if (table) mask = keyword_mask_of(*table, s.keyword_names);
          }
          FolderDisk src(s.dir, false, false);
          auto path = src.locate(s.base, s.flags, s.mask);
          if (!path) continue;  // expunged meanwhile: skipped, as for absent UIDs
          auto saved = disk_.save_from_file(*path, s.flags, mask, s.internal_date);
          if (!saved) {
            st->error = saved.error();
            break;
          }
          st->saved.emplace_back(s.uid, saved->base);
          st->files.push_back(std::move(*saved));
        }
        st->commit = disk_.commit_new(st->files, uidnext_);
        if (st->commit && !*st->commit) st->outcome = disk_.sync(table_, uidvalidity_, uidnext_);
        reserve_modseqs(st->files.size() + (st->outcome ? table_.size() + st->outcome->table.size() : 0));
      },
      [this, st, done = std::move(done)] {
        if (failed_) return done(mb::unexpected(*failed_));
        if (!st->commit) return done(mb::unexpected(st->commit.error()));
        if (*st->commit) {
          CopyResult result;
          for (std::size_t k = 0; k < st->saved.size(); ++k) {
            result.source_uids.push_back(st->saved[k].first);
            result.dest_uids.push_back((*st->commit)->uids[k]);
          }
          auto changes = apply_commit(st->files, std::move(**st->commit));
          result.dest_uidvalidity = uidvalidity_;
          notify(changes, Own{});
          if (st->error) return done(mb::unexpected(*st->error));
          return done(std::move(result));
        }
        if (!st->outcome) return done(mb::unexpected(st->outcome.error()));
        CopyResult result;
        const MessageTable& t = st->outcome->table;
        std::map<std::string_view, Uid> by_base;
        for (std::size_t k = 0; k < t.size(); ++k) by_base.emplace(t.base(k), t.infos()[k].uid);
        for (const auto& [src_uid, base] : st->saved) {
          auto it = by_base.find(base);
          if (it == by_base.end()) continue;
          result.source_uids.push_back(src_uid);
          result.dest_uids.push_back(it->second);
        }
        auto changes = apply_sync(std::move(*st->outcome));
        result.dest_uidvalidity = uidvalidity_;
        notify(changes, Own{});
        if (st->error) return done(mb::unexpected(*st->error));
        done(std::move(result));
      });
}

void MaildirMailbox::move(std::vector<Uid> uids, std::string dest_mailbox, MailboxObserver* origin,
                          std::function<void(StoreResult<CopyResult>)> done) {
  auto self = shared_from_this();
  copy(std::move(uids), std::move(dest_mailbox), origin,
       [self, origin, done = std::move(done)](StoreResult<CopyResult> r) mutable {
         if (!r) return done(std::move(r));
         auto src = r->source_uids;
         self->expunge(std::move(src), origin,
                       [r = std::move(*r), done = std::move(done)](StoreResult<std::vector<Uid>> e) mutable {
                         if (!e) return done(mb::unexpected(e.error()));
                         done(std::move(r));
                       });
       });
}

std::optional<std::string_view> MaildirMailbox::cache_get(Uid uid, CacheField field) const {
  if (field != CacheField::mime_structure) return std::nullopt;
  auto it = cache_.find(uid);
  if (it == cache_.end()) return std::nullopt;
  return std::string_view(it->second);
}

void MaildirMailbox::cache_put(Uid uid, CacheField field, std::string value) {
  if (field != CacheField::mime_structure || !find(uid)) return;
  cache_[uid] = std::move(value);
  cache_new_.push_back(uid);
  cache_dirty_ = true;
  if (!cache_write_queued_) save_cache();
  // else: the queued write's completion writes again
}

void MaildirMailbox::load_cache(std::function<void()> done) {
  if (cache_state_ == CacheState::loaded) {
    // Later, as promised (store.hpp): callers continue their state machine in `done`.
    detail::post(loop_, std::move(done));
    return;
  }
  cache_waiters_.push_back(std::move(done));
  if (cache_state_ == CacheState::unloaded) start_cache_load();
}

void MaildirMailbox::start_cache_load() {
  cache_state_ = CacheState::loading;
  // Through the operation queue: ordered with the cache writes (none is queued before the
  // load has completed, see save_cache), and run_next() holds a shared_ptr to us until the
  // loop half has run, so a mailbox released meanwhile stays alive for it.
  auto text = std::make_shared<StoreResult<std::optional<std::string>>>();
  enqueue([this, text] { *text = read_whole_file(dir_ + "/mailbridge-cache"); },
          [this, text] {
            // "uid len\n<bytes>\n" records, appended as entries are put (save_cache): a
            // later record of a UID replaces an earlier one. Entries put since open are newer
            // still and win; UIDs no longer in the table (expunged meanwhile, unknown) are
            // dropped. An unreadable or damaged file loads as far as it parses (it is only a
            // cache) and is rewritten whole at the next save, so nothing is appended after
            // a torn record.
            if (*text && **text) {
              std::string_view t = ***text;
              std::map<Uid, std::string_view> records;
              while (!t.empty()) {
                std::size_t nl = t.find('\n');
                if (nl == std::string_view::npos) break;
                unsigned long uid = 0, len = 0;
                if (std::sscanf(std::string(t.substr(0, nl)).c_str(), "%lu %lu", &uid, &len) != 2) break;
                if (nl + 1 + len + 1 > t.size()) break;
                records[static_cast<Uid>(uid)] = t.substr(nl + 1, len);
                ++cache_file_records_;
                t.remove_prefix(nl + 1 + len + 1);
              }
              if (!t.empty()) cache_rewrite_ = true;
              for (const auto& [uid, value] : records)
                if (find(uid)) cache_.try_emplace(uid, value);
            }
            cache_state_ = CacheState::loaded;
            // A waiter may call load_cache again (answered by a post) or put: both safe here.
            auto waiters = std::move(cache_waiters_);
            cache_waiters_.clear();
            for (auto& w : waiters) w();
            // Puts made before the load: their write was held back until now.
            if (cache_dirty_ && !cache_write_queued_) save_cache();
          });
}

void MaildirMailbox::save_cache() {
  // The file must never lose the persisted entries: an unloaded cache is loaded first, and
  // the load's completion saves.
  if (cache_state_ != CacheState::loaded) {
    if (cache_state_ == CacheState::unloaded) start_cache_load();
    return;
  }
  // Written lazily: one queued write covers every put made before it; a put while it is
  // queued marks the cache dirty and the write's completion queues the next one. Only the
  // entries put since the last write are appended; the file is rewritten whole (compacted)
  // when its dead records (replaced, expunged) would be more than half of it, or after a
  // damaged tail or a failed append.
  cache_write_queued_ = true;
  std::sort(cache_new_.begin(), cache_new_.end());
  cache_new_.erase(std::unique(cache_new_.begin(), cache_new_.end()), cache_new_.end());
  const bool whole = cache_rewrite_ || cache_file_records_ + cache_new_.size() > 2 * cache_.size();
  auto text = std::make_shared<std::string>();
  auto append_record = [&text](Uid uid, const std::string& value) {
    text->append(std::to_string(uid) + " " + std::to_string(value.size()) + "\n");
    text->append(value);
    text->push_back('\n');
  };
  std::size_t records = 0;
  if (whole) {
    for (const auto& [uid, value] : cache_) {
      append_record(uid, value);
      ++records;
    }
    cache_file_records_ = records;
  } else {
    for (Uid uid : cache_new_) {
      auto it = cache_.find(uid);
      if (it == cache_.end()) continue;
      append_record(uid, it->second);
      ++records;
    }
    cache_file_records_ += records;
  }
  cache_new_.clear();
  cache_rewrite_ = false;
  cache_dirty_ = false;
  if (!whole && records == 0) {
    cache_write_queued_ = false;
    return;
  }
  auto failed = std::make_shared<bool>(false);
  enqueue(
      [this, text, whole, failed] {
        const std::string file = dir_ + "/mailbridge-cache";
        if (!whole) {
          UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
          *failed = !fd || !write_all(fd.get(), text->data(), text->size());
          return;
        }
        std::string tmp = dir_ + "/mailbridge-cache.mbtmp";
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd || !write_all(fd.get(), text->data(), text->size())) {
          *failed = true;
          return;
        }
        fd.reset();
        *failed = ::rename(tmp.c_str(), file.c_str()) != 0;
      },
      [this, failed] {
        cache_write_queued_ = false;
        // A failed append may have left a torn record: the next write rewrites the file.
        if (*failed) cache_rewrite_ = true;
        if (cache_dirty_) save_cache();
      });
}

}  // namespace mb::store::maildir
