// File: protocols/mime/header.hpp
//
// RFC 5322 header block scanning and RFC 2045/2231 structured-value parsing shared by the
// parser, the decoders and the IMAP renderers. Semantics follow Dovecot's
// message-header-parser and rfc822/rfc2231 parsers so that renderings match Dovecot's:
//   - a field name ends at ':' with trailing whitespace removed ("From   :" is From);
//   - the value skips the whitespace after ':'; the line breaks of folded lines are removed
//     (the continuation line's leading whitespace is kept) -- the "full value";
//   - lines without ':' are ignored as fields.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/mime/message_structure.hpp"

namespace mb::mime {

struct HeaderField {
  std::string_view name;  // trimmed
  std::string_view raw;   // value as in the block: after ':' and leading WSP, up to the final line end
};

// Calls f(const HeaderField&) for each field of the header block (stops at an empty line).
// At most max_fields fields are visited (a bound for hostile input).
template <class F>
void for_each_field(std::string_view block, F&& f, std::size_t max_fields = 100000);

// The full value of a raw field value: CR and LF removed (unfolded as Dovecot does), NUL
// replaced by 0x80.
std::string full_value(std::string_view raw);

bool iequals(std::string_view a, std::string_view b);

// A cursor over a structured header value (RFC 5322 §3.2: CFWS, atoms, quoted strings),
// modelled on Dovecot's rfc822_parser_context.
class Rfc822Lexer {
 public:
  explicit Rfc822Lexer(std::string_view s) : s_(s) {}
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void advance() { ++pos_; }
  std::size_t pos() const { return pos_; }
  void set_pos(std::size_t p) { pos_ = p; }
  std::string_view slice(std::size_t a, std::size_t b) const { return s_.substr(a, b - a); }
  std::string_view rest() const { return s_.substr(pos_ < s_.size() ? pos_ : s_.size()); }

  // Skips whitespace and comments; appends comment text (last comment) to *comment if given.
  // Returns false if input ended inside a comment.
  bool skip_cfws(std::string* comment = nullptr);
  // RFC 2045 token (no tspecials), appended to out. False if none.
  bool mime_token(std::string& out);
  // RFC 5322 atom (atext) appended to out. False if none.
  bool atom(std::string& out);
  // dot-atom: atoms separated by '.', with CFWS allowed around dots (obs forms).
  bool dot_atom(std::string& out);
  // Quoted string at the cursor (cursor on '"'), unquoted and appended. False if unterminated
  // (what was read is still appended).
  bool quoted_string(std::string& out);
  // Domain literal "[...]" appended with its brackets.
  bool domain_literal(std::string& out);

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// Content-Type / Content-Disposition style value: "token[/token] *(; param)".
struct ContentValue {
  std::string value;          // "type/subtype" or the disposition token, as written
  bool broken = false;        // value unparsable: params not read (Dovecot does the same)
  std::vector<Param> params;  // after RFC 2231 merging (see message_structure.hpp)
};
ContentValue parse_content_type(std::string_view full);
std::optional<ContentValue> parse_content_disposition(std::string_view full);
// Content-Transfer-Encoding token, or nullopt.
std::optional<std::string> parse_mime_token_value(std::string_view full);
// Content-Language list of atoms.
std::vector<std::string> parse_language(std::string_view full);

// --- template implementation ---------------------------------------------------------
template <class F>
void for_each_field(std::string_view block, F&& f, std::size_t max_fields) {
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < block.size() && count < max_fields) {
    std::size_t eol = block.find('\n', pos);
    std::size_t line_end = eol == std::string_view::npos ? block.size() : eol;
    std::string_view line = block.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return;  // end of header
    // Extent of the field: this line plus continuation lines.
    std::size_t next = eol == std::string_view::npos ? block.size() : eol + 1;
    while (next < block.size() && (block[next] == ' ' || block[next] == '\t')) {
      std::size_t e = block.find('\n', next);
      next = e == std::string_view::npos ? block.size() : e + 1;
    }
    if (line[0] != ' ' && line[0] != '\t') {
      std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view name = line.substr(0, colon);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
        std::size_t v = pos + colon + 1;
        while (v < next && (block[v] == ' ' || block[v] == '\t')) ++v;
        std::size_t vend = next;
        // Drop the final line end of the field.
        if (vend > v && block[vend - 1] == '\n') --vend;
        if (vend > v && block[vend - 1] == '\r') --vend;
        if (!name.empty()) {
          ++count;
          f(HeaderField{name, block.substr(v, vend > v ? vend - v : 0)});
        }
      }
    }
    pos = next;
  }
}

}  // namespace mb::mime
