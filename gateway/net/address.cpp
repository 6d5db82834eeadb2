// File: gateway/net/address.cpp
#include "gateway/net/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace mb::net {

namespace {
std::string bad(std::string_view text, std::string_view why) {
  return "bad listen address \"" + std::string(text) + "\": " + std::string(why);
}
}  // namespace

Result<sockaddr_storage, std::string> parse_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return mb::unexpected(bad(text, "missing ']'"));
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return mb::unexpected(bad(text, "expected \"[address]:port\""));
    port_text = text.substr(close + 2);
    v6 = true;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return mb::unexpected(bad(text, "expected \"host:port\" or \"[v6]:port\""));
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return mb::unexpected(bad(text, "IPv6 addresses need brackets, e.g. \"[::1]:143\""));
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port > 65535)
    return mb::unexpected(bad(text, "port must be a number 0-65535"));

  sockaddr_storage ss{};
  std::string host_z(host);
  if (v6) {
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, host_z.c_str(), &sa->sin6_addr) != 1)
      return mb::unexpected(bad(text, "not a numeric IPv6 address"));
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<std::uint16_t>(port));
    if (host_z.empty() || host_z == "*") {
      sa->sin_addr.s_addr = htonl(INADDR_ANY);
    } else if (host_z == "localhost") {
      sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (inet_pton(AF_INET, host_z.c_str(), &sa->sin_addr) != 1) {
      return mb::unexpected(bad(text, "not a numeric IPv4 address"));
    }
  }
  return ss;
}

std::string format_address(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* sa = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof buf);
  } else if (addr.ss_family == AF_INET6) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
      inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof buf);
    }
  }
  return buf;
}

std::uint16_t address_port(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

bool is_loopback(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    std::uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr.s_addr);
    return (a >> 24) == 127;
  }
  if (addr.ss_family == AF_INET6) {
    const auto* sa = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_LOOPBACK(&sa->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr) && sa->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace mb::net
