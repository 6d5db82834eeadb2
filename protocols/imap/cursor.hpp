// File: protocols/imap/cursor.hpp
//
// Cursor: the token reader the grammar functions (command_grammar, fetch_parse, search_parse)
// share, over one fully assembled command. Internal to mb_imap_parser.
//
// Contract: the command text holds its lines joined without CRLF; each literal is replaced by
// one NUL byte (NUL cannot occur outside literals, RFC 3501 §9 CHAR8) and its contents sit in
// `literals` in order. Literal contents are moved out when read. Functions return false /
// std::nullopt on a mismatch; the first explicit fail() sets the error kind and text that the
// parser reports (otherwise a generic syntax error is reported).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/imap/command.hpp"
#include "protocols/imap/parser.hpp"

namespace mb::imap {

// RFC 3501 §9 ATOM-CHAR: any CHAR except atom-specials. 8-bit bytes are let through here
// (lenient, as Dovecot) and rejected where the grammar forbids them (mailbox names, tags).
bool is_atom_char(char c);
// ASTRING-CHAR = ATOM-CHAR / resp-specials ("]").
inline bool is_astring_char(char c) { return c == ']' || is_atom_char(c); }
// list-char = ATOM-CHAR / list-wildcards / resp-specials.
inline bool is_list_char(char c) { return c == '%' || c == '*' || is_astring_char(c); }

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
std::string to_upper(std::string_view s);

class Cursor {
 public:
  Cursor(std::string_view text, std::vector<std::string>& literals, const ParserLimits& limits)
      : text_(text), literals_(literals), limits_(limits) {}

  bool at_end() const { return pos_ >= text_.size(); }
  // The next byte, or -1 at the end.
  int peek() const { return at_end() ? -1 : static_cast<unsigned char>(text_[pos_]); }
  bool at_literal() const { return peek() == 0; }

  bool consume(char c);
  // Exactly one SP.
  bool sp() { return consume(' ') || fail_syntax("expected SP"); }
  // A case-insensitive keyword followed by a non-atom char (or end).
  bool keyword(std::string_view word);

  // Runs of bytes (may be empty).
  std::string_view take_while(bool (*pred)(char));
  // 1*ATOM-CHAR.
  std::optional<std::string_view> atom();
  // astring = 1*ASTRING-CHAR / string.
  std::optional<std::string> astring();
  // string = quoted / literal.
  std::optional<std::string> string();
  std::optional<std::string> quoted();
  // The next literal, moved out. `literal_index` receives its position among the literals.
  std::optional<std::string> literal(std::size_t* literal_index = nullptr);
  // nstring: NIL -> std::nullopt in `value`, returns false on a mismatch.
  bool nstring(std::optional<std::string>& value);
  // number (32-bit, RFC 3501 §9) / nz-number; number64 for sizes.
  std::optional<std::uint32_t> number();
  std::optional<std::uint32_t> nz_number();
  std::optional<std::uint64_t> number64();

  // Nesting depth guard for parenthesised lists and SEARCH keys.
  bool enter();
  void leave() { --depth_; }

  bool fail(ParseErrorKind kind, std::string text);
  bool fail_syntax(std::string text) { return fail(ParseErrorKind::syntax, std::move(text)); }
  bool failed() const { return failed_; }
  ParseErrorKind error_kind() const { return kind_; }
  const std::string& error_text() const { return error_; }

  const ParserLimits& limits() const { return limits_; }
  std::size_t position() const { return pos_; }

 private:
  std::string_view text_;
  std::vector<std::string>& literals_;
  const ParserLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t next_literal_ = 0;
  std::size_t depth_ = 0;
  bool failed_ = false;
  ParseErrorKind kind_ = ParseErrorKind::syntax;
  std::string error_;
};

// Mailbox name (astring, RFC 3501 §5.1): 8-bit -> bad_mailbox_name; invalid modified UTF-7
// -> bad_mailbox_name for a name being created (CREATE, RENAME's new name), otherwise parsed
// with `undecodable` set; "INBOX" in any case -> "INBOX".
enum class NameUse : std::uint8_t { existing, created };
bool parse_mailbox(Cursor& cur, MailboxName& out, NameUse use = NameUse::existing);
// list-mailbox = 1*list-char / string, decoded from modified UTF-7 (RFC 3501 §6.3.8).
bool parse_list_mailbox(Cursor& cur, std::string& out);
// flag-list "(" [flag *(SP flag)] ")"; `parens` false reads flag *(SP flag) (STORE).
bool parse_flags(Cursor& cur, std::vector<std::string>& out, bool parens);
// A sequence-set token (atom), parsed with the parser limits.
bool parse_seqset(Cursor& cur, SequenceSet& out);

}  // namespace mb::imap
