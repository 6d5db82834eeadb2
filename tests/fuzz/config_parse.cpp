// File: tests/fuzz/config_parse.cpp
//
// Fuzz target for mb::config::parse_config(). The input is the whole file text. Invariants:
//  - parse_config never crashes and never throws (toml++ errors are caught inside);
//  - an error is non-empty and every line of it starts with "<source name>:" (config.hpp:
//    "one line per problem, each of the form <file>:<line>:<column>: ...");
//  - a successful parse renders (render_config_toml) to a document that parses back to an
//    equal Config, and rendering that again gives the same text (render is a fixed point).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"

namespace {

const std::string kSource = "fuzz.toml";
const std::string kRendered = "rendered.toml";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "config_parse invariant broken: %s\n%.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Every line of `error` starts with `source` + ':'.
void check_error(std::string_view error, const std::string& source) {
  if (error.empty()) fail("empty error", "");
  const std::string prefix = source + ':';
  std::size_t pos = 0;
  while (pos < error.size()) {
    auto nl = error.find('\n', pos);
    if (nl == std::string_view::npos) nl = error.size();
    const std::string_view line = error.substr(pos, nl - pos);
    // A trailing newline is tolerated; an empty line in the middle is not a problem line.
    if (!line.empty() && line.substr(0, prefix.size()) != prefix) {
      fail("error line does not start with the source name", error);
    }
    pos = nl + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = mb::config::parse_config(text, kSource);
  if (!cfg) {
    check_error(cfg.error(), kSource);
    return 0;
  }
  const std::string rendered = mb::config::render_config_toml(*cfg);
  auto again = mb::config::parse_config(rendered, kRendered);
  if (!again) fail("rendered config does not parse", again.error() + "\n--- rendered:\n" + rendered);
  if (!(*again == *cfg)) fail("rendered config parses to a different Config", rendered);
  const std::string rendered2 = mb::config::render_config_toml(*again);
  if (rendered2 != rendered) fail("render is not a fixed point", rendered + "\n--- vs:\n" + rendered2);
  return 0;
}
