// File: protocols/imap/commands/idle.cpp
//
// IDLE (RFC 2177): "+ idling", then every change to the selected mailbox is sent at once
// (the session's MailboxObserver flushes while idling) until the client sends DONE. A rescan
// at the start picks up deliveries made outside the process (DESIGN.md).
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

void idle(ImapSession& s, Command&) {
  s.out() += "+ idling\r\n";
  s.start_idle();
  if (s.state() == State::selected) {
    s.mailbox().rescan(s.guarded([](store::StoreResult<void>) {}));
  }
}

}  // namespace mb::imap::cmd
