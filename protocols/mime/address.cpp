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

// phrase = 1*word (atoms, quoted strings, and the obsolete '.'), joined with one space.
// Returns false if no word was read.
bool parse_phrase(Rfc822Lexer& lx, std::string& out) {
  bool any = false;
  for (;;) {
    lx.skip_cfws();
    std::string word;
    if (lx.peek() == '"') {
      lx.quoted_string(word);
    } else if (lx.peek() == '.') {
      lx.advance();
      word = ".";
    } else if (!lx.atom(word)) {
      break;
    }
    if (any) out.push_back(' ');
    out += word;
    any = true;
  }
  return any;
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

// One mailbox (name-addr or addr-spec) whose leading phrase (possibly empty) was already
// read from `start`. False if nothing usable was there.
bool parse_mailbox(Rfc822Lexer& lx, Address& a, std::size_t start, std::string phrase) {
  lx.skip_cfws();
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
    // "<user@>": Dovecot marks the empty domain of an angle address as a syntax error.
    if (a.host && a.host->empty()) a.host = "SYNTAX_ERROR";
    lx.skip_cfws();
    if (lx.peek() == '>') lx.advance();
    if (!phrase.empty()) a.name = std::move(phrase);
    return true;
  }
  lx.set_pos(start);
  lx.skip_cfws();
  std::size_t before = lx.pos();
  const bool quoted = lx.peek() == '"';
  parse_addr_spec(lx, a);
  if (lx.pos() == before) return false;
  if (quoted && !a.host && a.mailbox.find('.') == std::string::npos) {
    // A lone quoted string is a display name without an address (Dovecot).
    a.name = std::move(a.mailbox);
    a.mailbox.clear();
    return true;
  }
  std::string comment;
  std::size_t save = lx.pos();
  lx.skip_cfws(&comment);
  if (!comment.empty()) a.name = std::move(comment);
  (void)save;
  return true;
}

void skip_to_comma(Rfc822Lexer& lx, bool stop_at_semicolon) {
  while (!lx.at_end()) {
    lx.skip_cfws();
    char c = lx.peek();
    if (c == ',' || (stop_at_semicolon && c == ';') || lx.at_end()) return;
    if (c == '"') {
      std::string ignored;
      lx.quoted_string(ignored);
      continue;
    }
    lx.advance();
  }
}

}  // namespace

std::vector<Address> parse_address_list(std::string_view raw) {
  std::vector<Address> out;
  Rfc822Lexer lx(raw);
  bool in_group = false;
  while (out.size() < kMaxAddresses) {
    lx.skip_cfws();
    if (lx.at_end()) break;
    char c = lx.peek();
    if (c == ',') {
      lx.advance();
      continue;
    }
    if (c == ';' && in_group) {
      lx.advance();
      Address end;
      end.group_end = true;
      out.push_back(std::move(end));
      in_group = false;
      continue;
    }
    std::size_t start = lx.pos();
    std::string phrase;
    if (parse_phrase(lx, phrase) && !in_group) {
      lx.skip_cfws();
      if (lx.peek() == ':') {
        lx.advance();
        Address g;
        g.group_start = true;
        g.mailbox = std::move(phrase);
        out.push_back(std::move(g));
        in_group = true;
        continue;
      }
    }
    Address a;
    std::size_t before = start;
    if (parse_mailbox(lx, a, start, std::move(phrase))) out.push_back(std::move(a));
    skip_to_comma(lx, in_group);
    if (lx.pos() == before) lx.advance();  // always make progress
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
    if (a.group_end) continue;
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
