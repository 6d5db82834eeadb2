// File: gateway/auth/failure_delay.cpp
#include "gateway/auth/failure_delay.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace mb::auth {

std::string FailureTracker::address_key(std::string_view peer) {
  std::string_view host = peer;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    host = host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));  // "1.2.3.4:5678"
  }
  if (const auto pct = host.find('%'); pct != std::string_view::npos) host = host.substr(0, pct);  // zone id
  const std::string text(host);
  std::array<unsigned char, 16> a6{};
  if (inet_pton(AF_INET6, text.c_str(), a6.data()) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a6.data(), kMapped, 12) == 0) {
      std::array<char, INET_ADDRSTRLEN> buf{};
      inet_ntop(AF_INET, a6.data() + 12, buf.data(), buf.size());
      return std::string(buf.data());
    }
    std::fill(a6.begin() + 8, a6.end(), 0);  // keep the /64
    std::array<char, INET6_ADDRSTRLEN> buf{};
    inet_ntop(AF_INET6, a6.data(), buf.data(), buf.size());
    return std::string(buf.data()) + "/64";
  }
  return text;
}

std::uint64_t FailureTracker::delay_for(std::uint32_t n) const {
  if (n == 0) return 0;
  std::uint64_t d = settings_.base_ms;
  for (std::uint32_t i = 1; i < n && d < settings_.max_ms; ++i) d *= 2;
  return std::min(d, settings_.max_ms);
}

std::uint32_t FailureTracker::failures(std::string_view peer, std::uint64_t now_ms) const {
  const auto it = entries_.find(address_key(peer));
  if (it == entries_.end() || now_ms - it->second.last_ms >= settings_.forget_after_ms) return 0;
  return it->second.failures;
}

std::uint64_t FailureTracker::next_delay(std::string_view peer, std::uint64_t now_ms) const {
  return delay_for(failures(peer, now_ms) + 1);
}

void FailureTracker::make_room(std::uint64_t now_ms) {
  std::erase_if(entries_, [&](const auto& kv) {
    return now_ms - kv.second.last_ms >= settings_.forget_after_ms;
  });
  if (entries_.size() < settings_.max_entries) return;
  auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.second.last_ms < b.second.last_ms;
  });
  if (oldest != entries_.end()) entries_.erase(oldest);
}

std::uint64_t FailureTracker::record_failure(std::string_view peer, std::uint64_t now_ms) {
  std::string key = address_key(peer);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (settings_.max_entries == 0) return delay_for(1);
    if (entries_.size() >= settings_.max_entries) make_room(now_ms);
    it = entries_.emplace(std::move(key), Entry{}).first;
  } else if (now_ms - it->second.last_ms >= settings_.forget_after_ms) {
    it->second.failures = 0;
  }
  if (it->second.failures < 64) ++it->second.failures;
  it->second.last_ms = now_ms;
  return delay_for(it->second.failures);
}

void FailureTracker::record_success(std::string_view peer) { entries_.erase(address_key(peer)); }

}  // namespace mb::auth
