// File: gateway/health/healthcheck.hpp
//
// `mailbridge healthcheck --config FILE` (DESIGN.md "Contracts"; the Docker HEALTHCHECK): greet
// every configured IMAP/POP3 listener and exit 0 when all answer their protocol's greeting, 1
// otherwise. Listeners are probed one after the other, each bounded by `timeout`
// (see greeting_probe.hpp for what one probe does).
//
// Output: one line per failing listener on stderr, "healthcheck: <kind> <address>: <reason>",
// and on success one line on stdout, "healthcheck: ok (<n> listeners)". A config with no
// IMAP/POP3 listener at all is a failure ("nothing to check").
//
// The main() wiring is:  return mb::health::run_healthcheck(config, std::chrono::seconds(5));
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"

namespace mb::health {

struct ListenerResult {
  std::string kind;     // "imap" | "imaps" | "pop3" | "pop3s"
  std::string address;  // as configured, "host:port"
  bool ok = false;
  std::string detail;   // the greeting on success, the reason on failure
};

// Probes every address; never prints.
std::vector<ListenerResult> check_listeners(const std::vector<std::string>& imap,
                                            const std::vector<std::string>& imaps,
                                            const std::vector<std::string>& pop3,
                                            const std::vector<std::string>& pop3s,
                                            std::chrono::milliseconds timeout);

// Probes every address, prints as described above, returns 0 or 1.
int run_healthcheck(const std::vector<std::string>& imap, const std::vector<std::string>& imaps,
                    const std::vector<std::string>& pop3, const std::vector<std::string>& pop3s,
                    std::chrono::milliseconds timeout);

// Same, with the addresses taken from config.listen (ListenAddress::to_string()).
int run_healthcheck(const mb::config::Config& config, std::chrono::milliseconds timeout);

}  // namespace mb::health
