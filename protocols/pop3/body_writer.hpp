// File: protocols/pop3/body_writer.hpp
//
// Turns a message's wire octets, fed in arbitrary chunks (RETR streams 64 KB reads), into a
// POP3 multi-line body (RFC 1939 §3): every line ends in CRLF (a bare LF gets its CR), a line
// starting with "." gets another "." (dot-stuffing, across chunk boundaries), a final line
// without a line end is terminated, and ".\r\n" closes the response. Octets pass unchanged
// otherwise (8-bit content included).
//
// TOP (RFC 1939 §7): with a body line limit n, only the header, the blank line and the first
// n body lines are written; feed() then reports `done` and the caller stops reading. A
// message without a blank line is all header and is sent whole.
//
// No allocation of its own: appends to the caller's string (one response buffer). RETR
// normally bypasses feed(): the store writes the stuffed form directly (wrote(), finish(char*)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mb::pop3 {

class BodyWriter {
 public:
  // `body_lines`: nullopt for RETR (everything), n for TOP.
  explicit BodyWriter(std::optional<std::uint32_t> body_lines = std::nullopt)
      : limited_(body_lines.has_value()), lines_left_(body_lines.value_or(0)) {}

  // Appends the stuffed form of `chunk` to `out`. Returns true when the TOP limit has been
  // reached (the rest of the message is not wanted).
  bool feed(std::string_view chunk, std::string& out);
  // Terminates the last line if needed and appends the ".\r\n" terminator.
  void finish(std::string& out);
  // The same into a raw buffer (at most kMaxFinish bytes); returns the bytes written.
  static constexpr std::size_t kMaxFinish = 5;
  std::size_t finish(char* dst);

  // RETR's fused path (store::Mailbox::read_now with line escape kStuffByte) writes stuffed
  // CRLF lines itself: keep the line state in step with the last byte it wrote, so finish()
  // or a later feed() (the thread-pool fallback) continues correctly. RETR only (no limit).
  static constexpr char kStuffByte = '.';
  void wrote(char last_byte) {
    at_line_start_ = last_byte == '\n';
    prev_cr_ = last_byte == '\r';
    line_len_ = at_line_start_ ? 0 : 1;
  }

  // RETR over the store's wire octets (CRLF already): true when no line in `wire` starts
  // with '.' (given the line state so far), i.e. it can be sent unchanged, followed by
  // wrote(wire.back()). A vector scan: large messages rarely have dot lines.
  bool passes_unchanged(std::string_view wire) const;

  bool done() const { return done_; }

 private:
  // Called at each LF; returns true when output must stop after this line.
  bool end_of_line(bool empty_line);

  bool limited_;
  std::uint32_t lines_left_;
  bool in_header_ = true;
  bool at_line_start_ = true;
  bool prev_cr_ = false;        // the last octet written was CR (CRLF split across chunks)
  std::size_t line_len_ = 0;    // octets of the current line so far, CR included
  bool done_ = false;
};

}  // namespace mb::pop3
