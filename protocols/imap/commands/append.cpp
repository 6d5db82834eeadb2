// File: protocols/imap/commands/append.cpp
//
// APPEND (RFC 3501 §6.3.11) with UIDPLUS APPENDUID (RFC 4315 §3), [TRYCREATE] for a missing
// mailbox and [TOOBIG] (RFC 7889) from the store's size limit. The parser has already read
// the literals within Settings::max_append_size (larger ones never reach here).
//
// MULTIAPPEND (RFC 3502): the messages are appended one after the other; if one fails, the
// ones already appended are expunged again before the NO, so the mailbox ends up with all of
// them or none (§3: "the server MUST NOT append any of them"). The store appends per message,
// so another session that has the mailbox selected may briefly see them arrive and go (EXISTS
// then EXPUNGE); this session never reports them. APPENDUID carries the UID set (RFC 4315 §3).
#include <memory>

#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

namespace {

// The state of one APPEND while its messages are written, shared by the store callbacks.
struct AppendRun {
  store::MailboxPtr mailbox;
  std::vector<store::AppendRequest> requests;
  std::size_t next = 0;
  std::vector<store::Uid> uids;  // appended so far, in order
  std::uint32_t uidvalidity = 0;
  bool selected = false;
};

void append_next(ImapSession& s, std::shared_ptr<AppendRun> run);

void finish_ok(ImapSession& s, const AppendRun& run) {
  std::string text = "[APPENDUID ";
  append_number(text, run.mailbox->uidvalidity() != 0 ? run.mailbox->uidvalidity()
                                                      : run.uidvalidity);
  text += ' ';
  // UIDs of one APPEND are ascending; consecutive runs collapse to "a:b".
  for (std::size_t i = 0; i < run.uids.size();) {
    std::size_t j = i;
    while (j + 1 < run.uids.size() && run.uids[j + 1] == run.uids[j] + 1) ++j;
    if (i > 0) text += ',';
    append_number(text, run.uids[i]);
    if (j > i) {
      text += ':';
      append_number(text, run.uids[j]);
    }
    i = j + 1;
  }
  text += "] Append completed";
  s.finish("OK", text);
}

void append_next(ImapSession& s, std::shared_ptr<AppendRun> run) {
  if (run->next == run->requests.size()) {
    finish_ok(s, *run);
    return;
  }
  store::AppendRequest request = std::move(run->requests[run->next++]);
  store::Mailbox& mailbox = *run->mailbox;
  // The store holds its own reference while the append runs; `run` keeps one for the
  // response (uidvalidity) and for the rollback.
  mailbox.append(
      std::move(request), run->selected ? &s : nullptr,
      s.guarded([&s, run](store::StoreResult<store::Uid> r) {
        if (r) {
          run->uids.push_back(*r);
          append_next(s, run);
          return;
        }
        if (run->uids.empty()) {
          s.finish_error(r.error());
          return;
        }
        // MULTIAPPEND failed part-way: take back what was appended, then answer the error.
        // The origin is this session, which has not been told of them (none are reported).
        store::Error error = r.error();
        std::vector<store::Uid> appended = std::move(run->uids);
        run->mailbox->expunge(std::move(appended), run->selected ? &s : nullptr,
                              s.guarded([&s, error](store::StoreResult<std::vector<store::Uid>>) {
                                s.finish_error(error);
                              }));
      }));
}

void start_append(ImapSession& s, store::MailboxPtr mailbox, std::vector<store::AppendRequest> requests) {
  auto run = std::make_shared<AppendRun>();
  run->selected = s.state() == State::selected && mailbox == s.mailbox_ptr();
  run->uidvalidity = mailbox->uidvalidity();
  run->mailbox = std::move(mailbox);
  run->requests = std::move(requests);
  run->uids.reserve(run->requests.size());
  append_next(s, std::move(run));
}

// One message's flags and date into a store request; false on an invalid flag.
bool make_request(std::vector<std::string>& flags, const std::optional<DateTime>& date,
                  std::string& message, store::AppendRequest& out) {
  if (!split_flags(flags, out.flags, out.keywords)) return false;
  if (date) out.internal_date = date->to_unix();
  out.message = std::move(message);
  return true;
}

}  // namespace

void append(ImapSession& s, Command& c) {
  auto& args = c.get<AppendArgs>();
  auto name = s.to_store_name(args.mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  bool empty = args.message.empty();
  for (const auto& m : args.more) empty = empty || m.message.empty();
  if (empty) {
    s.finish("NO", "Cannot append an empty message");
    return;
  }
  std::vector<store::AppendRequest> requests(1 + args.more.size());
  bool flags_ok = make_request(args.flags, args.date, args.message, requests[0]);
  for (std::size_t i = 0; i < args.more.size(); ++i) {
    auto& m = args.more[i];
    flags_ok = flags_ok && make_request(m.flags, m.date, m.message, requests[i + 1]);
  }
  if (!flags_ok) {
    s.finish("BAD", "Invalid flag in APPEND");
    return;
  }

  if (s.state() == State::selected && s.mailbox().name() == *name) {
    s.begin_async();
    start_append(s, s.mailbox_ptr(), std::move(requests));
    return;
  }
  s.begin_async();
  s.user_store().open(
      std::move(*name),
      s.guarded([&s, requests = std::move(requests)](store::StoreResult<store::MailboxPtr> r) mutable {
        if (!r) {
          if (r.error().kind == store::ErrorKind::not_found) {
            // RFC 3501 §6.3.11: the client may CREATE and retry.
            s.finish("NO", "[TRYCREATE] Mailbox does not exist");
          } else {
            s.finish_error(r.error());
          }
          return;
        }
        start_append(s, std::move(*r), std::move(requests));
      }));
}

}  // namespace mb::imap::cmd
