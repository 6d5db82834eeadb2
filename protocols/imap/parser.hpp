// File: protocols/imap/parser.hpp
//
// mb::imap::Parser: the incremental, sans-I/O IMAP command parser (RFC 3501 §9 grammar,
// LITERAL+ RFC 7888, UIDPLUS RFC 4315, MOVE RFC 6851, ENABLE RFC 5161, ID RFC 2971,
// IDLE RFC 2177, UNSELECT RFC 3691, LIST-EXTENDED/SPECIAL-USE RFC 5258/6154, SASL-IR RFC 4959).
//
// Usage (one parser per connection, loop thread only):
//
//   parser.feed(bytes);                       // any split: byte-at-a-time works
//   for (;;) {
//     ParseEvent ev = parser.next();
//     if (std::holds_alternative<NeedMore>(ev)) break;
//     ...                                     // Command / NeedContinuation / RawLine /
//   }                                         // IdleDone / ParseError
//
// Events:
//  - Command: one complete command (all lines and literals read, final CRLF consumed).
//  - NeedContinuation{tag, command, size}: a synchronizing literal "{n}" was announced and
//    is within limits. No literal byte has been accepted yet. The session either sends
//    "+ ..." and calls next() again (the parser then reads the literal), or refuses with a
//    tagged BAD/NO and calls reject_literal() (the client sends no literal: the command is
//    dropped, RFC 3501 §7.5). Non-synchronizing literals "{n+}" produce no event.
//  - RawLine: after expect_raw_line(): one line without CRLF (AUTHENTICATE continuation).
//  - IdleDone: after expect_done(): the client sent "DONE" (case-insensitive).
//  - ParseError: answer "<tag> BAD <text>" ("* BAD" when tag is empty), except kind
//    literal_too_big with command APPEND: "NO [TOOBIG]" (RFC 4469 / RFC 7889 usage).
//    If fatal, answer and close: the parser then swallows all further input; with LITERAL+
//    the client is already sending the literal, `discard_remaining()` says how many of its
//    bytes are still expected so the session may read them (within its limits) before
//    closing, so the client sees the answer (RFC 7888 §4).
//    Non-fatal errors drop the offending command (the rest of its line is discarded, also
//    for over-long lines) and parsing resumes with the next command.
//
// Memory: input is buffered only until the current command completes; each line is capped by
// max_line, a command's non-message bytes by max_command. The APPEND message literal is read
// straight into Command::get<AppendArgs>().message and moved out with the Command: one copy of
// the message in memory, no streaming. Memory follows the octets received (1 MB reserved at
// the announcement, the full announced size reserved once the client has sent more).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/imap/command.hpp"

namespace mb::imap {

// Messages one MULTIAPPEND may carry (RFC 3502); their total size is max_append_literal.
inline constexpr std::size_t kMaxAppendMessages = 1000;

struct ParserLimits {
  std::size_t max_line = 64 * 1024;              // one line, CRLF excluded
  std::uint64_t max_literal = 64 * 1024;         // any literal except the APPEND message
  std::uint64_t max_append_literal = 64ull << 20;  // the APPEND message literal (all the
                                                   // messages of a MULTIAPPEND together)
  std::size_t max_command = 256 * 1024;          // all lines + literals of one command,
                                                 // the APPEND message excluded
  std::size_t max_depth = 32;                    // nested parentheses / SEARCH nesting
  std::size_t max_items = 32768;                 // elements of one list, ranges of one set,
                                                 // SEARCH keys of one command (a 64 KB line
                                                 // of "1,3,5,..." stays within it)
};

enum class ParseErrorKind : std::uint8_t {
  syntax,            // malformed arguments
  bad_tag,           // no valid tag (answer "* BAD")
  unknown_command,   // command name not recognised (or UID with a command that has no UID form)
  line_too_long,     // a line over max_line (rest of the line discarded)
  command_too_long,  // a command over max_command
  literal_too_big,   // literal over its limit: BAD, or NO [TOOBIG] for APPEND
  too_deep,          // nesting over max_depth
  too_many,          // a list or set over max_items
  bad_mailbox_name,  // 8-bit or invalid modified UTF-7 (RFC 3501 §5.1.3)
  expected_done,     // during IDLE, a line other than DONE (RFC 2177)
};

struct ParseError {
  std::string tag;                      // empty: the tag could not be read
  std::optional<CommandName> command;   // when the command name was recognised
  ParseErrorKind kind = ParseErrorKind::syntax;
  bool fatal = false;                   // answer, then close the connection
  std::string text;                     // for the BAD/NO response text
  std::uint64_t literal_size = 0;       // literal_too_big: the announced size
};

struct NeedMore {};

struct NeedContinuation {
  std::string tag;
  std::optional<CommandName> command;
  std::uint64_t size = 0;
  bool append_message = false;  // this literal is the APPEND message (max_append_literal)
};

struct RawLine {
  std::string line;
};

struct IdleDone {};

using ParseEvent = std::variant<NeedMore, Command, NeedContinuation, RawLine, IdleDone, ParseError>;

class Parser {
 public:
  explicit Parser(ParserLimits limits = {});

  // Append received bytes (copied). Cheap; all work happens in next().
  void feed(std::string_view bytes);

  // The next event from the buffered input, NeedMore when more bytes are needed.
  ParseEvent next();

  // After NeedContinuation: the session refused the literal; drop the command.
  void reject_literal();

  // The next line is returned whole as RawLine (AUTHENTICATE continuation, RFC 3501 §6.2.2).
  void expect_raw_line();

  // The next line must be "DONE" (RFC 2177): IdleDone, or ParseError{expected_done}.
  void expect_done();

  // Drop all buffered input and any partial command (after STARTTLS, RFC 3501 §6.2.1).
  void discard_input();

  // Bytes fed but not yet consumed into an event.
  std::size_t buffered() const { return in_.size() - pos_; }

  // After a fatal literal_too_big: literal bytes the client is still expected to send.
  std::uint64_t discard_remaining() const { return discard_left_; }

  const ParserLimits& limits() const { return limits_; }

 private:
  enum class State : std::uint8_t {
    line,               // reading a command line
    literal,            // reading literal bytes
    wait_continuation,  // NeedContinuation returned; next() starts the literal
    discard_line,       // dropping the rest of a bad line
    discard_literal,    // dropping a "{n+}" literal announced by a bad line
    dead,               // after a fatal error: swallow everything
  };
  enum class Mode : std::uint8_t { command, raw_line, done };

  struct LiteralSpec {
    std::size_t start = 0;  // offset of '{' in the line
    std::uint64_t size = 0;
    bool non_sync = false;
  };
  static std::optional<LiteralSpec> trailing_literal(std::string_view line);

  std::optional<ParseEvent> on_line(std::string_view line);
  ParseEvent finish_command();
  ParseError make_error(ParseErrorKind kind, std::string text) const;
  ParseEvent drop_after_line(std::string_view line, ParseErrorKind kind, std::string text);
  void remember_tail(std::string_view discarded);
  void reset_command();
  void peek_header(std::string_view line);

  ParserLimits limits_;
  std::string in_;
  std::size_t pos_ = 0;   // consumed prefix of in_
  std::size_t scan_ = 0;  // in_ before this holds no LF of the current line
  State state_ = State::line;
  Mode mode_ = Mode::command;

  // The command being assembled: its lines joined, each literal replaced by one NUL byte
  // (NUL is not allowed outside literals, RFC 3501 §9 CHAR8), literal contents in order.
  std::string text_;
  std::vector<std::string> literals_;
  bool have_message_ = false;      // an APPEND message literal was announced
  bool message_non_sync_ = false;  // the first one was "{n+}"
  std::size_t message_count_ = 0;  // APPEND message literals so far (MULTIAPPEND)
  std::uint64_t message_bytes_ = 0;  // and their announced sizes together
  std::size_t command_bytes_ = 0;
  std::uint64_t literal_left_ = 0;
  bool literal_is_message_ = false;
  std::uint64_t discard_left_ = 0;
  std::string discard_tail_;       // tail of a discarded line, to spot "{n+}"

  // Tag and command name of the command being assembled, from its first line.
  std::string tag_;
  std::optional<CommandName> command_;
  bool uid_ = false;
  std::size_t header_len_ = 0;     // length of "tag SP name SP"
};

}  // namespace mb::imap
