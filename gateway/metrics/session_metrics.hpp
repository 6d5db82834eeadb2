// File: gateway/metrics/session_metrics.hpp
//
// SessionMetrics: protocols/common's SessionEvents (what IMAP and POP3 sessions report)
// implemented over the GatewayMetrics families. One instance per process, handed to every
// session's Services; loop thread only (it caches metric children without a lock).
//
//   session_started(p, tls)  -> mailbridge_connections_total{protocol=p, tls="implicit"|"none"} +1,
//                               mailbridge_connections_open{protocol=p} +1
//   session_ended(p)         -> mailbridge_connections_open{protocol=p} -1
//   tls_upgraded(p)          -> mailbridge_starttls_total{protocol=p} +1
//   login(p, result)         -> mailbridge_logins_total{protocol=p, result} +1; result "error"
//                               (temporary failure: store, auth backend) also
//                               mailbridge_errors_total{kind="auth"} +1
//   protocol_error(p)        -> mailbridge_errors_total{kind="protocol"} +1
//   command_done(p, c, d)    -> mailbridge_commands_total{protocol=p, command=c} +1 and
//                               mailbridge_command_duration_seconds{...} observes d
// Command names arrive from fixed sets (session_events.hpp), so the cache stays bounded; as a
// second fence, past kMaxCommandSeries distinct (protocol, command) pairs new names are counted
// as "UNKNOWN".
#pragma once

#include <string>
#include <unordered_map>

#include "gateway/metrics/gateway_metrics.hpp"
#include "protocols/common/session_events.hpp"

namespace mb::metrics {

class SessionMetrics final : public mb::proto::SessionEvents {
 public:
  static constexpr std::size_t kMaxCommandSeries = 256;

  explicit SessionMetrics(GatewayMetrics& metrics) : m_(metrics) {}

  void session_started(std::string_view protocol, bool tls) override;
  void session_ended(std::string_view protocol) override;
  void tls_upgraded(std::string_view protocol) override;
  void login(std::string_view protocol, std::string_view result) override;
  void command_done(std::string_view protocol, std::string_view command,
                    std::chrono::steady_clock::duration elapsed) override;
  void protocol_error(std::string_view protocol) override;

 private:
  struct CommandSeries {
    Counter* count;
    Histogram* duration;
  };
  GatewayMetrics& m_;
  std::unordered_map<std::string, CommandSeries> commands_;  // key: protocol + ' ' + command
};

}  // namespace mb::metrics
