// File: gateway/store/maildir/mailbox_read.cpp
//
// MaildirMailbox::read: streamed body access by wire-octet range (store.hpp). Kept apart from
// the rest of the mailbox because it is the data path of RETR and FETCH BODY[]: what it costs
// per message is what POP3 downloads and IMAP body fetches cost.
#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/wire_reader.hpp"

namespace mb::store::maildir {

void MaildirMailbox::read(Uid uid, std::uint64_t offset, std::size_t max_len,
                          std::function<void(StoreResult<std::string>)> done) {
  std::size_t i = table_.index_of(uid);
  if (i == MessageTable::npos) {
    detail::post(loop_, [done = std::move(done)] {
      done(mb::unexpected(Error{ErrorKind::expunged, "Message has been expunged", "read"}));
    });
    return;
  }
  const MessageInfo& m = table_.infos()[i];
  auto result = std::make_shared<StoreResult<std::string>>();
  detail::post_work(
      loop_,
      [rs = read_state_, result, uid, offset, max_len, base = std::string(table_.base(i)), flags = m.flags,
       kw = m.keywords, wire = m.size, dir = dir_] {
        // Take the idle cursor of this message that is nearest before `offset`, if any.
        std::unique_ptr<WireCursor> cur;
        {
          std::lock_guard<std::mutex> lock(rs->mutex);
          auto& idle = rs->idle;
          std::size_t best = idle.size();
          for (std::size_t k = idle.size(); k-- > 0;) {
            const WireCursor& w = *idle[k];
            if (w.uid == uid && w.wire_off <= offset && (best == idle.size() || w.wire_off > idle[best]->wire_off))
              best = k;
          }
          if (best != idle.size()) {
            cur = std::move(idle[best]);
            idle.erase(idle.begin() + static_cast<std::ptrdiff_t>(best));
          }
        }
        if (!cur) {
          cur = std::make_unique<WireCursor>();
          // The table's flags give the current name (our own renames update it): open that
          // directly; only a name they do not predict (foreign info letters, a file still
          // in new/) costs a directory search.
          std::string exact = dir + "/cur/";
          exact.append(base).append(info_suffix(flags, kw));
          if (!wire_open(*cur, uid, exact)) {
            FolderDisk finder(dir, false, false);
            auto path = finder.locate(base, flags, kw);
            if (!path) {
              *result = mb::unexpected(Error{ErrorKind::expunged, "Message has been expunged", base});
              return;
            }
            if (auto o = wire_open(*cur, uid, *path); !o) {
              *result = mb::unexpected(o.error());
              return;
            }
          }
        }
        WireCursor& c = *cur;
        if (c.wire_off < offset) {
          if (auto s = wire_read(c, offset - c.wire_off, nullptr); !s) {
            *result = mb::unexpected(s.error());
            return;
          }
        }
        std::string out;
        // One allocation: the wire size is known (,W= or measured at sync).
        out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(max_len, wire > offset ? wire - offset : 0)));
        if (auto r = wire_read(c, max_len, &out); !r) {
          *result = mb::unexpected(r.error());
          return;
        }
        {
          std::lock_guard<std::mutex> lock(rs->mutex);
          auto& idle = rs->idle;
          // Kept also at the end of the file: the caller's last read (empty, at the end) then
          // costs nothing. The least recently used one makes room.
          if (idle.size() >= ReadState::kMaxIdle) idle.erase(idle.begin());
          idle.push_back(std::move(cur));
        }
        *result = std::move(out);
      },
      [result, done = std::move(done)] { done(std::move(*result)); });
}

}  // namespace mb::store::maildir
