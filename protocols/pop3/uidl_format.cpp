// File: protocols/pop3/uidl_format.cpp
#include "protocols/pop3/uidl_format.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace mb::pop3 {

UidlFormat::UidlFormat() {
  Part u;
  u.kind = Part::Kind::uid;
  u.zero_pad = u.hex = true;
  u.width = 8;
  Part v = u;
  v.kind = Part::Kind::uidvalidity;
  parts_ = {u, v};
}

namespace {

// Dovecot's pop3_uidl_format variables (doc: "POP3 UIDL format") that mailbridge cannot
// expand, each with the reason, so that a config copied from Dovecot fails with a clear error
// instead of producing different UIDLs (clients would download everything again).
std::string unsupported_variable(std::string_view var) {
  const std::string shown = var.size() == 1 ? std::string(var) : fmt::format("{{{}}}", var);
  if (var == "f" || var == "filename" || var == "g" || var == "guid") {
    return fmt::format(
        "%{} (Dovecot: the Maildir file name / GUID) is not supported: mailbridge derives UIDLs "
        "from UID and UIDVALIDITY only; use %u and %v (Dovecot's default is %08Xu%08Xv)",
        shown);
  }
  if (var == "m" || var == "md5") {
    return fmt::format(
        "%{} (Dovecot: MD5 of the message headers, mbox only) is not supported: use %u and %v",
        shown);
  }
  return fmt::format("unknown variable %{} (supported: %u or %{{uid}}, %v or %{{uidvalidity}})", shown);
}

}  // namespace

mb::Result<UidlFormat, std::string> UidlFormat::compile(std::string_view format) {
  UidlFormat f;
  f.parts_.clear();
  std::size_t max_len = 0;
  auto add_literal = [&](char c) {
    if (f.parts_.empty() || f.parts_.back().kind != Part::Kind::literal) f.parts_.emplace_back();
    f.parts_.back().literal.push_back(c);
    ++max_len;
  };
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c != '%') {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u > 0x7E) {
        return mb::unexpected(fmt::format(
            "character at offset {} is not printable ASCII without spaces (RFC 1939 §7)", i));
      }
      add_literal(c);
      continue;
    }
    const std::size_t start = i++;
    if (i < format.size() && format[i] == '%') {
      add_literal('%');
      continue;
    }
    Part p;
    if (i < format.size() && format[i] == '0') {
      p.zero_pad = true;
      ++i;
    }
    unsigned width = 0;
    while (i < format.size() && format[i] >= '0' && format[i] <= '9') {
      width = width * 10 + static_cast<unsigned>(format[i] - '0');
      if (width > 20) return mb::unexpected(fmt::format("field width larger than 20 at offset {}", start));
      ++i;
    }
    if (width > 0 && !p.zero_pad) {
      // Space padding would put spaces in the UIDL (RFC 1939 §7 allows 0x21-0x7E only).
      return mb::unexpected(fmt::format(
          "width at offset {} needs a leading 0 (space padding is not allowed in a UIDL)", start));
    }
    p.width = static_cast<std::uint8_t>(width);
    if (i < format.size() && (format[i] == 'X' || format[i] == 'x')) {
      // Dovecot's X modifier prints lowercase hex (var-expand.c: "%llx"), and its POP3 lists
      // UIDLs such as 000000016b026717: uppercase here would make every migrated UIDL new.
      p.hex = true;
      ++i;
    }
    if (i >= format.size()) return mb::unexpected(fmt::format("format ends inside the %-escape at offset {}", start));
    // One letter, or Dovecot 2.3's long form %{name}.
    std::string_view var = format.substr(i, 1);
    if (format[i] == '{') {
      const auto close = format.find('}', i);
      if (close == std::string_view::npos) {
        return mb::unexpected(fmt::format("unterminated %{{ at offset {}", start));
      }
      var = format.substr(i + 1, close - i - 1);
      i = close;
    }
    if (var == "u" || var == "uid") {
      p.kind = Part::Kind::uid;
    } else if (var == "v" || var == "uidvalidity") {
      p.kind = Part::Kind::uidvalidity;
    } else {
      return mb::unexpected(fmt::format("at offset {}: {}", start, unsupported_variable(var)));
    }
    max_len += std::max<std::size_t>(p.width, 10);
    f.parts_.push_back(std::move(p));
  }
  if (f.parts_.empty()) return mb::unexpected(std::string("must not be empty"));
  const bool has_uid = std::any_of(f.parts_.begin(), f.parts_.end(),
                                   [](const Part& p) { return p.kind == Part::Kind::uid; });
  if (!has_uid) return mb::unexpected(std::string("must contain %u so that each message's UIDL is unique"));
  if (max_len > 70) return mb::unexpected(std::string("a UIDL could exceed 70 characters (RFC 1939 §7)"));
  return f;
}

void UidlFormat::append(std::uint32_t uid, std::uint32_t uidvalidity, std::string& out) const {
  for (const Part& p : parts_) {
    if (p.kind == Part::Kind::literal) {
      out.append(p.literal);
      continue;
    }
    std::uint32_t v = p.kind == Part::Kind::uid ? uid : uidvalidity;
    char digits[16];
    int n = 0;
    const unsigned base = p.hex ? 16 : 10;
    const char* alphabet = "0123456789abcdef";
    do {
      digits[n++] = alphabet[v % base];
      v /= base;
    } while (v != 0);
    for (int pad = static_cast<int>(p.width) - n; pad > 0; --pad) out.push_back(p.zero_pad ? '0' : ' ');
    while (n > 0) out.push_back(digits[--n]);
  }
}

std::string UidlFormat::format(std::uint32_t uid, std::uint32_t uidvalidity) const {
  std::string out;
  append(uid, uidvalidity, out);
  return out;
}

}  // namespace mb::pop3
