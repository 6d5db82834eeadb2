// File: protocols/pop3/command.cpp
#include "protocols/pop3/command.hpp"

#include <cstring>

namespace mb::pop3 {
namespace {

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Keyword -> verb without allocating: keywords are 4 letters (RFC 1939 §3, RFC 2449 §3; TOP
// has 3), so pack the upper-cased letters into one integer and compare.
constexpr std::uint32_t pack(const char (&k)[5]) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(k[0])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(k[1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(k[2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(k[3]));
}

Verb verb_of(std::string_view keyword) {
  if (keyword.size() == 3) {
    // TOP is the one 3-letter keyword.
    if (upper(keyword[0]) == 'T' && upper(keyword[1]) == 'O' && upper(keyword[2]) == 'P') return Verb::top;
    return Verb::unknown;
  }
  if (keyword.size() != 4) return Verb::unknown;
  std::uint32_t v = 0;
  for (char c : keyword) v = (v << 8) | static_cast<unsigned char>(upper(c));
  switch (v) {
    case pack("USER"): return Verb::user;
    case pack("PASS"): return Verb::pass;
    case pack("APOP"): return Verb::apop;
    case pack("AUTH"): return Verb::auth;
    case pack("STLS"): return Verb::stls;
    case pack("CAPA"): return Verb::capa;
    case pack("QUIT"): return Verb::quit;
    case pack("STAT"): return Verb::stat;
    case pack("LIST"): return Verb::list;
    case pack("RETR"): return Verb::retr;
    case pack("DELE"): return Verb::dele;
    case pack("NOOP"): return Verb::noop;
    case pack("RSET"): return Verb::rset;
    case pack("UIDL"): return Verb::uidl;
    default: break;
  }
  return Verb::unknown;
}

}  // namespace

LineReader::Event LineReader::next(std::string_view in) {
  Event ev;
  if (in.empty()) return ev;
  const void* hit = std::memchr(in.data(), '\n', in.size());
  if (discarding_) {
    // Rest of an over-long line: drop it, including its LF.
    if (hit == nullptr) {
      ev.consumed = in.size();
      return ev;
    }
    ev.consumed = static_cast<std::size_t>(static_cast<const char*>(hit) - in.data()) + 1;
    discarding_ = false;
    return ev;  // need_more with consumed > 0: the caller loops
  }
  if (hit == nullptr) {
    // No line end yet. Keep at most max_line_ - 1 octets (room for the CR before the LF).
    if (in.size() >= max_line_) {
      discarding_ = true;
      ev.kind = Event::Kind::too_long;
      ev.consumed = in.size();
    }
    return ev;
  }
  const std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(hit) - in.data());
  ev.consumed = lf + 1;
  // Count the line as if it ended in CRLF, so bare-LF lines get the same limit.
  std::size_t content = lf;
  if (content > 0 && in[content - 1] == '\r') --content;
  if (content + 2 > max_line_) {
    ev.kind = Event::Kind::too_long;
    return ev;
  }
  ev.kind = Event::Kind::line;
  ev.line = in.substr(0, content);
  return ev;
}

mb::Result<Command, ParseError> parse_command(std::string_view line) {
  if (line.empty()) return mb::unexpected(ParseError::empty);
  Command cmd;
  const std::size_t sp = line.find(' ');
  cmd.keyword = line.substr(0, sp);
  if (cmd.keyword.size() < 3 || cmd.keyword.size() > 4) return mb::unexpected(ParseError::bad_keyword);
  for (char c : cmd.keyword) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return mb::unexpected(ParseError::bad_keyword);
  }
  cmd.verb = verb_of(cmd.keyword);
  if (sp == std::string_view::npos) return cmd;
  cmd.rest = line.substr(sp + 1);
  // Arguments separated by one or more spaces (lenient: RFC 1939 says one). All are
  // counted; the first args.size() are kept.
  std::string_view r = cmd.rest;
  for (;;) {
    const std::size_t start = r.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    r.remove_prefix(start);
    const std::size_t end = r.find(' ');
    if (cmd.argc < cmd.args.size()) cmd.args[cmd.argc] = r.substr(0, end);
    ++cmd.argc;
    if (end == std::string_view::npos) break;
    r.remove_prefix(end);
  }
  return cmd;
}

std::optional<std::uint32_t> parse_number(std::string_view text, bool allow_zero) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFu) return std::nullopt;
  if (v == 0 && !allow_zero) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

}  // namespace mb::pop3
