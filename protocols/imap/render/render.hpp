// File: protocols/imap/render/render.hpp
//
// IMAP renderings of a parsed message (RFC 3501 §7.4.2), byte-compatible with Dovecot 2.3:
//   envelope(s)                  "(date subject from sender reply-to to cc bcc in-reply-to message-id)"
//   body_structure(s, false)     BODY (no extension data)
//   body_structure(s, true)      BODYSTRUCTURE (with extension data)
// and the string primitives they use. Pure functions of the cached structure: they never need
// the message bytes, so a cached FETCH ENVELOPE BODYSTRUCTURE never reads the message.
//
// Strings: a value is sent quoted when it is 7-bit without CR, LF, NUL, and short; otherwise
// as a literal "{n}\r\n..." (RFC 3501 §4.3); absent values are NIL. Sender and Reply-To
// default to From (RFC 3501 §7.4.2); empty address lists are NIL.
#pragma once

#include <string>
#include <string_view>

#include "protocols/mime/message_structure.hpp"

namespace mb::imap::render {

// ENVELOPE of the message (root) or of any part carrying an envelope.
std::string envelope(const mime::Envelope& env);
// Of the whole message; returns the memoised rendering when present (see memoize()).
std::string envelope(const mime::MessageStructure& structure);

// BODY (extensible = false) or BODYSTRUCTURE (extensible = true) of the whole message;
// returns the memoised rendering when present.
std::string body_structure(const mime::MessageStructure& structure, bool extensible);
std::string body_structure(const mime::BodyPart& part, bool extensible);

// Stores ENVELOPE, BODY and BODYSTRUCTURE in the structure (envelope_imap, body_imap,
// bodystructure_imap) so that mime::serialize() caches them: call it once after
// parse_message(), before putting the structure in the store's cache.
void memoize(mime::MessageStructure& structure);

// `s` as an IMAP quoted string, or a literal when it cannot be quoted.
std::string astring_or_literal(std::string_view s);
// As above, or NIL for nullopt.
std::string nstring(const std::optional<std::string>& s);
// Appends the same to `out`.
void append_string(std::string& out, std::string_view s);

}  // namespace mb::imap::render
