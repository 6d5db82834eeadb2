// File: tests/fuzz/mime_fuzz.cpp
//
// Fuzz target "mime": parses the input as a message and checks the invariants every consumer
// relies on: every range lies inside the wire size, children lie inside their parent's body,
// serialize/deserialize round-trips exactly, renderings and section lookups never crash, and
// the decoders accept any header value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocols/imap/render/render.hpp"
#include "protocols/imap/render/section.hpp"
#include "protocols/mime/decode.hpp"
#include "protocols/mime/message_structure.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_part(const mb::mime::BodyPart& p, const mb::mime::Range& outer) {
  check(p.header.end() <= outer.end() && p.header.offset >= outer.offset);
  check(p.body.end() <= outer.end() && p.body.offset >= p.header.end());
  for (const auto& c : p.children) check_part(c, p.body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mb::mime::ParseLimits limits;
  limits.max_depth = 20;
  limits.max_parts = 500;
  mb::mime::MessageStructure s = mb::mime::parse_message(in, limits);
  check_part(s.root, mb::mime::Range{0, s.size});

  std::string blob = mb::mime::serialize(s);
  auto back = mb::mime::deserialize(blob);
  check(back.has_value() && *back == s);
  (void)mb::mime::deserialize(in);  // arbitrary bytes as a cache entry

  std::string env = mb::imap::render::envelope(s);
  std::string bs = mb::imap::render::body_structure(s, true);
  check(!env.empty() && !bs.empty());

  mb::imap::render::SectionSpec spec;
  for (std::uint32_t a = 0; a < 4; ++a) {
    for (std::uint32_t b = 0; b < 3; ++b) {
      spec.part.clear();
      if (a > 0) spec.part.push_back(a);
      if (b > 0) spec.part.push_back(b);
      for (auto t : {mb::imap::render::SectionText::none, mb::imap::render::SectionText::header,
                     mb::imap::render::SectionText::text, mb::imap::render::SectionText::mime}) {
        spec.text = t;
        if (auto r = mb::imap::render::resolve_section(s, spec)) check(r->range.end() <= s.size);
      }
    }
  }
  const std::string fields[] = {"From", "Subject"};
  (void)mb::imap::render::filter_header_fields(in, fields, false);
  (void)mb::mime::decode_header_value(in.substr(0, 4096));
  (void)mb::mime::parse_date(in.substr(0, 200));
  (void)mb::mime::addresses_for_search(in.substr(0, 4096));
  (void)mb::mime::contains_icase(in.substr(0, 2048), "caf\xc3\xa9");
  return 0;
}
