// File: gateway/config/config_reader.cpp
#include "gateway/config/config_reader.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace mb::config::detail {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}


std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

bool get_string(Reader& r, const toml::node& n, std::string_view key, std::string& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    r.error_at(n, key, fmt::format("expected a string, got {}", type_name(n)));
    return false;
  }
  const std::string& v = s->get();
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r.error_at(n, key, "control characters are not allowed");
      return false;
    }
  }
  out = v;
  return true;
}

// A path-like string: non-empty.
void get_path(Reader& r, const toml::node& n, std::string_view key, std::string& out) {
  std::string v;
  if (!get_string(r, n, key, v)) return;
  if (v.empty()) {
    r.error_at(n, key, "must not be empty");
    return;
  }
  out = std::move(v);
}

void get_bool(Reader& r, const toml::node& n, std::string_view key, bool& out) {
  const auto* b = n.as_boolean();
  if (b == nullptr) {
    r.error_at(n, key, fmt::format("expected true or false, got {}", type_name(n)));
    return;
  }
  out = b->get();
}

void get_string_list(Reader& r, const toml::node& n, std::string_view key,
                     std::vector<std::string>& out) {
  const auto* a = n.as_array();
  bool good = a != nullptr;
  std::vector<std::string> values;
  if (good) {
    for (const auto& e : *a) {
      const auto* s = e.as_string();
      if (s == nullptr || s->get().empty()) {
        good = false;
        break;
      }
      values.push_back(s->get());
    }
  }
  if (!good) {
    r.error_at(n, key, "expected a list of non-empty strings");
    return;
  }
  out = std::move(values);
}

// "host:port" with host an IPv4 literal, or "[v6]:port".
bool parse_listen_address(std::string_view text, ListenAddress& out, std::string& why) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = "IPv6 addresses are written \"[addr]:port\"";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) {
      why = fmt::format("{} is not an IPv6 address", quoted(host));
      return false;
    }
    out.ipv6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "missing \":port\"";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      why = "IPv6 addresses are written \"[addr]:port\"";
      return false;
    }
    in_addr a4{};
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) {
      why = fmt::format("{} is not an IPv4 address (host names are not resolved; use an IP "
                        "address, \"0.0.0.0\" or \"[::]\" for all)",
                        quoted(host));
      return false;
    }
    out.ipv6 = false;
  }
  unsigned value = 0;
  bool good = !port.empty() && port.size() <= 5;
  for (char c : port) {
    if (c < '0' || c > '9') good = false;
  }
  if (good) {
    for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!good || value > 65535) {
    why = fmt::format("{} is not a port number (0-65535)", quoted(port));
    return false;
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

void get_addresses(Reader& r, const toml::node& n, std::string_view key,
                   std::vector<ListenAddress>& out) {
  const auto* a = n.as_array();
  if (a == nullptr) {
    r.error_at(n, key, "expected a list of host:port strings, e.g. [\"127.0.0.1:143\", \"[::1]:143\"]");
    return;
  }
  std::vector<ListenAddress> values;
  std::size_t index = 0;
  for (const auto& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      r.error_at(e, key, "expected a list of host:port strings");
      return;
    }
    ListenAddress addr;
    std::string why;
    if (!parse_listen_address(s->get(), addr, why)) {
      r.error_at(e, key, fmt::format("item {} {}: {}", index, quoted(s->get()), why));
      return;
    }
    values.push_back(std::move(addr));
    ++index;
  }
  out = std::move(values);
}

void unknown_key(Reader& r, const toml::key& k, std::string_view section) {
  r.error_at(k.source(), fmt::format("{}.{}", section, k.str()), "unknown key");
}

const toml::table* section_table(Reader& r, const toml::node& n, std::string_view name) {
  const auto* t = n.as_table();
  if (t == nullptr) r.error_at(n, name, fmt::format("expected a table [{}], got {}", name, type_name(n)));
  return t;
}

}  // namespace mb::config::detail
