// File: protocols/imap/commands/append.cpp
//
// APPEND (RFC 3501 §6.3.11) with UIDPLUS APPENDUID (RFC 4315 §3), [TRYCREATE] for a missing
// mailbox and [TOOBIG] (RFC 7889) from the store's size limit. The parser has already read
// the literal within Settings::max_append_size (larger ones never reach here).
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

namespace {

void do_append(ImapSession& s, const store::MailboxPtr& mailbox, store::AppendRequest request) {
  bool selected = s.state() == State::selected && mailbox == s.mailbox_ptr();
  std::uint32_t uidvalidity = mailbox->uidvalidity();
  // The store holds its own reference while the append runs; we keep one for uidvalidity.
  mailbox->append(std::move(request), selected ? &s : nullptr,
                  s.guarded([&s, mailbox, uidvalidity](store::StoreResult<store::Uid> r) {
                    if (!r) {
                      s.finish_error(r.error());
                      return;
                    }
                    std::string text = "[APPENDUID ";
                    append_number(text, mailbox->uidvalidity() != 0 ? mailbox->uidvalidity()
                                                                    : uidvalidity);
                    text += ' ';
                    append_number(text, *r);
                    text += "] Append completed";
                    s.finish("OK", text);
                  }));
}

}  // namespace

void append(ImapSession& s, Command& c) {
  auto& args = c.get<AppendArgs>();
  auto name = s.to_store_name(args.mailbox);
  if (!name) {
    s.finish("NO", "[CANNOT] Invalid mailbox name");
    return;
  }
  if (args.message.empty()) {
    s.finish("NO", "Cannot append an empty message");
    return;
  }
  store::AppendRequest request;
  if (!split_flags(args.flags, request.flags, request.keywords)) {
    s.finish("BAD", "Invalid flag in APPEND");
    return;
  }
  if (args.date) request.internal_date = args.date->to_unix();
  request.message = std::move(args.message);

  if (s.state() == State::selected && s.mailbox().name() == *name) {
    s.begin_async();
    do_append(s, s.mailbox_ptr(), std::move(request));
    return;
  }
  s.begin_async();
  s.user_store().open(
      std::move(*name),
      s.guarded([&s, request = std::move(request)](store::StoreResult<store::MailboxPtr> r) mutable {
        if (!r) {
          if (r.error().kind == store::ErrorKind::not_found) {
            // RFC 3501 §6.3.11: the client may CREATE and retry.
            s.finish("NO", "[TRYCREATE] Mailbox does not exist");
          } else {
            s.finish_error(r.error());
          }
          return;
        }
        do_append(s, *r, std::move(request));
      }));
}

}  // namespace mb::imap::cmd
