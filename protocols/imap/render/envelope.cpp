// File: protocols/imap/render/envelope.cpp
//
// IMAP string primitives and ENVELOPE (RFC 3501 §7.4.2), following Dovecot 2.3
// (lib-imap/imap-quote.c, imap-envelope.c) byte for byte:
//   - strings are quoted unless they hold CR, LF, 8-bit octets or more than
//     kMaxQuotedEscapes '"' / '\' characters; then they are sent as literals;
//   - Subject and display names go through the "for humans" clean-up: TAB/CR/LF become
//     spaces, runs of spaces collapse, outer spaces are trimmed; if anything had to change
//     (or a '"' or '\' is present, or 8-bit text) the result is a literal;
//   - Date, In-Reply-To and Message-ID drop CR/LF (a space replaces a line break that is
//     not followed by whitespace);
//   - addresses: groups as (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); a missing local part
//     or domain is filled with MISSING_MAILBOX / MISSING_DOMAIN; Sender and Reply-To default
//     to From when absent or empty.
#include <string>

#include "protocols/imap/render/render.hpp"
#include "protocols/mime/decode.hpp"

namespace mb::imap::render {

namespace {

constexpr unsigned kMaxQuotedEscapes = 4;

void append_literal(std::string& out, std::string_view s) {
  out += '{';
  out += std::to_string(s.size());
  out += "}\r\n";
  out.append(s);
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// Dovecot imap_append_string_for_humans().
void append_for_humans(std::string& out, std::string_view src) {
  std::size_t remove_count = 0;
  bool whitespace_prefix = true, last_lwsp = true, modify = false;
  std::size_t i = 0;
  for (; i < src.size(); ++i) {
    auto c = static_cast<unsigned char>(src[i]);
    switch (c) {
      case 0:
        last_lwsp = false;
        modify = true;
        break;
      case '\r':
      case '\n':
      case '\t':
        modify = true;
        [[fallthrough]];
      case ' ':
        if (last_lwsp) {
          modify = true;
          ++remove_count;
        }
        last_lwsp = true;
        break;
      case '"':
      case '\\':
        modify = true;
        last_lwsp = false;
        break;
      default:
        if (c & 0x80) modify = true;
        last_lwsp = false;
        break;
    }
    if (!last_lwsp) whitespace_prefix = false;
  }
  if (last_lwsp && i > 0 && !whitespace_prefix) {
    modify = true;
    ++remove_count;
  }
  if (!modify) {
    out += '"';
    out.append(src);
    out += '"';
    return;
  }
  if (src.size() == remove_count) {
    out += "\"\"";
    return;
  }
  std::string body;
  body.reserve(src.size());
  last_lwsp = true;
  whitespace_prefix = true;
  for (char ch : src) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case 0:
        body += static_cast<char>(0x80);
        last_lwsp = false;
        break;
      case '\r':
      case '\n':
      case '\t':
      case ' ':
        if (!last_lwsp) body += ' ';
        last_lwsp = true;
        break;
      default:
        last_lwsp = false;
        body += ch;
        break;
    }
    if (!last_lwsp) whitespace_prefix = false;
  }
  if (last_lwsp && !body.empty() && !whitespace_prefix) body.pop_back();
  append_literal(out, body);
}

// Dovecot imap_append_nstring_nolf() for a present value.
void append_nolf(std::string& out, std::string_view s) {
  if (s.find_first_of("\r\n") == std::string_view::npos) {
    append_string(out, s);
    return;
  }
  std::string t;
  t.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r' && s[i] != '\n') {
      t += s[i];
    } else if (i + 1 < s.size() && s[i + 1] != ' ' && s[i + 1] != '\t' && s[i + 1] != '\r' &&
               s[i + 1] != '\n') {
      t += ' ';
    }
  }
  append_string(out, t);
}

void append_nstring_nolf(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out += "NIL";
    return;
  }
  append_nolf(out, *s);
}

void append_nstring(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out += "NIL";
    return;
  }
  append_string(out, *s);
}

// Address list or NIL; returns false (and writes nothing) when the list is empty.
bool append_addresses(std::string& out, const std::optional<std::string>& raw) {
  if (!raw) return false;
  std::vector<mime::Address> list = mime::parse_address_list(*raw);
  if (list.empty()) {
    // Only separators or junk (e.g. "Cc: ,"): one placeholder address, as Dovecot; an
    // empty field is NIL.
    if (raw->find_first_not_of(" \t\r\n") == std::string::npos) return false;
    out += "((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))";
    return true;
  }
  out += '(';
  for (const mime::Address& a : list) {
    if (a.group_end) {
      out += "(NIL NIL NIL NIL)";
      continue;
    }
    if (a.group_start) {
      out += "(NIL NIL ";
      append_string(out, a.mailbox);
      out += " NIL)";
      continue;
    }
    out += '(';
    if (a.name) {
      append_for_humans(out, *a.name);
    } else {
      out += "NIL";
    }
    out += ' ';
    append_nstring(out, a.adl);
    out += ' ';
    append_string(out, a.mailbox.empty() ? std::string_view("MISSING_MAILBOX") : a.mailbox);
    out += ' ';
    append_string(out, a.host && !a.host->empty() ? std::string_view(*a.host)
                                                  : std::string_view("MISSING_DOMAIN"));
    out += ')';
  }
  out += ')';
  return true;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  unsigned escapes = 0;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      if (escapes++ < kMaxQuotedEscapes) continue;
      append_literal(out, s);
      return;
    }
    if (c == '\r' || c == '\n' || c == 0 || c >= 0x80) {
      append_literal(out, s);
      return;
    }
  }
  append_quoted(out, s);
}

std::string astring_or_literal(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

std::string nstring(const std::optional<std::string>& s) {
  std::string out;
  append_nstring(out, s);
  return out;
}

std::string envelope(const mime::Envelope& e) {
  std::string out;
  out.reserve(256);
  out += '(';
  append_nstring_nolf(out, e.date);
  out += ' ';
  if (e.subject) {
    append_for_humans(out, *e.subject);
  } else {
    out += "NIL";
  }
  out += ' ';
  std::string from;
  if (!append_addresses(from, e.from)) from = "NIL";
  out += from;
  out += ' ';
  if (!append_addresses(out, e.sender)) out += from;
  out += ' ';
  if (!append_addresses(out, e.reply_to)) out += from;
  for (const auto* f : {&e.to, &e.cc, &e.bcc}) {
    out += ' ';
    if (!append_addresses(out, *f)) out += "NIL";
  }
  out += ' ';
  append_nstring_nolf(out, e.in_reply_to);
  out += ' ';
  append_nstring_nolf(out, e.message_id);
  out += ')';
  return out;
}

std::string envelope(const mime::MessageStructure& s) {
  if (!s.envelope_imap.empty()) return s.envelope_imap;
  return envelope(s.root.envelope ? *s.root.envelope : mime::Envelope{});
}

}  // namespace mb::imap::render
