// File: gateway/log/log.hpp
//
// One line per event on stderr, text (default) or JSON, formatted with {fmt}.
//
//   mb::log::info("listening on {}", address);
//   mb::log::warn(ctx, "login failed ({} in a row)", failures);   // ctx: connection id, peer, user
//
// Each line is written with a single write(2) so lines from threads never interleave.
// Never log a password or a message body: callers pass only metadata.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace mb::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

void set_level(Level level);
Level level();
void set_format(Format format);
// Parses "debug" | "info" | "warn" | "error"; false if unknown.
bool parse_level(std::string_view text, Level& out);

// Who an event is about. Empty fields are left out of the line.
struct Context {
  std::string_view conn;  // connection id, e.g. "c17"
  std::string_view peer;  // remote address
  std::string_view user;  // once authenticated
};

void write(Level level, const Context* context, std::string_view message);

inline bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(level()); }

#define MB_LOG_DEFINE_LEVEL(name, lvl)                                                 \
  template <typename... Args>                                                          \
  void name(fmt::format_string<Args...> format, Args&&... args) {                      \
    if (enabled(lvl)) write(lvl, nullptr, fmt::format(format, std::forward<Args>(args)...)); \
  }                                                                                    \
  template <typename... Args>                                                          \
  void name(const Context& context, fmt::format_string<Args...> format, Args&&... args) { \
    if (enabled(lvl)) write(lvl, &context, fmt::format(format, std::forward<Args>(args)...)); \
  }

MB_LOG_DEFINE_LEVEL(debug, Level::debug)
MB_LOG_DEFINE_LEVEL(info, Level::info)
MB_LOG_DEFINE_LEVEL(warn, Level::warn)
MB_LOG_DEFINE_LEVEL(error, Level::error)

#undef MB_LOG_DEFINE_LEVEL

}  // namespace mb::log
