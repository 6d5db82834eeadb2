// File: protocols/mime/message_structure.hpp
//
// The parsed structure of one RFC 5322 / MIME message (RFC 2045, 2046), as IMAP needs it for
// ENVELOPE, BODY, BODYSTRUCTURE and BODY[section] (RFC 3501 §6.4.5, §7.4.2), and its compact
// serialised form for the store's per-message cache (mb::store::CacheField::mime_structure).
//
// Contract:
// - Every offset and size is in the message's *wire form*: CRLF line ends. Input given with
//   bare LF line ends is accepted and each bare LF counts as CRLF (2 octets), so ranges always
//   address what Mailbox::read() returns.
// - parse_message() never fails: bad or over-limit input degrades (a broken multipart becomes
//   parts up to where it broke; past the depth/part limits the rest is treated as text/plain).
//   It is single-pass and iterative over the bytes, recursion depth bounded by kMaxDepth.
// - Header field values in the tree are kept raw (unfolded, not RFC 2047 decoded), because IMAP
//   sends them raw; decoding for SEARCH is in protocols/mime/decode.hpp.
// - Parameters keep Dovecot's form: RFC 2231 continuations (name*0, name*1*) are joined; an
//   extended value keeps its trailing '*' on the name and its charset'lang'%XX text (clients
//   decode it). param_value() gives the decoded UTF-8 value.
//
// Part tree (matches RFC 3501 part numbering, see protocols/imap/render/section.hpp):
//   root               header = the message header, body = the message body
//   multipart/*        children = its body parts (preamble and epilogue belong to no child)
//   message/rfc822     children = exactly one part: the embedded message, whose header is the
//                      embedded message header (and carries `envelope`) and whose body is its body
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mb::mime {

// A byte range of the wire form.
struct Range {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
  std::uint64_t end() const { return offset + size; }
  friend bool operator==(const Range&, const Range&) = default;
};

struct Param {
  std::string name;   // as written; ends in '*' for an RFC 2231 extended value
  std::string value;  // unquoted
  friend bool operator==(const Param&, const Param&) = default;
};

// Raw, unfolded field values of the headers ENVELOPE uses (first occurrence of each);
// nullopt = the header is absent.
struct Envelope {
  std::optional<std::string> date, subject, from, sender, reply_to, to, cc, bcc, in_reply_to,
      message_id;
  friend bool operator==(const Envelope&, const Envelope&) = default;
};

struct BodyPart {
  Range header;               // header block including its terminating empty line
  Range body;                 // body octets
  // Line ends in the body; computed for text/* and message/rfc822 parts (the only ones whose
  // IMAP rendering has a line count), 0 for others.
  std::uint64_t body_lines = 0;

  // As written in Content-Type (case kept, as Dovecot renders it); defaults per RFC 2045 §5.2
  // and RFC 2046 §5.1.5 (message/rfc822 inside multipart/digest). Compare case-insensitively.
  std::string type = "text";
  std::string subtype = "plain";
  std::vector<Param> params;      // Content-Type parameters
  std::optional<std::string> id, description, md5, location;  // raw values
  std::optional<std::string> encoding;  // Content-Transfer-Encoding token as written
  std::optional<std::string> disposition;  // Content-Disposition type as written
  std::vector<Param> disposition_params;
  std::vector<std::string> language;  // Content-Language tags

  std::optional<Envelope> envelope;  // set on the root and on an embedded message's root
  std::vector<BodyPart> children;

  bool is_multipart() const;
  // message/rfc822 parts hold an embedded message. (message/global, RFC 6532, is kept opaque
  // as Dovecot 2.3 does, so BODYSTRUCTURE matches it.)
  bool is_message() const;
  friend bool operator==(const BodyPart&, const BodyPart&) = default;
};

struct MessageStructure {
  BodyPart root;
  std::uint64_t size = 0;  // RFC822.SIZE: octets of the wire form
  bool degraded = false;   // a limit was hit; part of the message was treated as plain text
  // IMAP renderings memoised by mb::imap::render::memoize() (empty = not memoised). They are
  // part of the serialised form, so a cached FETCH ENVELOPE BODYSTRUCTURE is a string copy.
  std::string envelope_imap, body_imap, bodystructure_imap;
  friend bool operator==(const MessageStructure&, const MessageStructure&) = default;
};

struct ParseLimits {
  std::uint32_t max_depth = 100;         // nesting of multipart / message parts
  std::uint32_t max_parts = 10000;       // total parts in the tree
  std::uint32_t max_header_size = 256 * 1024;  // octets of one header block parsed for fields
  std::uint32_t max_boundary = 200;      // RFC 2046 allows 70; longer ones are accepted up to this
};

// Parses a whole message held in memory (wire form, or bare-LF line ends).
MessageStructure parse_message(std::string_view message, const ParseLimits& limits = {});

// Compact, versioned (first byte) encoding of the tree for the per-message cache.
std::string serialize(const MessageStructure& structure);
// nullopt on an unknown version or corrupt input (the caller then re-parses the message).
std::optional<MessageStructure> deserialize(std::string_view data);

// The memoised IMAP renderings of a serialised structure, read without building the tree
// (views into `data`, valid while it is): a cached FETCH (ENVELOPE BODYSTRUCTURE) needs
// nothing else, and building the tree was most of its cost. nullopt on an unknown version,
// input too short for them, or a structure that was serialised without renderings. Only the
// renderings are checked, not the rest of the entry (deserialize() checks everything).
struct MemoizedRenderings {
  std::string_view envelope, body, bodystructure;
};
std::optional<MemoizedRenderings> peek_renderings(std::string_view data);

// The named parameter (case-insensitive, name without '*'), RFC 2231 charset-decoded to UTF-8.
std::optional<std::string> param_value(const std::vector<Param>& params, std::string_view name);

}  // namespace mb::mime
