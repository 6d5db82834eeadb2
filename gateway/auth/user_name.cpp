// File: gateway/auth/user_name.cpp
#include "gateway/auth/user_name.hpp"

namespace mb::auth {

std::string_view user_name_problem(std::string_view name) {
  if (name.empty()) return "empty";
  if (name.size() > kMaxUserNameLength) return "longer than 255 octets";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "contains a control character";
    if (c == '/') return "contains '/'";
    if (c == ':') return "contains ':'";
  }
  if (name.find("..") != std::string_view::npos) return "contains \"..\"";
  return {};
}

std::string user_lookup_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

}  // namespace mb::auth
