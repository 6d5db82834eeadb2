// File: protocols/imap/render/section.cpp
//
// BODY[section] -> wire range, and HEADER.FIELDS filtering (see section.hpp).
#include "protocols/imap/render/section.hpp"

#include "protocols/mime/header.hpp"

namespace mb::imap::render {

const mime::BodyPart* find_part(const mime::MessageStructure& s,
                                std::span<const std::uint32_t> path) {
  // Dovecot lib-imap/imap-msgpart.c imap_msgpart_find_part().
  const mime::BodyPart* part = &s.root;
  for (std::size_t i = 0; i < path.size() && part != nullptr; ++i) {
    const std::uint32_t num = path[i];
    const bool more = i + 1 < path.size();
    if (num == 0) return nullptr;
    if (part->is_multipart()) {
      part = num <= part->children.size() ? &part->children[num - 1] : nullptr;
    } else if (num != 1) {
      part = nullptr;
    } else if (more && !(part->is_message() && part->children.size() == 1)) {
      part = nullptr;
    }
    if (part != nullptr && more && part->is_message() && part->children.size() == 1) {
      // Continuing inside the message/rfc822: numbers refer to the embedded message.
      part = &part->children.front();
    }
  }
  return part;
}

std::optional<SectionRange> resolve_section(const mime::MessageStructure& s,
                                            const SectionSpec& spec) {
  const mime::BodyPart* part = &s.root;
  if (!spec.part.empty()) {
    part = find_part(s, spec.part);
    if (part == nullptr) return std::nullopt;
    if (spec.text == SectionText::none) return SectionRange{part->body, false};
    if (spec.text == SectionText::mime) return SectionRange{part->header, false};
    // HEADER, HEADER.FIELDS, TEXT of a numbered part exist only for message/rfc822 parts.
    if (!(part->is_message() && part->children.size() == 1)) return std::nullopt;
    part = &part->children.front();
  }
  switch (spec.text) {
    case SectionText::none:
      return SectionRange{mime::Range{0, s.size}, false};
    case SectionText::header:
      return SectionRange{part->header, false};
    case SectionText::header_fields:
    case SectionText::header_fields_not:
      return SectionRange{part->header, true};
    case SectionText::text:
      return SectionRange{part->body, false};
    case SectionText::mime:
      return std::nullopt;  // MIME needs a part number (RFC 3501 §6.4.5)
  }
  return std::nullopt;
}

std::string filter_header_fields(std::string_view block, std::span<const std::string> fields,
                                 bool exclude) {
  std::string out;
  out.reserve(block.size() < 4096 ? block.size() : 4096);
  std::size_t pos = 0;
  // Lines before the first field (a stray continuation) and lines without ':' count as
  // fields whose names are not listed, as in Dovecot.
  bool keep = exclude;
  while (pos < block.size()) {
    std::size_t eol = block.find('\n', pos);
    std::size_t next = eol == std::string_view::npos ? block.size() : eol + 1;
    std::string_view line = block.substr(pos, next - pos);
    std::string_view content = line;
    if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (content.empty()) break;  // end of header
    if (content[0] != ' ' && content[0] != '\t') {
      std::size_t colon = content.find(':');
      std::string_view name = colon == std::string_view::npos ? content : content.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      bool listed = false;
      for (const std::string& f : fields) {
        if (mime::iequals(f, name)) {
          listed = true;
          break;
        }
      }
      keep = listed != exclude;
    }
    if (keep) {
      out.append(content);
      if (eol != std::string_view::npos) out += "\r\n";
    }
    pos = next;
  }
  // Dovecot ends the result with the empty line, unless the last field copied had no line
  // end (a header cut off at the end of the message).
  if (out.empty() || out.back() == '\n') out += "\r\n";
  return out;
}

}  // namespace mb::imap::render
