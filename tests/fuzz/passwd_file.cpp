// File: tests/fuzz/passwd_file.cpp
//
// Fuzz target for mb::auth::parse_passwd_file(). The input is the whole file text.
// PasswdTable cannot be iterated, so the target re-splits the input itself with the rules
// passwd_file.hpp states (lines on '\n', one trailing '\r' dropped, blank/whitespace-only and
// '#' lines skipped, user = text before the first ':') and checks, for a successful parse:
//  - every user line names a valid user (user_name.hpp) and find() returns an entry with
//    exactly that name (also when looked up upper-cased: lookups are case-insensitive) and
//    that line number;
//  - size() equals the number of user lines (no line silently dropped or merged);
//  - dummy() holds a non-empty hash (unknown users must cost a real hash check).
// A failed parse: the error is non-empty and starts with "<file name>:".
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/auth/passwd_file.hpp"
#include "gateway/auth/user_name.hpp"

namespace {

const std::string kFile = "fuzz-users";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "passwd_file invariant broken: %s\n%.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = mb::auth::parse_passwd_file(text, kFile);
  if (!table) {
    const std::string& e = table.error();
    if (e.empty()) fail("empty error", "");
    if (e.rfind(kFile + ':', 0) != 0) fail("error does not start with the file name", e);
    return 0;
  }
  const mb::auth::PasswdTable& t = **table;
  std::size_t users = 0;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    ++users;
    const std::string_view user = line.substr(0, line.find(':'));
    if (!mb::auth::valid_user_name(user)) fail("accepted an invalid user name", user);
    const mb::auth::PasswdEntry* e = t.find(user);
    if (e == nullptr) fail("accepted user not found", user);
    if (e->user != user) fail("entry holds another name", e->user);
    if (e->line != line_no) fail("entry has the wrong line number", user);
    if (t.find(ascii_upper(user)) != e) fail("lookup is not ASCII case-insensitive", user);
  }
  if (t.size() != users) fail("table size differs from the number of user lines", text);
  if (t.dummy().hash.empty()) fail("dummy password has an empty hash", "");
  return 0;
}
