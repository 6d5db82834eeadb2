// File: gateway/auth/failure_delay.hpp
//
// FailureTracker: how long to hold back the answer to a failed login, per source address.
//
// The n-th consecutive failure from an address is delayed base * 2^(n-1) ms, capped at max
// (n = 1 -> base). A success from the address forgets it; an address with no failure for
// `forget_after_ms` starts again at n = 1. The table holds at most `max_entries` addresses:
// when full, expired entries are dropped first, then the least recently failed one, so a
// flood of spoofed sources costs bounded memory.
//
// Addresses are grouped: "ip:port" and "[v6]:port" lose the port, IPv4-mapped IPv6 becomes
// IPv4, and IPv6 is keyed by its /64 (one host usually owns a whole /64).
//
// Pure and single-threaded (the authenticator uses it on the loop thread); time is passed
// in, so tests assert on the computed values, not on wall time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mb::auth {

struct FailureDelaySettings {
  std::uint64_t base_ms = 1000;
  std::uint64_t max_ms = 15000;
  std::uint64_t forget_after_ms = 15 * 60 * 1000;
  std::size_t max_entries = 10000;
};

class FailureTracker {
 public:
  explicit FailureTracker(FailureDelaySettings settings = {}) : settings_(settings) {}

  // Counts a failure from `peer` at `now_ms`; returns the delay to apply to it.
  std::uint64_t record_failure(std::string_view peer, std::uint64_t now_ms);
  // A successful login from `peer`: forget its failures.
  void record_success(std::string_view peer);

  // Consecutive failures currently counted for `peer` (0 if none or expired at `now_ms`).
  std::uint32_t failures(std::string_view peer, std::uint64_t now_ms) const;
  // The delay the next failure from `peer` would get.
  std::uint64_t next_delay(std::string_view peer, std::uint64_t now_ms) const;
  // base * 2^(n-1) capped at max; 0 for n == 0.
  std::uint64_t delay_for(std::uint32_t failures) const;

  std::size_t size() const { return entries_.size(); }
  const FailureDelaySettings& settings() const { return settings_; }
  void set_settings(const FailureDelaySettings& s) { settings_ = s; }

  // The grouping key for an address (see the file comment).
  static std::string address_key(std::string_view peer);

 private:
  struct Entry {
    std::uint32_t failures = 0;
    std::uint64_t last_ms = 0;
  };
  void make_room(std::uint64_t now_ms);

  FailureDelaySettings settings_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace mb::auth
