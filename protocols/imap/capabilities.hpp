// File: protocols/imap/capabilities.hpp
//
// The CAPABILITY list for a session's current state (RFC 3501 §6.1.1, §7.2.1). Before
// authentication it advertises STARTTLS when TLS is available and not yet active, and either
// AUTH=PLAIN AUTH=LOGIN or LOGINDISABLED depending on the plaintext policy (§6.2.3, RFC 8314).
// After authentication it lists the extensions the session implements plus Settings extras.
#pragma once

#include <string>

#include "protocols/imap/session_settings.hpp"

namespace mb::imap {

struct CapabilityState {
  bool authenticated = false;
  bool tls = false;
  bool plaintext_allowed = false;  // LOGIN/AUTHENTICATE allowed on this connection now
};

// Space-separated capability atoms, starting with "IMAP4rev1" (no "* CAPABILITY " prefix).
std::string capability_list(const Settings& settings, const CapabilityState& state);

}  // namespace mb::imap
