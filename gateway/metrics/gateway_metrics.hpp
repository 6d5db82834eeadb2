// File: gateway/metrics/gateway_metrics.hpp
//
// The metric families mailbridge exports (issue #6), registered once at start-up. Names and
// labels are a contract with dashboards and alerts: extend, do not rename.
//
//   mailbridge_build_info{version}                           gauge, always 1
//   mailbridge_start_time_seconds                            gauge, Unix time of start
//   mailbridge_connections_total{protocol,tls}               counter  protocol: imap|pop3,
//                                                                      tls: implicit|none (at connect)
//   mailbridge_connections_open{protocol}                    gauge
//   mailbridge_starttls_total{protocol}                      counter  STARTTLS/STLS upgrades
//   mailbridge_logins_total{protocol,result}                 counter  result: ok|failed|error
//   mailbridge_commands_total{protocol,command}              counter  command: upper-case name,
//                                                                      "UNKNOWN" for others
//   mailbridge_command_duration_seconds{protocol,command}    histogram (default_latency_buckets)
//   mailbridge_received_bytes_total{listener}                counter  listener: imap|imaps|pop3|pop3s
//   mailbridge_sent_bytes_total{listener}                    counter
//   mailbridge_accepted_connections_total{listener}          counter  (transport view, from NetStats)
//   mailbridge_tls_handshakes_total{listener,result}         counter  result: ok|failed
//   mailbridge_mailboxes_open                                gauge    (user, mailbox) states in memory,
//                                                                      Storage::open_mailboxes() at scrape
//   mailbridge_store_operation_duration_seconds{operation}   histogram operation: see store_metrics.hpp
//   mailbridge_errors_total{kind}                            counter  kind: store (store_metrics.hpp),
//                                                                      auth (login "error"), protocol
//                                                                      (SessionEvents::protocol_error),
//                                                                      tls (failed handshakes)
//
// Label values must come from fixed sets: sessions pass only known command names and map
// anything else to "UNKNOWN" (command_label()), so a client cannot grow the registry.
// Sessions report through mb::proto::SessionEvents; session_metrics.hpp implements it here.
#pragma once

#include <string>
#include <string_view>

#include "gateway/metrics/registry.hpp"

namespace mb::metrics {

struct GatewayMetrics {
  explicit GatewayMetrics(Registry& registry, std::string_view version = "");

  Registry& registry;
  GaugeFamily& build_info;
  GaugeFamily& start_time;
  CounterFamily& connections;
  GaugeFamily& connections_open;
  CounterFamily& starttls;
  CounterFamily& logins;
  CounterFamily& commands;
  HistogramFamily& command_duration;
  CounterFamily& bytes_received;
  CounterFamily& bytes_sent;
  CounterFamily& accepted;
  CounterFamily& tls_handshakes;
  GaugeFamily& mailboxes_open;
  HistogramFamily& store_duration;
  CounterFamily& errors;

  // Records one finished command: commands_total and command_duration_seconds.
  void command_done(std::string_view protocol, std::string_view command, double seconds);

  // Copies a transport stats struct with fields accepted, bytes_in, bytes_out,
  // tls_handshakes, tls_failures (mb::net::NetStats) for one listener kind. Call it from a
  // Registry collector, on the loop thread:
  //   registry.add_collector([&] { for (auto k : {"imap", "imaps", "pop3", "pop3s"})
  //                                  gm.set_transport(k, server.stats(k)); });
  template <class Stats>
  void set_transport(std::string_view listener, const Stats& s) {
    accepted.with({listener}).set(s.accepted);
    bytes_received.with({listener}).set(s.bytes_in);
    bytes_sent.with({listener}).set(s.bytes_out);
    tls_handshakes.with({listener, "ok"}).set(s.tls_handshakes);
    tls_handshakes.with({listener, "failed"}).set(s.tls_failures);
  }
};

// Upper-cases `name` if it is in `known` (case-insensitive), else "UNKNOWN".
std::string command_label(std::string_view name, std::initializer_list<std::string_view> known);

}  // namespace mb::metrics
