// File: protocols/mime/header.cpp
//
// Header scanning and RFC 2045 / RFC 2231 structured values (see header.hpp).
#include "protocols/mime/header.hpp"

#include <algorithm>
#include <cstring>

namespace mb::mime {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Character classes as lookup tables (these run for every octet of structured fields).
struct CharClasses {
  bool token[256] = {};  // RFC 2045 §5.1: no tspecials, space or controls
  bool atext[256] = {};  // RFC 5322 §3.2.3, 8-bit allowed (RFC 6532)
  constexpr CharClasses() {
    for (int c = 0; c < 256; ++c) {
      bool ctl = c <= 0x20 || c == 0x7f;
      token[c] = !ctl && c < 0x80;
      atext[c] = !ctl;
    }
    for (const char* p = "()<>@,;:\\\"/[]?="; *p != '\0'; ++p)
      token[static_cast<unsigned char>(*p)] = false;
    for (const char* p = "()<>[]:;@\\,.\""; *p != '\0'; ++p)
      atext[static_cast<unsigned char>(*p)] = false;
    // 8-bit octets in tokens: accepted leniently (seen in the wild in parameter values).
    for (int c = 0x80; c < 256; ++c) token[c] = true;
  }
};
constexpr CharClasses kClasses;

bool is_token_char(char c) { return kClasses.token[static_cast<unsigned char>(c)]; }
bool is_atext(char c) { return kClasses.atext[static_cast<unsigned char>(c)]; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string full_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\r' || c == '\n') continue;
    // NUL cannot be sent in an IMAP string; Dovecot substitutes 0x80 the same way.
    out.push_back(c == '\0' ? static_cast<char>(0x80) : c);
  }
  return out;
}

bool Rfc822Lexer::skip_cfws(std::string* comment) {
  while (!at_end()) {
    char c = s_[pos_];
    if (is_wsp(c)) {
      ++pos_;
      continue;
    }
    if (c != '(') return true;
    // Comment, possibly nested (RFC 5322 §3.2.2).
    int level = 0;
    std::string text;
    while (!at_end()) {
      char d = s_[pos_++];
      if (d == '\\' && !at_end()) {
        text.push_back(s_[pos_++]);
        continue;
      }
      if (d == '(') {
        if (level++ > 0) text.push_back(d);
        continue;
      }
      if (d == ')') {
        if (--level == 0) break;
        text.push_back(d);
        continue;
      }
      if (d == '\r' || d == '\n') continue;
      text.push_back(d);
    }
    if (level != 0) return false;
    if (comment != nullptr) *comment = std::move(text);
  }
  return true;
}

bool Rfc822Lexer::mime_token(std::string& out) {
  std::size_t start = pos_;
  while (!at_end() && is_token_char(s_[pos_])) ++pos_;
  out.append(s_.substr(start, pos_ - start));
  return pos_ > start;
}

bool Rfc822Lexer::atom(std::string& out) {
  std::size_t start = pos_;
  while (!at_end() && is_atext(s_[pos_])) ++pos_;
  out.append(s_.substr(start, pos_ - start));
  return pos_ > start;
}

bool Rfc822Lexer::dot_atom(std::string& out) {
  if (!atom(out)) return false;
  for (;;) {
    std::size_t save = pos_;
    skip_cfws();
    if (peek() != '.') {
      pos_ = save;
      return true;
    }
    ++pos_;
    out.push_back('.');
    skip_cfws();
    if (!atom(out)) return true;  // obs: trailing dot
  }
}

bool Rfc822Lexer::quoted_string(std::string& out) {
  if (peek() != '"') return false;
  ++pos_;
  while (!at_end()) {
    char c = s_[pos_++];
    if (c == '"') return true;
    if (c == '\\' && !at_end()) {
      out.push_back(s_[pos_++]);
      continue;
    }
    // Folding inside a quoted string: drop the line break, keep the whitespace.
    if (c == '\r' || c == '\n') continue;
    out.push_back(c);
  }
  return false;
}

bool Rfc822Lexer::domain_literal(std::string& out) {
  if (peek() != '[') return false;
  while (!at_end()) {
    char c = s_[pos_++];
    if (c == '\r' || c == '\n') continue;
    if (c == '\\' && !at_end()) {
      out.push_back(s_[pos_++]);
      continue;
    }
    out.push_back(c);
    if (c == ']') return true;
  }
  return false;
}

namespace {

// One parsed "; key=value" before RFC 2231 merging.
struct RawParam {
  std::string key;
  std::string value;
};

// Reads "; key = value" pairs like Dovecot's rfc2231_parse(): stops at the first
// unparsable one (keeping those before it).
std::vector<RawParam> read_params(Rfc822Lexer& lx) {
  std::vector<RawParam> out;
  for (;;) {
    lx.skip_cfws();
    if (lx.at_end()) break;
    if (lx.peek() != ';') break;
    lx.advance();
    lx.skip_cfws();
    RawParam p;
    if (!lx.mime_token(p.key)) {
      // Tolerate empty ";;" items.
      if (lx.peek() == ';') continue;
      break;
    }
    lx.skip_cfws();
    if (lx.peek() != '=') {
      // A key without value (e.g. "; BOGUS"): skip it, keep going.
      continue;
    }
    lx.advance();
    lx.skip_cfws();
    if (lx.peek() == '"') {
      lx.quoted_string(p.value);
    } else {
      // Lenient: accept anything up to ';' or whitespace (common with unquoted "/" or "=").
      std::size_t start = lx.pos();
      while (!lx.at_end() && lx.peek() != ';' && !is_wsp(lx.peek())) lx.advance();
      p.value.assign(lx.slice(start, lx.pos()));
    }
    out.push_back(std::move(p));
    if (out.size() >= 1000) break;  // bound hostile input
  }
  return out;
}

// RFC 2231 §3/§4: merge name*0, name*1*, ... into one value. Plain parameters come first in
// the order written, then the merged extended ones sorted by name (as Dovecot does). A merged
// parameter whose first section is extended ("name*0*" or "name*") is named "name*".
std::vector<Param> merge_2231(std::vector<RawParam> raw) {
  std::vector<Param> plain;
  struct Section {
    std::string name;
    unsigned index;
    bool extended;
    std::string value;
  };
  std::vector<Section> sections;
  for (auto& p : raw) {
    std::size_t star = p.key.find('*');
    if (star == std::string::npos) {
      plain.push_back(Param{std::move(p.key), std::move(p.value)});
      continue;
    }
    Section s;
    s.name = p.key.substr(0, star);
    std::string_view rest = std::string_view(p.key).substr(star + 1);
    s.index = 0;
    s.extended = false;
    if (rest.empty()) {
      s.extended = true;  // name*=charset'lang'value
    } else {
      unsigned idx = 0;
      std::size_t i = 0;
      while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && idx < 100000) {
        idx = idx * 10 + static_cast<unsigned>(rest[i] - '0');
        ++i;
      }
      if (i == 0 || (i < rest.size() && !(rest[i] == '*' && i + 1 == rest.size()))) {
        plain.push_back(Param{std::move(p.key), std::move(p.value)});
        continue;
      }
      s.index = idx;
      s.extended = i < rest.size();
    }
    s.value = std::move(p.value);
    sections.push_back(std::move(s));
  }
  std::stable_sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) {
    if (a.name != b.name) return a.name < b.name;
    return a.index < b.index;
  });
  std::vector<Param> out = std::move(plain);
  for (std::size_t i = 0; i < sections.size();) {
    std::size_t j = i;
    Param merged;
    bool extended = sections[i].extended;
    while (j < sections.size() && sections[j].name == sections[i].name) {
      merged.value += sections[j].value;
      ++j;
    }
    merged.name = sections[i].name + (extended ? "*" : "");
    out.push_back(std::move(merged));
    i = j;
  }
  return out;
}

}  // namespace

ContentValue parse_content_type(std::string_view full) {
  ContentValue cv;
  Rfc822Lexer lx(full);
  lx.skip_cfws();
  // type "/" subtype, each a token; CFWS allowed around '/'.
  if (!lx.mime_token(cv.value)) {
    cv.broken = true;
    return cv;
  }
  lx.skip_cfws();
  if (lx.peek() != '/') {
    cv.broken = true;
    return cv;
  }
  lx.advance();
  lx.skip_cfws();
  cv.value.push_back('/');
  if (!lx.mime_token(cv.value)) {
    cv.broken = true;
    return cv;
  }
  cv.params = merge_2231(read_params(lx));
  return cv;
}

std::optional<ContentValue> parse_content_disposition(std::string_view full) {
  ContentValue cv;
  Rfc822Lexer lx(full);
  lx.skip_cfws();
  if (!lx.mime_token(cv.value)) return std::nullopt;
  cv.params = merge_2231(read_params(lx));
  return cv;
}

std::optional<std::string> parse_mime_token_value(std::string_view full) {
  Rfc822Lexer lx(full);
  lx.skip_cfws();
  std::string tok;
  if (!lx.mime_token(tok)) return std::nullopt;
  lx.skip_cfws();
  if (!lx.at_end()) return std::nullopt;
  return tok;
}

std::vector<std::string> parse_language(std::string_view full) {
  std::vector<std::string> out;
  Rfc822Lexer lx(full);
  lx.skip_cfws();
  for (;;) {
    std::string a;
    if (!lx.atom(a)) break;
    out.push_back(std::move(a));
    if (out.size() >= 100 || lx.peek() != ',') break;
    lx.advance();
    lx.skip_cfws();
  }
  return out;
}

}  // namespace mb::mime
