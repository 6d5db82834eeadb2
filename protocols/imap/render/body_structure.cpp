// File: protocols/imap/render/body_structure.cpp
//
// BODY and BODYSTRUCTURE (RFC 3501 §7.4.2), in Dovecot 2.3's exact form
// (lib-imap/imap-bodystructure.c):
//   - text/* parts get ("charset" "us-ascii") appended when no "charset" parameter exists,
//     and a line count; message/rfc822 parts get envelope, body and line count;
//   - a part without Content-Type is "text" "plain"; type, subtype, parameter names and
//     values are sent as written;
//   - a multipart without parts (no usable boundary) gets one empty text/plain part;
//   - BODYSTRUCTURE adds md5, disposition, language, location to single parts and
//     parameters, disposition, language, location to multiparts.
#include <string>

#include "protocols/imap/render/render.hpp"
#include "protocols/mime/header.hpp"

namespace mb::imap::render {

namespace {

constexpr std::string_view kEmptyBody =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
constexpr std::string_view kEmptyBodyStructure =
    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)";

void append_nstr(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out += "NIL";
  } else {
    append_string(out, *s);
  }
}

void append_params(std::string& out, const std::vector<mime::Param>& params,
                   bool default_charset) {
  if (!default_charset && params.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool seen_charset = false;
  bool first = true;
  for (const mime::Param& p : params) {
    if (!first) out += ' ';
    first = false;
    if (default_charset && mime::iequals(p.name, "charset")) seen_charset = true;
    append_string(out, p.name);
    out += ' ';
    append_string(out, p.value);
  }
  if (default_charset && !seen_charset) {
    if (!first) out += ' ';
    out += "\"charset\" \"us-ascii\"";
  }
  out += ')';
}

void append_common_ext(std::string& out, const mime::BodyPart& p) {
  out += ' ';
  if (!p.disposition) {
    out += "NIL";
  } else {
    out += '(';
    append_string(out, *p.disposition);
    out += ' ';
    append_params(out, p.disposition_params, false);
    out += ')';
  }
  out += ' ';
  if (p.language.empty()) {
    out += "NIL";
  } else {
    out += '(';
    for (std::size_t i = 0; i < p.language.size(); ++i) {
      if (i > 0) out += ' ';
      append_string(out, p.language[i]);
    }
    out += ')';
  }
  out += ' ';
  append_nstr(out, p.location);
}

void write_part(std::string& out, const mime::BodyPart& p, bool ext);

void write_multipart(std::string& out, const mime::BodyPart& p, bool ext) {
  if (p.children.empty()) {
    out += ext ? kEmptyBodyStructure : kEmptyBody;
  } else {
    for (const mime::BodyPart& c : p.children) {
      out += '(';
      write_part(out, c, ext);
      out += ')';
    }
  }
  out += ' ';
  append_string(out, p.subtype);
  if (!ext) return;
  out += ' ';
  append_params(out, p.params, false);
  append_common_ext(out, p);
}

void write_single(std::string& out, const mime::BodyPart& p, bool ext) {
  const bool message = p.is_message() && p.children.size() == 1;
  bool text = false;
  if (message) {
    out += "\"message\" \"rfc822\"";
  } else {
    text = mime::iequals(p.type, "text");
    append_string(out, p.type);
    out += ' ';
    append_string(out, p.subtype);
  }
  out += ' ';
  append_params(out, p.params, text);
  out += ' ';
  append_nstr(out, p.id);
  out += ' ';
  append_nstr(out, p.description);
  out += ' ';
  if (p.encoding) {
    append_string(out, *p.encoding);
  } else {
    out += "\"7bit\"";
  }
  out += ' ';
  out += std::to_string(p.body.size);
  if (text) {
    out += ' ';
    out += std::to_string(p.body_lines);
  } else if (message) {
    const mime::BodyPart& child = p.children.front();
    out += ' ';
    out += envelope(child.envelope ? *child.envelope : mime::Envelope{});
    out += " (";
    write_part(out, child, ext);
    out += ") ";
    out += std::to_string(p.body_lines);
  }
  if (!ext) return;
  out += ' ';
  append_nstr(out, p.md5);
  append_common_ext(out, p);
}

void write_part(std::string& out, const mime::BodyPart& p, bool ext) {
  if (p.is_multipart()) {
    write_multipart(out, p, ext);
  } else {
    write_single(out, p, ext);
  }
}

}  // namespace

std::string body_structure(const mime::BodyPart& part, bool extensible) {
  std::string out;
  out.reserve(256);
  out += '(';
  write_part(out, part, extensible);
  out += ')';
  return out;
}

std::string body_structure(const mime::MessageStructure& s, bool extensible) {
  const std::string& memo = extensible ? s.bodystructure_imap : s.body_imap;
  if (!memo.empty()) return memo;
  return body_structure(s.root, extensible);
}

void memoize(mime::MessageStructure& s) {
  s.envelope_imap.clear();
  s.body_imap.clear();
  s.bodystructure_imap.clear();
  s.envelope_imap = envelope(s);
  s.body_imap = body_structure(s, false);
  s.bodystructure_imap = body_structure(s, true);
}

}  // namespace mb::imap::render
