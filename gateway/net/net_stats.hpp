// File: gateway/net/net_stats.hpp
//
// NetStats: transport counters for metrics, kept per listener kind ("imap", "imaps",
// "pop3", "pop3s") by mb::net::Server and read with Server::stats(kind) / total_stats().
// Plain integers updated on the loop thread; read them on the loop thread too.
#pragma once

#include <cstdint>

namespace mb::net {

struct NetStats {
  std::uint64_t accepted = 0;        // connections accepted (refused ones not included)
  std::uint64_t refused = 0;         // accepted then closed at once: max_connections reached
  std::uint64_t closed = 0;          // connections fully closed
  std::uint64_t bytes_in = 0;        // octets read from sockets (ciphertext for TLS)
  std::uint64_t bytes_out = 0;       // octets accepted by the kernel
  std::uint64_t tls_handshakes = 0;  // completed handshakes (implicit and STARTTLS)
  std::uint64_t tls_failures = 0;    // failed or timed-out handshakes

  NetStats& operator+=(const NetStats& o) {
    accepted += o.accepted;
    refused += o.refused;
    closed += o.closed;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    tls_handshakes += o.tls_handshakes;
    tls_failures += o.tls_failures;
    return *this;
  }
};

}  // namespace mb::net
