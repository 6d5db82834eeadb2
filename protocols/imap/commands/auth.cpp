// File: protocols/imap/commands/auth.cpp
//
// Not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN, AUTHENTICATE (PLAIN and LOGIN,
// with the RFC 4959 initial response). Plaintext credentials are refused without TLS unless
// the plaintext policy allows them (LOGINDISABLED, RFC 3501 §6.2.3; RFC 5530 PRIVACYREQUIRED).
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap::cmd {

void starttls(ImapSession& s, Command&) {
  if (!s.settings().starttls_available) {
    s.finish("BAD", "STARTTLS not available");
    return;
  }
  if (s.sink().is_tls()) {
    s.finish("BAD", "TLS already active");
    return;
  }
  s.finish("OK", "Begin TLS negotiation now");
  s.begin_tls();
}

void login(ImapSession& s, Command& c) {
  if (!s.plaintext_allowed()) {
    s.finish("NO", "[PRIVACYREQUIRED] Plaintext authentication disallowed without TLS");
    return;
  }
  auto& args = c.get<LoginArgs>();
  s.begin_async();
  s.services().auth.verify(
      std::move(args.user), std::move(args.password), s.peer(),
      s.guarded([&s](auth::AuthOutcome outcome) {
        if (outcome.status == auth::AuthStatus::ok) {
          s.report_login("ok");
          s.logged_in(outcome);
        } else if (outcome.status == auth::AuthStatus::temp_failure) {
          s.report_login("error");
          s.finish("NO", "[UNAVAILABLE] Temporary authentication failure");
        } else {
          s.report_login("failed");
          s.finish("NO", "[AUTHENTICATIONFAILED] Authentication failed");
        }
      }));
}

void authenticate(ImapSession& s, Command& c) {
  auto& args = c.get<AuthenticateArgs>();
  auto server = proto::sasl::SaslServer::create(args.mechanism);
  if (!server) {
    s.finish("NO", "Unsupported authentication mechanism");
    return;
  }
  if (!s.plaintext_allowed()) {
    s.finish("NO", "[PRIVACYREQUIRED] Plaintext authentication disallowed without TLS");
    return;
  }
  s.start_sasl(*server, std::move(args.initial_response));
}

}  // namespace mb::imap::cmd
