// File: protocols/imap/render/section.hpp
//
// BODY[section] resolution (RFC 3501 §6.4.5): section spec -> the wire byte range to send.
// The caller reads that range with store::Mailbox::read(), applies <origin.count> partial
// itself, and for HEADER.FIELDS / HEADER.FIELDS.NOT passes the bytes of the range through
// filter_header_fields() before sending.
//
// Part numbering follows Dovecot (imap-msgpart.c): in a non-multipart message (or embedded
// message) the body is part 1; a path may continue past a part only if it is message/rfc822,
// and then numbers refer to the embedded message. HEADER/TEXT of a numbered part apply to the
// embedded message of a message/rfc822 part. A part that does not exist resolves to nullopt:
// Dovecot answers it with an empty string (BODY[4] ""), and so should the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/mime/message_structure.hpp"

namespace mb::imap::render {

enum class SectionText : std::uint8_t {
  none,               // BODY[] or BODY[1.2]: the whole message / the part's body
  header,             // HEADER
  header_fields,      // HEADER.FIELDS (list)
  header_fields_not,  // HEADER.FIELDS.NOT (list)
  mime,               // MIME (only with a part number)
  text,               // TEXT
};

struct SectionSpec {
  std::vector<std::uint32_t> part;  // e.g. {1, 2} for "1.2"; empty for the top level
  SectionText text = SectionText::none;
  std::vector<std::string> fields;  // for header_fields(_not); any case
};

struct SectionRange {
  mime::Range range;          // wire bytes to read
  bool filter_fields = false;  // pass the bytes through filter_header_fields()
};

std::optional<SectionRange> resolve_section(const mime::MessageStructure& structure,
                                            const SectionSpec& spec);

// The part a path names (nullptr if none), with the rules above.
const mime::BodyPart* find_part(const mime::MessageStructure& structure,
                                std::span<const std::uint32_t> path);

// The fields of `header_block` whose names are (exclude = false) or are not (exclude = true)
// in `fields` (case-insensitive), in message order, each with its folding, followed by the
// empty line "\r\n" (as Dovecot sends it, even when nothing matched). Bare LF becomes CRLF.
std::string filter_header_fields(std::string_view header_block,
                                 std::span<const std::string> fields, bool exclude);

}  // namespace mb::imap::render
