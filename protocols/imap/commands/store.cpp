// File: protocols/imap/commands/store.cpp
//
// Changing messages of the selected mailbox: STORE / UID STORE (RFC 3501 §6.4.6, FLAGS,
// +FLAGS, -FLAGS, .SILENT), COPY / UID COPY (§6.4.7, RFC 4315 COPYUID) and MOVE / UID MOVE
// (RFC 6851: COPYUID in an untagged OK, then EXPUNGE responses, then the tagged OK).
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

namespace {

// "1:3,7" from UIDs in the given order (runs of consecutive ascending values collapse).
void append_uid_set(std::string& out, const std::vector<store::Uid>& uids) {
  std::size_t i = 0;
  bool first = true;
  while (i < uids.size()) {
    std::size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!first) out += ',';
    first = false;
    append_number(out, uids[i]);
    if (j > i) {
      out += ':';
      append_number(out, uids[j]);
    }
    i = j + 1;
  }
}

std::string copyuid_code(const store::CopyResult& r) {
  std::string text = "[COPYUID ";
  append_number(text, r.dest_uidvalidity);
  text += ' ';
  append_uid_set(text, r.source_uids);
  text += ' ';
  append_uid_set(text, r.dest_uids);
  text += ']';
  return text;
}

}  // namespace

void store(ImapSession& s, Command& c) {
  auto& args = c.get<StoreArgs>();
  if (s.read_only()) {
    s.finish("NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  bool bad = false;
  auto uids = resolve_set(s, args.set, c.uid, &bad);
  if (bad) {
    s.finish("BAD", "Invalid message sequence number");
    return;
  }
  store::FlagSet flags = 0;
  std::vector<std::string> keywords;
  if (!split_flags(args.flags, flags, keywords)) {
    s.finish("BAD", "Invalid flag in STORE");
    return;
  }
  store::Mailbox& mb = s.mailbox();
  bool missing = false;
  std::erase_if(uids, [&](store::Uid u) {
    bool gone = mb.find(u) == nullptr;
    missing = missing || gone;
    return gone;
  });
  // RFC 2180 §4.2.1: a STORE that names a message another session expunged (not yet
  // reported here) may succeed and ignore it. We do, as Dovecot does: NO would make clients
  // (and imaptest) treat a normal race as a failure. FETCH still answers NO [EXPUNGEISSUED].
  if (uids.empty()) {
    s.finish("OK", missing ? "Store completed (expunged messages ignored)" : "Store completed");
    return;
  }
  store::FlagOp op = args.mode == StoreMode::add      ? store::FlagOp::add
                     : args.mode == StoreMode::remove ? store::FlagOp::remove
                                                      : store::FlagOp::replace;
  bool silent = args.silent;
  bool with_uid = c.uid;
  s.begin_async();
  // The list is needed again for the responses; the store gets its own copy.
  std::vector<store::Uid> request = uids;
  mb.store_flags(
      std::move(request), op, flags, std::move(keywords), &s,
      s.guarded([&s, uids = std::move(uids), silent, with_uid,
                 missing](store::StoreResult<std::vector<store::Change>> r) {
        if (!r) {
          s.finish_error(r.error());
          return;
        }
        store::Mailbox& m = s.mailbox();
        const auto& table = m.keywords();
        std::string& out = s.out();
        // RFC 3501 §6.4.6: FETCH FLAGS for each message unless .SILENT; UID STORE adds UID
        // (§6.4.8).
        // A keyword new to the mailbox is announced before any FETCH shows it (§7.2.6).
        s.view().announce_keywords(out, m);
        if (!silent) {
          s.view().forget_flag_changes(uids);
          for (store::Uid uid : uids) {
            const auto* info = m.find(uid);
            std::uint32_t seq = s.view().seq_of(uid);
            if (info == nullptr || seq == 0) continue;
            out += "* ";
            append_number(out, seq);
            out += " FETCH (FLAGS ";
            append_flag_list(out, info->flags, info->keywords, table, s.view().is_recent(uid));
            if (with_uid) {
              out += " UID ";
              append_number(out, uid);
            }
            out += ")\r\n";
          }
        }
        s.finish("OK", missing ? "Store completed (expunged messages ignored)" : "Store completed");
      }));
}

void copy(ImapSession& s, Command& c) {
  bool move = c.name == CommandName::move;
  auto& args = c.get<CopyArgs>();
  if (move && s.read_only()) {
    s.finish("NO", "[READ-ONLY] Mailbox is read-only");
    return;
  }
  bool bad = false;
  auto uids = resolve_set(s, args.set, c.uid, &bad);
  if (bad) {
    s.finish("BAD", "Invalid message sequence number");
    return;
  }
  auto dest = s.to_store_name(args.mailbox);
  if (!dest) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  store::Mailbox& mb = s.mailbox();
  std::erase_if(uids, [&](store::Uid u) { return mb.find(u) == nullptr; });
  if (uids.empty()) {
    s.finish("OK", move ? "No messages moved" : "No messages copied");
    return;
  }
  s.begin_async();
  auto done = s.guarded([&s, move](store::StoreResult<store::CopyResult> r) {
    if (!r) {
      if (r.error().kind == store::ErrorKind::not_found) {
        s.finish("NO", "[TRYCREATE] Mailbox does not exist");
      } else {
        s.finish_error(r.error());
      }
      return;
    }
    std::string code = copyuid_code(*r);
    if (!move) {
      s.finish("OK", code + " Copy completed");
      return;
    }
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGE responses.
    s.out() += "* OK " + code + " Moved\r\n";
    s.view().expunge_now(s.out(), r->source_uids);
    s.finish("OK", "Move completed");
  });
  if (move) {
    mb.move(std::move(uids), std::move(*dest), &s, std::move(done));
  } else {
    mb.copy(std::move(uids), std::move(*dest), &s, std::move(done));
  }
}

}  // namespace mb::imap::cmd
