// File: protocols/pop3/command.hpp
//
// Sans-I/O POP3 command parser (RFC 1939 §3, RFC 2449 §3-4). Two layers:
//
//   LineReader   splits buffered input into lines (CRLF, or a bare LF from sloppy clients).
//                A line longer than its limit (RFC 2449 §4: 255 octets including CRLF for
//                commands) is reported once as `too_long` and then discarded up to its LF,
//                so a hostile client can never make us buffer more than the limit.
//   parse_command  turns one line into a Command: keyword (case-insensitive, RFC 1939 §3)
//                and up to two arguments; `rest` keeps everything after the keyword for
//                PASS, whose argument may contain spaces (as Dovecot accepts).
//
// Never writes output; the session decides what to answer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocols/common/result.hpp"

namespace mb::pop3 {

// RFC 2449 §4: a command line is at most 255 octets including the CRLF.
inline constexpr std::size_t kMaxCommandLine = 255;
// SASL responses (RFC 5034 §4: "may be of arbitrary length"); ours are bounded.
inline constexpr std::size_t kMaxSaslLine = 8192 + 2;

class LineReader {
 public:
  struct Event {
    enum class Kind { need_more, line, too_long };
    Kind kind = Kind::need_more;
    std::string_view line;     // Kind::line: without CRLF / LF; points into the input
    std::size_t consumed = 0;  // octets of the input to drop
  };

  explicit LineReader(std::size_t max_line = kMaxCommandLine) : max_line_(max_line) {}

  // Limit, counting the line end (CRLF = 2 octets).
  void set_max_line(std::size_t max_line) { max_line_ = max_line; }
  std::size_t max_line() const { return max_line_; }

  // Looks at the unconsumed input `in`. The caller drops `consumed` octets and calls again
  // until need_more.
  Event next(std::string_view in);

  bool discarding() const { return discarding_; }
  void reset() { discarding_ = false; }

 private:
  std::size_t max_line_;
  bool discarding_ = false;
};

enum class Verb : std::uint8_t {
  user, pass, apop, auth, stls, capa, quit,             // AUTHORIZATION (+ CAPA/QUIT anywhere)
  stat, list, retr, dele, noop, rset, top, uidl,       // TRANSACTION
  unknown,
};

struct Command {
  Verb verb = Verb::unknown;
  std::string_view keyword;  // as sent
  std::string_view rest;     // everything after "KEYWORD " (may contain spaces)
  std::array<std::string_view, 3> args{};
  std::size_t argc = 0;      // number of space-separated arguments (all counted)
};

enum class ParseError : std::uint8_t {
  empty,        // empty line
  bad_keyword,  // keyword not 3-4 printable characters
};

mb::Result<Command, ParseError> parse_command(std::string_view line);

// RFC 1939 message number / TOP line count: 1-10 decimal digits, no sign, fits 32 bits.
// `allow_zero` for TOP's line count.
std::optional<std::uint32_t> parse_number(std::string_view text, bool allow_zero = false);

}  // namespace mb::pop3
