// File: protocols/imap/commands/any_state.cpp
//
// Commands valid in any state (RFC 3501 §6.1) and the small extensions: CAPABILITY, NOOP,
// LOGOUT, ID (RFC 2971), ENABLE (RFC 5161), NAMESPACE (RFC 2342).
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

void capability(ImapSession& s, Command&) {
  s.out() += "* CAPABILITY " + s.capabilities() + "\r\n";
  s.finish("OK", "Capability completed");
}

void noop(ImapSession& s, Command& c) {
  // RFC 3501 §6.1.2: NOOP is the polling point; also look on disk for outside changes
  // (MDA deliveries) before reporting (DESIGN.md: rescan on NOOP/IDLE/SELECT).
  if (s.state() == State::selected) {
    s.begin_async();
    bool check = c.name == CommandName::check;
    s.mailbox().rescan(s.guarded([&s, check](store::StoreResult<void>) {
      s.finish("OK", check ? "Check completed" : "NOOP completed");
    }));
    return;
  }
  s.finish("OK", "NOOP completed");
}

void logout(ImapSession& s, Command&) {
  s.out() += "* BYE Logging out\r\n";
  s.deselect();
  s.finish("OK", "Logout completed");
  s.close_after_output();
}

void id(ImapSession& s, Command&) {
  // RFC 2971 §3.3: the server's own parameters; the client's are only informative.
  s.out() += "* ID (\"name\" \"mailbridge\" \"version\" \"0.1.0\")\r\n";
  s.finish("OK", "ID completed");
}

void enable(ImapSession& s, Command&) {
  // RFC 5161 §3.1: list only what was actually enabled; none of the ENABLE-able extensions
  // (CONDSTORE, QRESYNC, UTF8=ACCEPT) is offered yet, so the list is empty.
  s.out() += "* ENABLED\r\n";
  s.finish("OK", "Enabled");
}

void namespace_(ImapSession& s, Command&) {
  // RFC 2342 §5: one personal namespace with an empty prefix, no others or shared.
  s.out() += "* NAMESPACE ((\"\" \"";
  if (s.settings().separator == '\\' || s.settings().separator == '"') s.out() += '\\';
  s.out() += s.settings().separator;
  s.out() += "\")) NIL NIL\r\n";
  s.finish("OK", "Namespace completed");
}

}  // namespace mb::imap::cmd
