// File: protocols/imap/session_settings.hpp
//
// What an IMAP session is configured with (Settings, filled by the gateway from the TOML
// config) and what it talks to (Services: the authenticator and the message store, both
// owned by the server and outliving every session).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "protocols/common/session_events.hpp"

namespace mb::auth {
class Authenticator;
}
namespace mb::store {
class Storage;
}

namespace mb::imap {

// `[auth] plaintext`: where LOGIN / AUTHENTICATE are allowed without TLS (RFC 3501 §6.2.3
// LOGINDISABLED, RFC 8314).
enum class PlaintextPolicy { never, loopback, always };

struct Settings {
  PlaintextPolicy plaintext = PlaintextPolicy::loopback;
  // Whether STARTTLS can be offered (a certificate is configured).
  bool starttls_available = true;
  // Hierarchy separator presented to clients: '/' or '.'. The store always uses '/'.
  char separator = '/';
  // Literal limits (RFC 7888 §4): APPEND message and any other literal.
  std::size_t max_append_size = 64u * 1024 * 1024;
  std::size_t max_literal_size = 64u * 1024;
  // Command line limit (octets outside literals).
  std::size_t max_line_size = 64u * 1024;
  // RFC 3501 §5.4: at least 30 minutes once authenticated; shorter before.
  std::chrono::seconds idle_timeout{30 * 60};
  std::chrono::seconds preauth_timeout{60};
  // Appended to the CAPABILITY list once authenticated (operator extras).
  std::vector<std::string> capability_extras;
  // Server name in the greeting.
  std::string greeting = "mailbridge ready";
  // Metrics seam (nullable, not owned): sessions, logins, TLS upgrades and per-command
  // latency from parse to the tagged response. The gateway points it at its metrics.
  proto::SessionEvents* events = nullptr;
};

struct Services {
  auth::Authenticator& auth;
  store::Storage& storage;
};

}  // namespace mb::imap
