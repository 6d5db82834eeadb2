// File: gateway/health/healthcheck.cpp
#include "gateway/health/healthcheck.hpp"

#include <cstdio>

#include "gateway/health/greeting_probe.hpp"

namespace mb::health {
namespace {

void probe_all(std::vector<ListenerResult>& out, const std::vector<std::string>& addresses,
               const char* kind, Protocol protocol, bool tls, std::chrono::milliseconds timeout) {
  for (const auto& address : addresses) {
    ListenerResult r{kind, address, false, {}};
    auto greeting = probe_greeting(ProbeTarget{protocol, tls, address}, timeout);
    r.ok = greeting.has_value();
    r.detail = greeting ? *greeting : greeting.error();
    out.push_back(std::move(r));
  }
}

std::vector<std::string> to_strings(const std::vector<mb::config::ListenAddress>& addresses) {
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

}  // namespace

std::vector<ListenerResult> check_listeners(const std::vector<std::string>& imap,
                                            const std::vector<std::string>& imaps,
                                            const std::vector<std::string>& pop3,
                                            const std::vector<std::string>& pop3s,
                                            std::chrono::milliseconds timeout) {
  std::vector<ListenerResult> results;
  probe_all(results, imap, "imap", Protocol::imap, false, timeout);
  probe_all(results, imaps, "imaps", Protocol::imap, true, timeout);
  probe_all(results, pop3, "pop3", Protocol::pop3, false, timeout);
  probe_all(results, pop3s, "pop3s", Protocol::pop3, true, timeout);
  return results;
}

int run_healthcheck(const std::vector<std::string>& imap, const std::vector<std::string>& imaps,
                    const std::vector<std::string>& pop3, const std::vector<std::string>& pop3s,
                    std::chrono::milliseconds timeout) {
  auto results = check_listeners(imap, imaps, pop3, pop3s, timeout);
  if (results.empty()) {
    std::fprintf(stderr, "healthcheck: no IMAP or POP3 listener configured: nothing to check\n");
    return 1;
  }
  std::size_t failed = 0;
  for (const auto& r : results) {
    if (r.ok) continue;
    ++failed;
    std::fprintf(stderr, "healthcheck: %s %s: %s\n", r.kind.c_str(), r.address.c_str(),
                 r.detail.c_str());
  }
  if (failed != 0) {
    std::fprintf(stderr, "healthcheck: FAILED (%zu of %zu listeners)\n", failed, results.size());
    return 1;
  }
  std::fprintf(stdout, "healthcheck: ok (%zu listeners)\n", results.size());
  std::fflush(stdout);
  return 0;
}

int run_healthcheck(const mb::config::Config& config, std::chrono::milliseconds timeout) {
  const auto& l = config.listen;
  return run_healthcheck(to_strings(l.imap), to_strings(l.imaps), to_strings(l.pop3),
                         to_strings(l.pop3s), timeout);
}

}  // namespace mb::health
