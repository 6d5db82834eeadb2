// File: protocols/imap/parser.cpp
//
// Framing: a command is read line by line; a line ending in "{n}" or "{n+}" announces a
// literal of n octets that follows the CRLF (RFC 3501 §4.3, RFC 7888), after which the
// command continues on the next line. Once a line ends without a literal the whole command
// is handed to the grammar (command_grammar.cpp). Limits are checked at each announcement,
// before any literal byte is buffered.
#include "protocols/imap/parser.hpp"

#include <algorithm>
#include <utility>

#include "protocols/imap/command_grammar.hpp"
#include "protocols/imap/cursor.hpp"

namespace mb::imap {
namespace {
constexpr std::size_t kTailKeep = 32;  // enough for "{18446744073709551615+}"
constexpr std::uint64_t kInitialReserve = 1 << 20;
}  // namespace

Parser::Parser(ParserLimits limits) : limits_(limits) {}

void Parser::feed(std::string_view bytes) {
  // Compact the consumed prefix first, so the buffer holds only unconsumed input.
  if (pos_ == in_.size()) {
    in_.clear();
    scan_ = pos_ = 0;
  } else if (pos_ > 0 && pos_ >= in_.size() / 2) {
    in_.erase(0, pos_);
    scan_ = scan_ > pos_ ? scan_ - pos_ : 0;
    pos_ = 0;
  }
  in_.append(bytes);
}

void Parser::reject_literal() {
  if (state_ != State::wait_continuation) return;
  reset_command();
  state_ = State::line;
}

void Parser::expect_raw_line() { mode_ = Mode::raw_line; }
void Parser::expect_done() {
  mode_ = Mode::done;
  // IDLE may last for hours: with nothing unread, keep no input or command buffer (an idle
  // session's memory is per-connection cost; the next feed() allocates again).
  if (pos_ == in_.size() && state_ == State::line) {
    std::string().swap(in_);
    pos_ = scan_ = 0;
    std::string().swap(text_);
    std::vector<std::string>().swap(literals_);
  }
}

void Parser::discard_input() {
  in_.clear();
  pos_ = scan_ = 0;
  reset_command();
  discard_tail_.clear();
  mode_ = Mode::command;
  if (state_ != State::dead) state_ = State::line;
}

void Parser::reset_command() {
  text_.clear();
  literals_.clear();
  have_message_ = false;
  message_non_sync_ = false;
  message_count_ = 0;
  message_bytes_ = 0;
  command_bytes_ = 0;
  literal_left_ = 0;
  literal_is_message_ = false;
  tag_.clear();
  command_.reset();
  uid_ = false;
  header_len_ = 0;
}

void Parser::remember_tail(std::string_view discarded) {
  discard_tail_.append(discarded.substr(discarded.size() > kTailKeep ? discarded.size() - kTailKeep : 0));
  if (discard_tail_.size() > kTailKeep) discard_tail_.erase(0, discard_tail_.size() - kTailKeep);
}

std::optional<Parser::LiteralSpec> Parser::trailing_literal(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t i = line.size() - 1;
  LiteralSpec spec;
  if (i > 0 && line[i - 1] == '+') {
    spec.non_sync = true;
    --i;
  }
  const std::size_t digits_end = i;
  while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9') --i;
  if (i == digits_end || i == 0 || line[i - 1] != '{') return std::nullopt;
  spec.start = i - 1;
  for (std::size_t k = i; k < digits_end; ++k) {
    const auto d = static_cast<std::uint64_t>(line[k] - '0');
    if (spec.size > (UINT64_MAX - d) / 10) {
      spec.size = UINT64_MAX;  // absurd: refused as too big
      break;
    }
    spec.size = spec.size * 10 + d;
  }
  return spec;
}

void Parser::peek_header(std::string_view line) {
  tag_.clear();
  command_.reset();
  uid_ = false;
  header_len_ = 0;
  std::size_t i = 0;
  while (i < line.size() && is_tag_char(line[i])) ++i;
  if (i == 0 || (i < line.size() && line[i] != ' ')) return;  // no valid tag
  tag_ = std::string(line.substr(0, i));
  if (i == line.size()) return;  // a tag alone: unknown command
  auto word = [&](std::size_t& j) {
    const std::size_t start = j;
    while (j < line.size() && ((line[j] >= 'A' && line[j] <= 'Z') || (line[j] >= 'a' && line[j] <= 'z')))
      ++j;
    return line.substr(start, j - start);
  };
  std::size_t j = i + 1;
  auto name = word(j);
  if (iequals(name, "UID") && j < line.size() && line[j] == ' ') {
    uid_ = true;
    ++j;
    name = word(j);
  }
  command_ = command_from_name(name);
  header_len_ = j + 1;
}

ParseError Parser::make_error(ParseErrorKind kind, std::string text) const {
  ParseError e;
  e.tag = kind == ParseErrorKind::bad_tag ? std::string() : tag_;
  e.command = command_;
  e.kind = kind;
  e.text = std::move(text);
  return e;
}

ParseEvent Parser::drop_after_line(std::string_view line, ParseErrorKind kind, std::string text) {
  ParseError e = make_error(kind, std::move(text));
  reset_command();
  // A bad line that announced "{n+}" is followed by n octets the client sends anyway:
  // skip them and the rest of the command. ("{n}" is never sent without our "+".)
  if (auto lit = trailing_literal(line); lit && lit->non_sync) {
    if (lit->size > limits_.max_append_literal) {
      e.fatal = true;
      e.literal_size = lit->size;
      discard_left_ = lit->size;
      state_ = State::dead;
    } else {
      literal_left_ = lit->size;
      state_ = State::discard_literal;
    }
  }
  return e;
}

std::optional<ParseEvent> Parser::on_line(std::string_view line) {
  if (mode_ == Mode::raw_line) {
    mode_ = Mode::command;
    if (line.size() > limits_.max_line)
      return ParseEvent{make_error(ParseErrorKind::line_too_long, "Line too long")};
    return ParseEvent{RawLine{std::string(line)}};
  }
  if (mode_ == Mode::done) {
    mode_ = Mode::command;
    if (iequals(line, "DONE")) return ParseEvent{IdleDone{}};
    return ParseEvent{make_error(ParseErrorKind::expected_done, "Expected DONE")};
  }
  const bool first_line = text_.empty() && literals_.empty();
  if (first_line) peek_header(line.substr(0, std::min<std::size_t>(line.size(), 1024)));
  if (line.size() > limits_.max_line)
    return drop_after_line(line, ParseErrorKind::line_too_long, "Command line too long");
  if (line.find('\0') != std::string_view::npos)
    return drop_after_line(line, ParseErrorKind::syntax, "NUL octet outside a literal");
  if (first_line) {
    if (tag_.empty()) return drop_after_line(line, ParseErrorKind::bad_tag, "Invalid tag");
    if (!command_ || (uid_ && !takes_uid_prefix(*command_)))
      return drop_after_line(line, ParseErrorKind::unknown_command, "Unknown command");
  }
  command_bytes_ += line.size() + 2;
  if (command_bytes_ > limits_.max_command)
    return drop_after_line(line, ParseErrorKind::command_too_long, "Command too long");

  const auto lit = trailing_literal(line);
  if (!lit) {
    text_.append(line);
    return finish_command();
  }
  text_.append(line.substr(0, lit->start));
  text_ += '\0';
  // An APPEND message is any literal but the mailbox name ("tag APPEND {n}"); MULTIAPPEND
  // (RFC 3502) sends several. Their total is capped by max_append_literal, their count by
  // kMaxAppendMessages, so one command never holds more than one message's worth.
  const bool is_message = command_ == CommandName::append &&
                          !(literals_.empty() && text_.size() - 1 == header_len_);
  const std::uint64_t limit =
      is_message ? limits_.max_append_literal - std::min(message_bytes_, limits_.max_append_literal)
                 : limits_.max_literal;
  const bool too_many = is_message && message_count_ >= kMaxAppendMessages;
  if (too_many || lit->size > limit ||
      (!is_message && command_bytes_ + lit->size > limits_.max_command)) {
    ParseError e = make_error(
        too_many              ? ParseErrorKind::too_many
        : lit->size > limit   ? ParseErrorKind::literal_too_big
                              : ParseErrorKind::command_too_long,
        too_many ? "Too many messages in one APPEND"
        : is_message ? (message_count_ > 0 ? "Messages too large together" : "Message too large")
                     : "Literal too large");
    e.literal_size = lit->size;
    reset_command();
    if (lit->non_sync) {
      // RFC 7888 §4: the octets are already on their way; answer, then close.
      e.fatal = true;
      discard_left_ = lit->size;
      state_ = State::dead;
    }
    return ParseEvent{std::move(e)};
  }
  literals_.emplace_back();
  literal_is_message_ = is_message;
  if (is_message) {
    if (!have_message_) message_non_sync_ = lit->non_sync;
    have_message_ = true;
    ++message_count_;
    message_bytes_ += lit->size;
    // Commit memory as the octets arrive: a client announcing 64 MB and sending nothing
    // holds at most kInitialReserve; past it the full size is reserved once (no doubling).
    literals_.back().reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(lit->size, kInitialReserve)));
  } else {
    command_bytes_ += static_cast<std::size_t>(lit->size);
    literals_.back().reserve(static_cast<std::size_t>(lit->size));
  }
  literal_left_ = lit->size;
  if (lit->non_sync) {
    state_ = State::literal;
    return std::nullopt;
  }
  state_ = State::wait_continuation;
  return ParseEvent{NeedContinuation{tag_, command_, lit->size, is_message}};
}

ParseEvent Parser::finish_command() {
  Cursor cur(text_, literals_, limits_);
  Command cmd;
  bool known = false;
  if (parse_command(cur, cmd, known)) {
    if (auto* a = std::get_if<AppendArgs>(&cmd.args)) a->non_sync = message_non_sync_;
    reset_command();
    return ParseEvent{std::move(cmd)};
  }
  ParseError e = make_error(cur.error_kind(), cur.error_text());
  if (known) e.command = cmd.name;
  reset_command();
  return ParseEvent{std::move(e)};
}

ParseEvent Parser::next() {
  for (;;) {
    const std::size_t avail = in_.size() - pos_;
    switch (state_) {
      case State::dead: {
        discard_left_ -= std::min<std::uint64_t>(avail, discard_left_);
        in_.clear();
        pos_ = scan_ = 0;
        return NeedMore{};
      }
      case State::wait_continuation:
        state_ = State::literal;
        continue;
      case State::literal:
      case State::discard_literal: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(avail, literal_left_));
        if (state_ == State::literal) {
          std::string& dst = literals_.back();
          if (dst.capacity() < dst.size() + n) dst.reserve(dst.size() + static_cast<std::size_t>(literal_left_));
          dst.append(in_, pos_, n);
        }
        pos_ += n;
        literal_left_ -= n;
        if (literal_left_ > 0) return NeedMore{};
        state_ = state_ == State::literal ? State::line : State::discard_line;
        scan_ = pos_;
        continue;
      }
      case State::line:
      case State::discard_line: {
        const std::size_t lf = in_.find('\n', std::max(scan_, pos_));
        if (lf == std::string::npos) {
          scan_ = in_.size();
          if (state_ == State::discard_line) {
            remember_tail(std::string_view(in_).substr(pos_));
            pos_ = in_.size();
            return NeedMore{};
          }
          if (mode_ == Mode::command && avail > limits_.max_line + 1) {
            // No end of line within the limit: answer now, drop the rest of the line.
            if (text_.empty() && literals_.empty())
              peek_header(std::string_view(in_).substr(pos_, 1024));
            ParseError e = make_error(ParseErrorKind::line_too_long, "Command line too long");
            reset_command();
            discard_tail_.clear();
            remember_tail(std::string_view(in_).substr(pos_));
            pos_ = in_.size();
            state_ = State::discard_line;
            return e;
          }
          if (mode_ != Mode::command && avail > limits_.max_line + 1) {
            ParseError e = make_error(
                mode_ == Mode::done ? ParseErrorKind::expected_done : ParseErrorKind::line_too_long,
                "Line too long");
            mode_ = Mode::command;
            discard_tail_.clear();
            pos_ = in_.size();
            state_ = State::discard_line;
            return e;
          }
          return NeedMore{};
        }
        std::string_view line(in_.data() + pos_, lf - pos_);
        pos_ = scan_ = lf + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (state_ == State::discard_line) {
          remember_tail(line);
          // A CR that arrived in an earlier chunk sits in the tail, not in `line`.
          if (!discard_tail_.empty() && discard_tail_.back() == '\r') discard_tail_.pop_back();
          const auto lit = trailing_literal(discard_tail_);
          discard_tail_.clear();
          state_ = State::line;
          if (lit && lit->non_sync) {
            literal_left_ = lit->size;
            state_ = State::discard_literal;
          }
          continue;
        }
        if (auto ev = on_line(line)) return std::move(*ev);
        continue;
      }
    }
  }
}

}  // namespace mb::imap
