// File: protocols/imap/fetch_parse.cpp
#include "protocols/imap/fetch_parse.hpp"

#include <string>

namespace mb::imap {
namespace {

bool is_att_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

FetchAtt simple(FetchItem item) {
  FetchAtt a;
  a.item = item;
  return a;
}

bool push(Cursor& cur, std::vector<FetchAtt>& out, FetchAtt att) {
  if (out.size() >= cur.limits().max_items)
    return cur.fail(ParseErrorKind::too_many, "too many fetch attributes");
  out.push_back(std::move(att));
  return true;
}

// header-list = "(" header-fld-name *(SP header-fld-name) ")"
bool header_list(Cursor& cur, Section& section, std::string& spec) {
  if (!cur.sp() || !cur.consume('(')) return cur.fail_syntax("expected header field list");
  spec += " (";
  for (;;) {
    auto name = cur.astring();
    if (!name || name->empty()) return cur.fail_syntax("expected header field name");
    for (char c : *name) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f || c == ':')  // RFC 5322 §2.2 ftext
        return cur.fail_syntax("invalid header field name");
    }
    if (section.fields.size() >= cur.limits().max_items)
      return cur.fail(ParseErrorKind::too_many, "too many header fields");
    if (!section.fields.empty()) spec += ' ';
    spec += *name;  // echoed as sent (RFC 3501 §7.4.2 shows the client's spelling)
    section.fields.push_back(to_upper(*name));
    if (cur.consume(')')) break;
    if (!cur.sp()) return false;
  }
  spec += ')';
  return true;
}

// "[" [section-spec] "]"; `binary` allows only section-part (RFC 3516 section-binary).
bool section(Cursor& cur, FetchAtt& att, bool binary) {
  if (!cur.consume('[')) return cur.fail_syntax("expected [");
  std::string& spec = att.spec;
  Section& s = att.section;
  // section-part = nz-number *("." nz-number)
  while (cur.peek() >= '0' && cur.peek() <= '9') {
    auto n = cur.nz_number();
    if (!n) return cur.fail_syntax("invalid section part number");
    if (s.part.size() >= cur.limits().max_depth)
      return cur.fail(ParseErrorKind::too_deep, "section part too deep");
    s.part.push_back(*n);
    if (!spec.empty()) spec += '.';
    spec += std::to_string(*n);
    if (!cur.consume('.')) break;
    if (!(cur.peek() >= '0' && cur.peek() <= '9')) {
      if (binary) return cur.fail_syntax("BINARY takes a part number only");
      spec += '.';
      break;
    }
  }
  const bool need_text = !spec.empty() && spec.back() == '.';  // "1." needs MIME/HEADER/TEXT
  if (need_text || !cur.consume(']')) {
    if (binary) return cur.fail_syntax("BINARY takes a part number only");
    if (!spec.empty() && !need_text) return cur.fail_syntax("expected ]");
    if (cur.keyword("HEADER.FIELDS.NOT")) {
      s.text = SectionText::header_fields_not;
      spec += "HEADER.FIELDS.NOT";
      if (!header_list(cur, s, spec)) return false;
    } else if (cur.keyword("HEADER.FIELDS")) {
      s.text = SectionText::header_fields;
      spec += "HEADER.FIELDS";
      if (!header_list(cur, s, spec)) return false;
    } else if (cur.keyword("HEADER")) {
      s.text = SectionText::header;
      spec += "HEADER";
    } else if (cur.keyword("TEXT")) {
      s.text = SectionText::text;
      spec += "TEXT";
    } else if (cur.keyword("MIME")) {
      if (s.part.empty()) return cur.fail_syntax("MIME needs a part number");
      s.text = SectionText::mime;
      spec += "MIME";
    } else {
      return cur.fail_syntax("invalid section");
    }
    if (!cur.consume(']')) return cur.fail_syntax("expected ]");
  }
  // partial = "<" number "." nz-number ">"
  if (cur.consume('<')) {
    Partial p;
    auto off = cur.number();
    if (!off || !cur.consume('.')) return cur.fail_syntax("invalid partial");
    auto len = cur.nz_number();
    if (!len || !cur.consume('>')) return cur.fail_syntax("invalid partial");
    p.offset = *off;
    p.length = *len;
    att.partial = p;
  }
  return true;
}

bool fetch_att(Cursor& cur, std::vector<FetchAtt>& out) {
  const std::string name = to_upper(cur.take_while(is_att_char));
  if (name.empty()) return cur.fail_syntax("expected fetch attribute");
  if (name == "ENVELOPE") return push(cur, out, simple(FetchItem::envelope));
  if (name == "FLAGS") return push(cur, out, simple(FetchItem::flags));
  if (name == "INTERNALDATE") return push(cur, out, simple(FetchItem::internaldate));
  if (name == "RFC822") return push(cur, out, simple(FetchItem::rfc822));
  if (name == "RFC822.HEADER") return push(cur, out, simple(FetchItem::rfc822_header));
  if (name == "RFC822.SIZE") return push(cur, out, simple(FetchItem::rfc822_size));
  if (name == "RFC822.TEXT") return push(cur, out, simple(FetchItem::rfc822_text));
  if (name == "BODYSTRUCTURE") return push(cur, out, simple(FetchItem::bodystructure));
  if (name == "UID") return push(cur, out, simple(FetchItem::uid));
  FetchAtt att;
  if (name == "BODY" || name == "BODY.PEEK") {
    if (cur.peek() != '[') {
      if (name == "BODY.PEEK") return cur.fail_syntax("BODY.PEEK needs a section");
      return push(cur, out, simple(FetchItem::body));
    }
    att.item = FetchItem::body_section;
    att.peek = name == "BODY.PEEK";
    if (!section(cur, att, false)) return false;
    return push(cur, out, std::move(att));
  }
  if (name == "BINARY" || name == "BINARY.PEEK" || name == "BINARY.SIZE") {
    att.item = name == "BINARY.SIZE" ? FetchItem::binary_size : FetchItem::binary;
    att.peek = name == "BINARY.PEEK";
    if (!section(cur, att, true)) return false;
    if (att.item == FetchItem::binary_size && att.partial)
      return cur.fail_syntax("BINARY.SIZE takes no partial");
    return push(cur, out, std::move(att));
  }
  return cur.fail_syntax("unknown fetch attribute " + name);
}

}  // namespace

bool parse_fetch_atts(Cursor& cur, std::vector<FetchAtt>& out) {
  if (cur.consume('(')) {
    if (!cur.enter()) return false;
    for (;;) {
      if (!fetch_att(cur, out)) return false;
      if (cur.consume(')')) break;
      if (!cur.sp()) return false;
    }
    cur.leave();
    return true;
  }
  // Macros (RFC 3501 §6.4.5); only valid alone, not inside a list.
  const bool all = cur.keyword("ALL");
  const bool full = !all && cur.keyword("FULL");
  const bool fast = !all && !full && cur.keyword("FAST");
  if (all || full || fast) {
    for (FetchItem item : {FetchItem::flags, FetchItem::internaldate, FetchItem::rfc822_size})
      out.push_back(simple(item));
    if (!fast) out.push_back(simple(FetchItem::envelope));
    if (full) out.push_back(simple(FetchItem::body));
    return true;
  }
  return fetch_att(cur, out);
}

}  // namespace mb::imap
