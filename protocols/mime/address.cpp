// File: protocols/mime/address.cpp
//
// RFC 5322 §3.4 address lists, lenient like Dovecot's message_address_parse(): obsolete
// routes (§4.4), display names from a trailing comment ("a@b (Name)"), groups as start/end
// markers, garbage after an address skipped up to the next ','.
#include <cstddef>

#include "protocols/mime/decode.hpp"
#include "protocols/mime/header.hpp"

namespace mb::mime {

namespace {

constexpr std::size_t kMaxAddresses = 10000;

// phrase = 1*word (atoms, quoted strings, and the obsolete '.'). Words are joined with one
// space where the input had whitespace or a comment between them ("J. R." stays "J. R.").
// Returns the number of words read; *quoted tells whether the first was a quoted string.
int parse_phrase(Rfc822Lexer& lx, std::string& out, bool* quoted = nullptr,
                 bool* broken = nullptr) {
  int words = 0;
  for (;;) {
    std::size_t before = lx.pos();
    lx.skip_cfws();
    const bool spaced = lx.pos() != before;
    std::string word;
    const bool is_quoted = lx.peek() == '"';
    if (is_quoted) {
      if (!lx.quoted_string(word) && broken != nullptr) *broken = true;
    } else if (lx.peek() == '.') {
      lx.advance();
      word = ".";
    } else if (!lx.atom(word)) {
      break;
    }
    if (words == 0 && quoted != nullptr) *quoted = is_quoted;
    if (words > 0 && spaced) out.push_back(' ');
    out += word;
    ++words;
  }
  return words;
}

// local-part = dot-atom / quoted-string, with the obsolete word *("." word).
void parse_local_part(Rfc822Lexer& lx, std::string& out) {
  for (;;) {
    lx.skip_cfws();
    if (lx.peek() == '"') {
      lx.quoted_string(out);
    } else if (!lx.atom(out)) {
      return;
    }
    std::size_t save = lx.pos();
    lx.skip_cfws();
    if (lx.peek() != '.') {
      lx.set_pos(save);
      return;
    }
    lx.advance();
    out.push_back('.');
  }
}

std::string parse_domain(Rfc822Lexer& lx) {
  std::string d;
  lx.skip_cfws();
  if (lx.peek() == '[') {
    lx.domain_literal(d);
  } else {
    lx.dot_atom(d);
  }
  return d;
}

// addr-spec after the optional route; fills mailbox and host.
void parse_addr_spec(Rfc822Lexer& lx, Address& a) {
  parse_local_part(lx, a.mailbox);
  lx.skip_cfws();
  if (lx.peek() == '@') {
    lx.advance();
    a.host = parse_domain(lx);
  }
}

// One mailbox (name-addr or addr-spec) whose leading phrase (possibly empty, `words` words)
// was already read from `start`. False if nothing usable was there.
bool parse_mailbox(Rfc822Lexer& lx, Address& a, std::size_t start, std::string phrase, int words,
                   bool quoted) {
  lx.skip_cfws();
  const char next = lx.peek();
  if ((words >= 2 || (words == 1 && quoted)) && (lx.at_end() || next == ',' || next == ';')) {
    // A display name without an address ("foo bar", "\"name\""), as Dovecot reads it.
    a.name = std::move(phrase);
    return true;
  }
  if (lx.peek() == '<') {
    lx.advance();
    lx.skip_cfws();
    if (lx.peek() == '@') {
      // obs-route = obs-domain-list ":"
      std::string route;
      while (lx.peek() == '@' || lx.peek() == ',') {
        if (lx.peek() == ',') {
          lx.advance();
          lx.skip_cfws();
          continue;
        }
        lx.advance();
        if (!route.empty()) route.push_back(',');
        route.push_back('@');
        route += parse_domain(lx);
        lx.skip_cfws();
      }
      if (lx.peek() == ':') lx.advance();
      a.adl = std::move(route);
    }
    parse_addr_spec(lx, a);
    lx.skip_cfws();
    // "<user@>" or a missing '>': Dovecot marks the domain as a syntax error.
    if (lx.peek() == '>') {
      lx.advance();
    } else {
      a.host = "SYNTAX_ERROR";
    }
    if (a.host && a.host->empty()) a.host = "SYNTAX_ERROR";
    if (!phrase.empty()) a.name = std::move(phrase);
    return true;
  }
  lx.set_pos(start);
  lx.skip_cfws();
  std::size_t before = lx.pos();
  parse_addr_spec(lx, a);
  if (lx.pos() == before) return false;
  // "a@b (Name)": the trailing comment is the display name.
  std::string comment;
  lx.skip_cfws(&comment);
  if (!comment.empty()) a.name = std::move(comment);
  return true;
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view raw) {
  // Like Dovecot, parsing stops at the first element that is not an address (the rest of
  // the field is dropped), and an empty element between commas is kept as an address with
  // neither mailbox nor host (rendered MISSING_MAILBOX / MISSING_DOMAIN).
  std::vector<Address> out;
  Rfc822Lexer lx(raw);
  bool in_group = false;
  bool expect_element = true;
  while (out.size() < kMaxAddresses) {
    lx.skip_cfws();
    if (lx.at_end()) break;
    char c = lx.peek();
    if (c == ',') {
      lx.advance();
      if (expect_element) out.push_back(Address{});
      expect_element = true;
      continue;
    }
    if (c == ';' && in_group) {
      lx.advance();
      Address end;
      end.group_end = true;
      out.push_back(std::move(end));
      in_group = false;
      expect_element = false;
      continue;
    }
    std::size_t start = lx.pos();
    std::string phrase;
    bool quoted = false, broken = false;
    int words = parse_phrase(lx, phrase, &quoted, &broken);
    if (broken) {
      // Unterminated quoted string: an empty address, then stop (Dovecot).
      out.push_back(Address{});
      break;
    }
    if (words > 0 && !in_group) {
      lx.skip_cfws();
      if (lx.peek() == ':') {
        lx.advance();
        Address g;
        g.group_start = true;
        g.mailbox = std::move(phrase);
        out.push_back(std::move(g));
        in_group = true;
        expect_element = true;
        continue;
      }
    }
    Address a;
    if (!parse_mailbox(lx, a, start, std::move(phrase), words, quoted)) break;
    out.push_back(std::move(a));
    expect_element = false;
    lx.skip_cfws();
    if (lx.at_end()) break;
    c = lx.peek();
    if (c == ',' || (c == ';' && in_group)) continue;
    break;  // junk after an address: stop here
  }
  if (in_group) {
    Address end;
    end.group_end = true;
    out.push_back(std::move(end));
  }
  return out;
}

std::string addresses_for_search(std::string_view raw) {
  std::string out;
  for (const Address& a : parse_address_list(raw)) {
    if (a.group_end || (a.mailbox.empty() && !a.name && !a.host && !a.group_start)) continue;
    if (!out.empty()) out += ", ";
    if (a.group_start) {
      out += decode_header_value(a.mailbox);
      out += ":";
      continue;
    }
    if (a.name) {
      out += decode_header_value(*a.name);
      out += " <";
    }
    out += a.mailbox;
    if (a.host) {
      out += "@";
      out += *a.host;
    }
    if (a.name) out += ">";
  }
  return out;
}

}  // namespace mb::mime
