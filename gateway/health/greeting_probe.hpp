// File: gateway/health/greeting_probe.hpp
//
// One blocking probe of one IMAP or POP3 listener, for `mailbridge healthcheck` (a short-lived
// command-line process, so blocking sockets with poll(2) deadlines are the right tool here; the
// server itself never calls this). The probe connects, does a TLS handshake first for implicit
// TLS listeners (mbedTLS client, certificate NOT verified: the point is "is the server answering
// its protocol", not "is the certificate trusted"), reads the first line and checks it:
//   IMAP: "* OK" (RFC 3501 §7.1.1; "* PREAUTH" and "* BYE" are failures here),
//   POP3: "+OK"  (RFC 1939 §4).
// Then it closes (TLS close_notify first). It sends no command, so it leaves no trace in the
// mailbox and no failed login.
//
// Everything is bounded by `timeout` from the start of the probe (connect + handshake + read).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "protocols/common/result.hpp"

namespace mb::health {

enum class Protocol { imap, pop3 };

struct ProbeTarget {
  Protocol protocol = Protocol::imap;
  bool implicit_tls = false;
  // "host:port" or "[v6addr]:port" (numeric hosts; a name is resolved with getaddrinfo).
  // The wildcard hosts 0.0.0.0 and :: are probed on 127.0.0.1 and ::1.
  std::string address;
};

// On success the greeting line (without CRLF); on failure the reason, e.g.
// "connect: Connection refused", "timed out waiting for the greeting",
// "TLS handshake failed: ...", "unexpected greeting \"-ERR go away\"".
mb::Result<std::string, std::string> probe_greeting(const ProbeTarget& target,
                                                    std::chrono::milliseconds timeout);

// Splits "host:port" / "[v6]:port"; false on a malformed address. Exposed for tests.
bool split_host_port(std::string_view address, std::string& host, std::string& port);

}  // namespace mb::health
