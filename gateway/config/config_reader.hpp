// File: gateway/config/config_reader.hpp
//
// Private to gateway/config: typed access to toml++ nodes that records every problem as
// "<file>:<line>:<column>: <dotted.key>: <what>" in a Reader instead of stopping at the first.
// Each get_* leaves `out` untouched when the value is wrong, so defaults survive.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>
// toml++ 3.3.0 (Debian 12) asserts on some malformed input in Debug builds ("[\n", "a = [}")
// instead of returning a parse error (fixed upstream after 3.4.0, PR #301). Its asserts are
// turned off here so a bad config file is reported as a TOML syntax error in every build type;
// without NDEBUG this also keeps toml++ from turning them into __builtin_assume.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"

namespace mb::config::detail {

// "text" with '"' and '\\' escaped and control characters as \xNN: for error messages.
std::string quoted(std::string_view s);

// Collects every problem as "file:line:col: key: what".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void error_at(const toml::source_region& where, std::string_view key, std::string_view what) {
    errors_.push_back(fmt::format("{}:{}:{}: {}: {}", file_, where.begin.line, where.begin.column,
                                  key, what));
  }
  void error_at(const toml::node& node, std::string_view key, std::string_view what) {
    error_at(node.source(), key, what);
  }
  void error(std::string_view key, std::string_view what) {
    errors_.push_back(fmt::format("{}: {}: {}", file_, key, what));
  }
  bool ok() const { return errors_.empty(); }
  std::string joined() const {
    std::string out;
    for (const auto& e : errors_) {
      if (!out.empty()) out.push_back('\n');
      out += e;
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

// "a string", "an integer", ...: what the file had, for messages.
std::string_view type_name(const toml::node& n);

// Each reports into `r` and returns without touching `out` on a bad value.
bool get_string(Reader& r, const toml::node& n, std::string_view key, std::string& out);
void get_path(Reader& r, const toml::node& n, std::string_view key, std::string& out);  // non-empty
void get_bool(Reader& r, const toml::node& n, std::string_view key, bool& out);
void get_string_list(Reader& r, const toml::node& n, std::string_view key, std::vector<std::string>& out);
// A list of "host:port" / "[v6]:port" strings.
void get_addresses(Reader& r, const toml::node& n, std::string_view key, std::vector<ListenAddress>& out);
bool parse_listen_address(std::string_view text, ListenAddress& out, std::string& why);
void unknown_key(Reader& r, const toml::key& k, std::string_view section);
// The node as a table, or nullptr after reporting "expected a table [name]".
const toml::table* section_table(Reader& r, const toml::node& n, std::string_view name);

template <class T>
void get_uint(Reader& r, const toml::node& n, std::string_view key, std::uint64_t min,
              std::uint64_t max, T& out) {
  const auto* i = n.as_integer();
  if (i == nullptr || i->get() < 0 || static_cast<std::uint64_t>(i->get()) < min ||
      static_cast<std::uint64_t>(i->get()) > max) {
    r.error_at(n, key,
               i == nullptr ? fmt::format("expected an integer between {} and {}, got {}", min,
                                          max, type_name(n))
                            : fmt::format("expected an integer between {} and {}, got {}", min,
                                          max, i->get()));
    return;
  }
  out = static_cast<T>(i->get());
}

// A size in octets: an integer, or a string with a K/M/G suffix (powers of 1024): "64M".
template <class T>
void get_size(Reader& r, const toml::node& n, std::string_view key, std::uint64_t min,
              std::uint64_t max, T& out) {
  const auto* s = n.as_string();
  std::uint64_t value = 0;
  bool good = s != nullptr && !s->get().empty();
  if (const auto* i = n.as_integer()) {
    good = i->get() >= 0;
    value = good ? static_cast<std::uint64_t>(i->get()) : 0;
  } else if (good) {
    std::string_view text = s->get();
    std::uint64_t mult = 1;
    switch (text.back()) {
      case 'K': case 'k': mult = 1024; break;
      case 'M': case 'm': mult = 1024 * 1024; break;
      case 'G': case 'g': mult = 1024 * 1024 * 1024; break;
      default: break;
    }
    if (mult != 1) text.remove_suffix(1);
    good = !text.empty() && text.size() <= 12;
    for (char c : text) {
      if (c < '0' || c > '9') good = false;
    }
    if (good) {
      for (char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
      value *= mult;
    }
  }
  if (!good || value < min || value > max) {
    r.error_at(n, key,
               fmt::format("expected a size between {} and {} octets (an integer, or a string "
                           "like \"64M\" with suffix K, M or G)",
                           min, max));
    return;
  }
  out = static_cast<T>(value);
}

template <class E, std::size_t N>
void get_enum(Reader& r, const toml::node& n, std::string_view key,
              const std::pair<std::string_view, E> (&choices)[N], E& out) {
  std::string expected;
  for (const auto& [name, value] : choices) {
    if (!expected.empty()) expected += ", ";
    expected += quoted(name);
  }
  const auto* s = n.as_string();
  if (s != nullptr) {
    for (const auto& [name, value] : choices) {
      if (s->get() == name) {
        out = value;
        return;
      }
    }
  }
  r.error_at(n, key,
             fmt::format("expected one of {} (got {})", expected,
                         s != nullptr ? quoted(s->get()) : std::string(type_name(n))));
}

}  // namespace mb::config::detail
