// File: tests/fuzz/imap_parser.cpp
//
// Fuzz target for mb::imap::Parser. The input is parsed twice, once fed whole and once in
// chunks whose sizes come from the first input byte; both runs must give the same events
// (the parser's split-invariance contract). A session is emulated: continuations accepted,
// IDLE followed by expect_done(), AUTHENTICATE without initial response by expect_raw_line().
// Small limits so that every limit path is reachable.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocols/imap/parser.hpp"

namespace {

using namespace mb::imap;

// A compact fingerprint of an event: enough to detect split-dependent behaviour.
std::string fingerprint(const ParseEvent& ev) {
  std::string out = std::to_string(ev.index());
  if (const auto* c = std::get_if<Command>(&ev)) {
    out += c->tag + ' ' + std::string(command_name_text(c->name)) + (c->uid ? " uid" : "");
    out += ' ' + std::to_string(c->args.index());
    if (const auto* a = std::get_if<AppendArgs>(&c->args)) out += ' ' + a->message;
    if (const auto* s = std::get_if<SearchArgs>(&c->args))
      out += ' ' + std::to_string(s->key.children.size());
    if (const auto* f = std::get_if<FetchArgs>(&c->args)) {
      for (const auto& att : f->atts) out += ' ' + att.spec;
      // Exercise resolve() on every parsed set.
      (void)f->set.resolve(1000);
    }
  } else if (const auto* e = std::get_if<ParseError>(&ev)) {
    out += e->tag + ' ' + std::to_string(static_cast<int>(e->kind)) + (e->fatal ? " fatal" : "") +
           ' ' + std::to_string(e->literal_size);
  } else if (const auto* r = std::get_if<RawLine>(&ev)) {
    out += r->line;
  } else if (const auto* n = std::get_if<NeedContinuation>(&ev)) {
    out += n->tag + ' ' + std::to_string(n->size);
  }
  return out;
}

void drain(Parser& p, std::vector<std::string>& out) {
  for (;;) {
    ParseEvent ev = p.next();
    if (std::holds_alternative<NeedMore>(ev)) return;
    if (const auto* c = std::get_if<Command>(&ev)) {
      if (c->name == CommandName::idle) p.expect_done();
      if (c->name == CommandName::authenticate &&
          !c->get<AuthenticateArgs>().initial_response.has_value())
        p.expect_raw_line();
    }
    out.push_back(fingerprint(ev));
  }
}

ParserLimits limits() {
  ParserLimits l;
  l.max_line = 512;
  l.max_literal = 256;
  l.max_append_literal = 4096;
  l.max_command = 2048;
  l.max_depth = 16;
  l.max_items = 64;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = (data[0] % 64) + 1;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  Parser whole(limits());
  std::vector<std::string> a;
  whole.feed(input);
  drain(whole, a);

  Parser split(limits());
  std::vector<std::string> b;
  for (std::size_t off = 0; off < input.size(); off += chunk) {
    split.feed(input.substr(off, chunk));
    drain(split, b);
  }
  if (a != b) std::abort();  // events must not depend on how the bytes were split
  return 0;
}
