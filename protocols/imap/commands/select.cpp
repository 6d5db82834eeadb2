// File: protocols/imap/commands/select.cpp
//
// Entering and leaving the selected state: SELECT, EXAMINE (RFC 3501 §6.3.1-2), CLOSE
// (§6.4.2, silent expunge), UNSELECT (RFC 3691), CHECK (§6.4.1), EXPUNGE (§6.4.3) and
// UID EXPUNGE (RFC 4315 §2.1).
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

namespace {

void send_select_data(ImapSession& s, bool read_only) {
  store::Mailbox& mb = s.mailbox();
  SelectedView& view = s.view();
  std::string& out = s.out();
  const auto& keywords = mb.keywords();
  out += "* FLAGS ";
  append_mailbox_flags(out, keywords);
  out += "\r\n* OK [PERMANENTFLAGS ";
  if (read_only) {
    out += "()";
  } else {
    std::string flags;
    append_mailbox_flags(flags, keywords);
    flags.insert(flags.size() - 1, " \\*");
    out += flags;
  }
  out += "] Flags permitted\r\n* ";
  append_number(out, view.exists());
  out += " EXISTS\r\n* ";
  append_number(out, view.recent_count());
  out += " RECENT\r\n";
  // RFC 3501 §6.3.1: [UNSEEN n] is the first unseen message's sequence number.
  std::uint32_t seq = 0;
  for (const auto& m : mb.messages()) {
    ++seq;
    if ((m.flags & store::kSeen) == 0) {
      out += "* OK [UNSEEN ";
      append_number(out, seq);
      out += "] First unseen\r\n";
      break;
    }
  }
  out += "* OK [UIDVALIDITY ";
  append_number(out, mb.uidvalidity());
  out += "] UIDs valid\r\n* OK [UIDNEXT ";
  append_number(out, mb.uidnext());
  out += "] Predicted next UID\r\n";
}

// UIDs in the view whose message has \Deleted (optionally limited to `only`, ascending).
std::vector<store::Uid> deleted_uids(ImapSession& s, const std::vector<store::Uid>* only) {
  std::vector<store::Uid> out;
  store::Mailbox& mb = s.mailbox();
  if (only != nullptr) {
    for (store::Uid uid : *only) {
      const auto* info = mb.find(uid);
      if (info != nullptr && (info->flags & store::kDeleted) != 0) out.push_back(uid);
    }
    return out;
  }
  for (const auto& m : mb.messages()) {
    if ((m.flags & store::kDeleted) != 0 && s.view().seq_of(m.uid) != 0) out.push_back(m.uid);
  }
  return out;
}

}  // namespace

void select(ImapSession& s, Command& c) {
  bool read_only = c.name == CommandName::examine;
  auto& args = c.get<MailboxArgs>();
  // RFC 3501 §6.3.1: a SELECT first deselects the current mailbox, even if it then fails.
  // RFC 7162 §3.2.11 [CLOSED] tells the client where the old mailbox's responses end.
  if (s.state() == State::selected) {
    s.deselect();
    s.out() += "* OK [CLOSED] Previous mailbox closed\r\n";
  }
  auto name = s.to_store_name(args.mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  s.begin_async();
  s.user_store().open(
      std::move(*name), s.guarded([&s, read_only](store::StoreResult<store::MailboxPtr> r) {
        if (!r) {
          s.finish_error(r.error());
          return;
        }
        // open() has just synchronised with the disk (new/ -> cur/); later outside
        // changes arrive through the store's watcher or the NOOP/IDLE rescan.
        s.select_mailbox(std::move(*r), read_only);
        send_select_data(s, read_only);
        s.finish("OK", read_only ? "[READ-ONLY] Examine completed" : "[READ-WRITE] Select completed");
      }));
}

void unselect(ImapSession& s, Command&) {
  s.deselect();
  s.finish("OK", "Unselect completed");
}

void close(ImapSession& s, Command&) {
  if (s.read_only()) {
    s.deselect();
    s.finish("OK", "Close completed");
    return;
  }
  auto uids = deleted_uids(s, nullptr);
  if (uids.empty()) {
    s.deselect();
    s.finish("OK", "Close completed");
    return;
  }
  // RFC 3501 §6.4.2: expunge silently (no EXPUNGE responses), then leave.
  s.begin_async();
  s.mailbox().expunge(std::move(uids), &s,
                      s.guarded([&s](store::StoreResult<std::vector<store::Uid>>) {
                        s.deselect();
                        s.finish("OK", "Close completed");
                      }));
}

void check(ImapSession& s, Command& c) { noop(s, c); }

void expunge(ImapSession& s, Command& c) {
  if (s.read_only()) {
    s.finish("NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  std::vector<store::Uid> uids;
  auto& args = c.get<ExpungeArgs>();
  if (args.uid_set) {
    auto in_set = resolve_set(s, *args.uid_set, true, nullptr);
    uids = deleted_uids(s, &in_set);
  } else {
    uids = deleted_uids(s, nullptr);
  }
  if (uids.empty()) {
    s.finish("OK", "Expunge completed");
    return;
  }
  s.begin_async();
  s.mailbox().expunge(std::move(uids), &s,
                      s.guarded([&s](store::StoreResult<std::vector<store::Uid>> r) {
                        if (!r) {
                          s.finish_error(r.error());
                          return;
                        }
                        s.view().expunge_now(s.out(), std::move(*r));
                        s.finish("OK", "Expunge completed");
                      }));
}

}  // namespace mb::imap::cmd
