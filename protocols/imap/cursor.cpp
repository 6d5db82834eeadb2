// File: protocols/imap/cursor.cpp
#include "protocols/imap/cursor.hpp"

#include <algorithm>
#include <utility>

#include "protocols/imap/seqset.hpp"
#include "protocols/imap/utf7.hpp"

namespace mb::imap {

bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x1f || u == 0x7f) return false;  // CTL (NUL marks a literal)
  switch (c) {
    case '(': case ')': case '{': case ' ': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

bool Cursor::consume(char c) {
  if (at_end() || text_[pos_] != c) return false;
  ++pos_;
  return true;
}

bool Cursor::keyword(std::string_view word) {
  if (text_.size() - pos_ < word.size() || !iequals(text_.substr(pos_, word.size()), word))
    return false;
  const std::size_t end = pos_ + word.size();
  if (end < text_.size() && is_atom_char(text_[end]) && text_[end] != '[' && text_[end] != '<')
    return false;
  pos_ = end;
  return true;
}

std::string_view Cursor::take_while(bool (*pred)(char)) {
  const std::size_t start = pos_;
  while (pos_ < text_.size() && pred(text_[pos_])) ++pos_;
  return text_.substr(start, pos_ - start);
}

std::optional<std::string_view> Cursor::atom() {
  auto a = take_while(is_atom_char);
  if (a.empty()) return std::nullopt;
  return a;
}

std::optional<std::string> Cursor::astring() {
  if (peek() == '"' || at_literal()) return string();
  auto a = take_while(is_astring_char);
  if (a.empty()) return std::nullopt;
  return std::string(a);
}

std::optional<std::string> Cursor::string() {
  if (peek() == '"') return quoted();
  if (at_literal()) return literal();
  return std::nullopt;
}

std::optional<std::string> Cursor::quoted() {
  if (!consume('"')) return std::nullopt;
  std::string out;
  for (;;) {
    if (at_end()) {
      fail_syntax("unterminated quoted string");
      return std::nullopt;
    }
    const char c = text_[pos_++];
    if (c == '"') return out;
    if (c == '\0') {  // a literal marker: CR/LF inside a quoted string
      fail_syntax("quoted string spans lines");
      return std::nullopt;
    }
    if (c == '\\') {
      // quoted-specials only (RFC 3501 §9: "\" quoted-specials)
      if (at_end() || (text_[pos_] != '"' && text_[pos_] != '\\')) {
        fail_syntax("invalid escape in quoted string");
        return std::nullopt;
      }
      out += text_[pos_++];
      continue;
    }
    out += c;
  }
}

std::optional<std::string> Cursor::literal(std::size_t* literal_index) {
  if (!at_literal() || next_literal_ >= literals_.size()) return std::nullopt;
  ++pos_;
  if (literal_index) *literal_index = next_literal_;
  return std::move(literals_[next_literal_++]);
}

bool Cursor::nstring(std::optional<std::string>& value) {
  if (keyword("NIL")) {
    value.reset();
    return true;
  }
  value = string();
  return value.has_value();
}

std::optional<std::uint64_t> Cursor::number64() {
  const std::size_t start = pos_;
  std::uint64_t v = 0;
  while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
    if (v > (UINT64_MAX - 9) / 10) {
      fail_syntax("number too large");
      return std::nullopt;
    }
    v = v * 10 + static_cast<std::uint64_t>(text_[pos_] - '0');
    ++pos_;
  }
  if (pos_ == start) return std::nullopt;
  return v;
}

std::optional<std::uint32_t> Cursor::number() {
  auto v = number64();
  if (!v) return std::nullopt;
  if (*v > 0xffffffffu) {
    fail_syntax("number too large");
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(*v);
}

std::optional<std::uint32_t> Cursor::nz_number() {
  auto v = number();
  if (!v || *v == 0) return std::nullopt;
  return v;
}

bool Cursor::enter() {
  if (++depth_ > limits_.max_depth) return fail(ParseErrorKind::too_deep, "nesting too deep");
  return true;
}

bool Cursor::fail(ParseErrorKind kind, std::string text) {
  if (!failed_) {
    failed_ = true;
    kind_ = kind;
    error_ = std::move(text);
  }
  return false;
}

namespace {

bool is_printable_ascii(std::string_view wire) {
  for (char c : wire) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

// Decode a mailbox/pattern from its wire form: printable ASCII modified UTF-7 only.
bool decode_name(Cursor& cur, std::string_view wire, std::string& out) {
  for (char c : wire) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e)
      return cur.fail(ParseErrorKind::bad_mailbox_name,
                      "Mailbox name must be 7-bit modified UTF-7 (RFC 3501 5.1.3)");
  }
  auto decoded = utf7_decode(wire);
  if (!decoded)
    return cur.fail(ParseErrorKind::bad_mailbox_name,
                    "Invalid modified UTF-7 in mailbox name (RFC 3501 5.1.3)");
  out = std::move(*decoded);
  return true;
}

}  // namespace

bool parse_mailbox(Cursor& cur, MailboxName& out, NameUse use) {
  auto wire = cur.astring();
  if (!wire) return cur.fail_syntax("expected mailbox name");
  if (use == NameUse::existing && is_printable_ascii(*wire)) {
    auto decoded = utf7_decode(*wire);
    out.undecodable = !decoded;
    out.name = decoded ? std::move(*decoded) : std::string();
  } else if (!decode_name(cur, *wire, out.name)) {
    return false;
  }
  if (iequals(out.name, "INBOX")) out.name = "INBOX";  // RFC 3501 §5.1
  out.wire = std::move(*wire);
  return true;
}

bool parse_list_mailbox(Cursor& cur, std::string& out) {
  std::string wire;
  if (cur.peek() == '"' || cur.at_literal()) {
    auto s = cur.string();
    if (!s) return cur.fail_syntax("expected list pattern");
    wire = std::move(*s);
  } else {
    auto a = cur.take_while(is_list_char);
    if (a.empty()) return cur.fail_syntax("expected list pattern");
    wire = std::string(a);
  }
  // A pattern is not a name: printable ASCII that is not valid modified UTF-7 (say "&'" from
  // a client that never encodes) is matched as written, so LIST answers OK with whatever it
  // matches, as Dovecot does (imaptest "atoms"). 8-bit and control bytes stay BAD.
  for (char c : wire) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return decode_name(cur, wire, out);
  }
  if (auto decoded = utf7_decode(wire)) {
    out = std::move(*decoded);
  } else {
    out = std::move(wire);
  }
  return true;
}

namespace {
bool is_flag_char(char c) { return is_atom_char(c) && static_cast<unsigned char>(c) < 0x80; }
}  // namespace

bool parse_flags(Cursor& cur, std::vector<std::string>& out, bool parens) {
  if (parens && !cur.consume('(')) return cur.fail_syntax("expected flag list");
  bool first = true;
  for (;;) {
    if (parens && cur.consume(')')) return true;
    if (!first && !cur.sp()) return false;
    if (parens && !first && cur.peek() == ')') return cur.fail_syntax("expected flag");
    std::string flag;
    if (cur.consume('\\')) flag = "\\";
    auto name = cur.take_while(is_flag_char);
    if (name.empty()) return cur.fail_syntax("expected flag");
    flag.append(name);
    if (out.size() >= cur.limits().max_items)
      return cur.fail(ParseErrorKind::too_many, "too many flags");
    out.push_back(std::move(flag));
    first = false;
    if (!parens && cur.peek() != ' ') return true;
  }
}

bool parse_seqset(Cursor& cur, SequenceSet& out) {
  // RFC 5182 §4: sequence-set =/ seq-last-command ("$"), alone, never inside a list.
  if (cur.consume('$')) {
    if (is_seqset_char(static_cast<char>(cur.peek()))) return cur.fail_syntax("invalid sequence set");
    out = SequenceSet{};
    out.saved = true;
    return true;
  }
  auto token = cur.take_while(is_seqset_char);
  if (token.empty()) return cur.fail_syntax("expected sequence set");
  if (static_cast<std::size_t>(std::count(token.begin(), token.end(), ',')) >= cur.limits().max_items)
    return cur.fail(ParseErrorKind::too_many, "sequence set too long");
  auto set = parse_sequence_set(token, cur.limits().max_items);
  if (!set) return cur.fail_syntax("invalid sequence set");
  out = std::move(*set);
  return true;
}

}  // namespace mb::imap
