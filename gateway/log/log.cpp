// File: gateway/log/log.cpp
#include "gateway/log/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace mb::log {
namespace {

std::atomic<Level> g_level{Level::info};
std::atomic<Format> g_format{Format::text};

constexpr std::string_view level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

// JSON string escaping (RFC 8259 §7): quotes, backslash and control characters.
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Text lines must stay one line: control characters from peers are shown escaped.
void append_text(std::string& out, std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms));
}

}  // namespace

void set_level(Level l) { g_level.store(l); }
Level level() { return g_level.load(std::memory_order_relaxed); }
void set_format(Format f) { g_format.store(f); }

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void write(Level l, const Context* ctx, std::string_view message) {
  std::string line;
  line.reserve(message.size() + 96);
  if (g_format.load(std::memory_order_relaxed) == Format::json) {
    line += "{\"ts\":\"";
    line += timestamp();
    line += "\",\"level\":\"";
    line += level_name(l);
    line += '"';
    if (ctx != nullptr) {
      if (!ctx->conn.empty()) { line += ",\"conn\":"; append_json_string(line, ctx->conn); }
      if (!ctx->peer.empty()) { line += ",\"peer\":"; append_json_string(line, ctx->peer); }
      if (!ctx->user.empty()) { line += ",\"user\":"; append_json_string(line, ctx->user); }
    }
    line += ",\"msg\":";
    append_json_string(line, message);
    line += "}\n";
  } else {
    line += timestamp();
    line += ' ';
    line += level_name(l);
    if (ctx != nullptr) {
      if (!ctx->conn.empty()) { line += ' '; append_text(line, ctx->conn); }
      if (!ctx->peer.empty()) { line += " peer="; append_text(line, ctx->peer); }
      if (!ctx->user.empty()) { line += " user="; append_text(line, ctx->user); }
    }
    line += ": ";
    append_text(line, message);
    line += '\n';
  }
  // One write per line; a short write on stderr is retried, an error is ignored (nowhere
  // else to report it).
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace mb::log
