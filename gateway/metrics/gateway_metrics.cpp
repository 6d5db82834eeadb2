// File: gateway/metrics/gateway_metrics.cpp
#include "gateway/metrics/gateway_metrics.hpp"

#include <cctype>
#include <chrono>

namespace mb::metrics {

GatewayMetrics::GatewayMetrics(Registry& r, std::string_view version)
    : registry(r),
      build_info(r.gauge("mailbridge_build_info", "Always 1; the version is a label.", {"version"})),
      start_time(r.gauge("mailbridge_start_time_seconds", "Start time of the process, Unix seconds.")),
      connections(r.counter("mailbridge_connections_total",
                            "Client connections by protocol and TLS mode.", {"protocol", "tls"})),
      connections_open(r.gauge("mailbridge_connections_open", "Open client connections.",
                               {"protocol"})),
      starttls(r.counter("mailbridge_starttls_total", "Connections upgraded with STARTTLS/STLS.",
                         {"protocol"})),
      logins(r.counter("mailbridge_logins_total", "Login attempts by result.",
                       {"protocol", "result"})),
      commands(r.counter("mailbridge_commands_total", "Commands processed.",
                         {"protocol", "command"})),
      command_duration(r.histogram("mailbridge_command_duration_seconds",
                                   "Command latency from parse to completion.",
                                   {"protocol", "command"})),
      bytes_received(r.counter("mailbridge_received_bytes_total",
                               "Octets read from clients (TLS: ciphertext).", {"listener"})),
      bytes_sent(r.counter("mailbridge_sent_bytes_total",
                           "Octets written to clients (TLS: ciphertext).", {"listener"})),
      accepted(r.counter("mailbridge_accepted_connections_total",
                         "Connections accepted by the transport.", {"listener"})),
      tls_handshakes(r.counter("mailbridge_tls_handshakes_total", "TLS handshakes by result.",
                               {"listener", "result"})),
      mailboxes_open(r.gauge("mailbridge_mailboxes_open",
                             "Mailboxes with shared state in memory.")),
      store_duration(r.histogram("mailbridge_store_operation_duration_seconds",
                                 "Store backend operation latency.", {"operation"})),
      errors(r.counter("mailbridge_errors_total", "Errors by kind.", {"kind"})) {
  build_info.with({version.empty() ? std::string_view("unknown") : version}).set(1);
  auto now = std::chrono::system_clock::now().time_since_epoch();
  start_time.get().set(std::chrono::duration<double>(now).count());
}

void GatewayMetrics::command_done(std::string_view protocol, std::string_view command,
                                  double seconds) {
  commands.with({protocol, command}).inc();
  command_duration.with({protocol, command}).observe(seconds);
}

std::string command_label(std::string_view name, std::initializer_list<std::string_view> known) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view k : known) {
    if (k.size() != upper.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i) {
      same = std::toupper(static_cast<unsigned char>(k[i])) == static_cast<unsigned char>(upper[i]);
    }
    if (same) return upper;
  }
  return "UNKNOWN";
}

}  // namespace mb::metrics
