// File: gateway/metrics/session_metrics.cpp
#include "gateway/metrics/session_metrics.hpp"

namespace mb::metrics {

void SessionMetrics::session_started(std::string_view protocol, bool tls) {
  m_.connections.with({protocol, tls ? "implicit" : "none"}).inc();
  m_.connections_open.with({protocol}).inc();
}

void SessionMetrics::session_ended(std::string_view protocol) {
  m_.connections_open.with({protocol}).dec();
}

void SessionMetrics::tls_upgraded(std::string_view protocol) {
  m_.starttls.with({protocol}).inc();
}

void SessionMetrics::login(std::string_view protocol, std::string_view result) {
  m_.logins.with({protocol, result}).inc();
  if (result == "error") m_.errors.with({"auth"}).inc();
}

void SessionMetrics::protocol_error(std::string_view /*protocol*/) {
  m_.errors.with({"protocol"}).inc();
}

void SessionMetrics::command_done(std::string_view protocol, std::string_view command,
                                  std::chrono::steady_clock::duration elapsed) {
  // Short keys stay in std::string's small buffer: no allocation per command.
  std::string key;
  key.reserve(protocol.size() + 1 + command.size());
  key.append(protocol).append(1, ' ').append(command);
  auto it = commands_.find(key);
  if (it == commands_.end()) {
    if (commands_.size() >= kMaxCommandSeries) {
      // Past the fence: neither the registry nor this cache grows any more.
      key.assign(protocol).append(" UNKNOWN");
      it = commands_.find(key);
    }
    if (it == commands_.end()) {
      std::string_view name = commands_.size() < kMaxCommandSeries ? command : "UNKNOWN";
      CommandSeries s{&m_.commands.with({protocol, name}),
                      &m_.command_duration.with({protocol, name})};
      it = commands_.emplace(std::move(key), s).first;
    }
  }
  it->second.count->inc();
  it->second.duration->observe(std::chrono::duration<double>(elapsed).count());
}

}  // namespace mb::metrics
