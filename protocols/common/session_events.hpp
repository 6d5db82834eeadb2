// File: protocols/common/session_events.hpp
//
// What protocol sessions report for observability (metrics), without knowing how it is
// exported: the gateway implements SessionEvents over gateway/metrics, tests may count.
// Sessions hold a possibly-null pointer (in their Services) and call it on the loop thread.
// Names passed in are from fixed sets (the protocol's command names, upper case; anything
// a client invents is reported as "UNKNOWN"), so a client cannot grow a metrics registry.
#pragma once

#include <chrono>
#include <string_view>

namespace mb::proto {

class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  // protocol: "imap" | "pop3".
  virtual void session_started(std::string_view protocol, bool tls) = 0;
  virtual void session_ended(std::string_view protocol) = 0;
  // STARTTLS / STLS completed.
  virtual void tls_upgraded(std::string_view protocol) = 0;
  // result: "ok" | "failed" (bad credentials) | "error" (temporary failure)
  virtual void login(std::string_view protocol, std::string_view result) = 0;
  // A command finished (its tagged / final response sent or queued).
  virtual void command_done(std::string_view protocol, std::string_view command,
                            std::chrono::steady_clock::duration elapsed) = 0;
  // The client broke the protocol: an unknown command, a command in the wrong state, a
  // line or pipelined input over a limit (POP3 -ERR for those, IMAP BAD). Not for failed
  // logins or out-of-range arguments. Default: ignored (metrics: errors_total{kind="protocol"}).
  virtual void protocol_error(std::string_view /*protocol*/) {}
};

}  // namespace mb::proto
