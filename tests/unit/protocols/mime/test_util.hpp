// File: tests/unit/protocols/mime/test_util.hpp
//
// Helpers shared by the mime tests: reading test data and converting line ends.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace mb::mime::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every line end (LF or CRLF) as CRLF: the wire form.
inline std::string to_crlf(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 20);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

inline std::string to_lf(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out += s[i];
  }
  return out;
}

}  // namespace mb::mime::test
