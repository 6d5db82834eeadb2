// File: gateway/store/mailbox_name.cpp
#include "gateway/store/mailbox_name.hpp"

#include <cstdint>

namespace mb::store {
namespace {

Error bad(std::string text) {
  return Error{ErrorKind::bad_name, text, text};
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 32);
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 32);
    if (x != y) return false;
  }
  return true;
}

// Strict UTF-8 check (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1fu;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0fu;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3fu);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

bool has_control(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

bool is_inbox(std::string_view name) { return ieq(name, "INBOX"); }

StoreResult<std::string> normalize_mailbox_name(std::string_view name) {
  if (name.empty()) return mb::unexpected(bad("Mailbox name is empty"));
  if (name.size() > kMaxName) return mb::unexpected(bad("Mailbox name is too long"));
  if (has_control(name)) return mb::unexpected(bad("Mailbox name contains control characters"));
  if (!valid_utf8(name)) return mb::unexpected(bad("Mailbox name is not valid UTF-8"));
  if (name.front() == '/') return mb::unexpected(bad("Mailbox name must not start with '/'"));
  std::string out;
  out.reserve(name.size());
  std::size_t start = 0;
  bool first = true;
  while (true) {
    std::size_t slash = name.find('/', start);
    std::string_view comp =
        name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (comp.empty()) return mb::unexpected(bad("Mailbox name has an empty component"));
    if (comp == "." || comp == "..")
      return mb::unexpected(bad("Mailbox name must not contain '.' or '..' components"));
    if (comp.front() == '.') return mb::unexpected(bad("Mailbox name component starts with '.'"));
    if (comp.front() == '~') return mb::unexpected(bad("Mailbox name component starts with '~'"));
    if (comp.find('.') != std::string_view::npos)
      return mb::unexpected(bad("Mailbox name must not contain '.' (the hierarchy separator on disk)"));
    if (comp.size() > kMaxNameComponent)
      return mb::unexpected(bad("Mailbox name component is too long"));
    if (!first) out.push_back('/');
    if (first && is_inbox(comp)) {
      out += "INBOX";
    } else {
      out += comp;
    }
    first = false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

StoreResult<void> validate_user_name(std::string_view user) {
  if (user.empty()) return mb::unexpected(bad("User name is empty"));
  if (user.size() > kMaxNameComponent) return mb::unexpected(bad("User name is too long"));
  if (has_control(user)) return mb::unexpected(bad("User name contains control characters"));
  if (user.find('/') != std::string_view::npos)
    return mb::unexpected(bad("User name contains '/'"));
  if (user.front() == '.' || user.front() == '~')
    return mb::unexpected(bad("User name starts with '.' or '~'"));
  return {};
}

StoreResult<std::string> expand_user_path(std::string_view path_template, std::string_view user,
                                          std::string_view home) {
  if (auto v = validate_user_name(user); !v) return mb::unexpected(v.error());
  std::string out;
  if (path_template.empty()) {
    if (home.empty() || home.front() != '/')
      return mb::unexpected(Error{ErrorKind::bad_name, "No mail location for this user",
                                  "store path template empty and home not absolute"});
    out = std::string(home) + "/Maildir";
    return out;
  }
  std::size_t at = user.rfind('@');
  std::string_view local = at == std::string_view::npos ? user : user.substr(0, at);
  std::string_view domain = at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
  for (std::size_t i = 0; i < path_template.size(); ++i) {
    char c = path_template[i];
    if (c != '%' || i + 1 == path_template.size()) {
      out.push_back(c);
      continue;
    }
    char k = path_template[++i];
    switch (k) {
      case 'u': out += user; break;
      case 'n': out += local; break;
      case 'd': out += domain; break;
      case '%': out.push_back('%'); break;
      default:
        out.push_back('%');
        out.push_back(k);
    }
  }
  if (out.empty() || out.front() != '/')
    return mb::unexpected(Error{ErrorKind::bad_name, "No mail location for this user",
                                "store path does not expand to an absolute path: " + out});
  return out;
}

}  // namespace mb::store
