// File: gateway/store/maildir/file_name.cpp
#include "gateway/store/maildir/file_name.hpp"

#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>

#include <fmt/format.h>

namespace mb::store::maildir {
namespace {

std::optional<std::uint64_t> number_after(std::string_view base, std::string_view key) {
  std::size_t p = base.find(key);
  if (p == std::string_view::npos) return std::nullopt;
  const char* b = base.data() + p + key.size();
  const char* e = base.data() + base.size();
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (ec != std::errc{} || ptr == b) return std::nullopt;
  if (ptr != e && *ptr != ',' && *ptr != ':') return std::nullopt;
  return v;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h;
  // '/' and ':' are not allowed in Maildir names; ',' separates our fields (Dovecot does
  // the same escaping with octal codes).
  for (char* p = buf; *p; ++p) {
    if (*p == '/') h += "\\057";
    else if (*p == ':') h += "\\072";
    else if (*p == ',') h += "\\054";
    else h.push_back(*p);
  }
  return h.empty() ? "localhost" : h;
}

}  // namespace

ParsedName parse_file_name(std::string_view name) {
  ParsedName out;
  std::size_t colon = name.find(":2,");
  out.base = colon == std::string_view::npos ? name.substr(0, name.find(':')) : name.substr(0, colon);
  if (colon != std::string_view::npos) {
    for (char c : name.substr(colon + 3)) {
      switch (c) {
        case 'D': out.flags |= kDraft; break;
        case 'F': out.flags |= kFlagged; break;
        case 'R': out.flags |= kAnswered; break;
        case 'S': out.flags |= kSeen; break;
        case 'T': out.flags |= kDeleted; break;
        default:
          if (c >= 'a' && c <= 'z') out.keyword_letters |= 1u << (c - 'a');
      }
    }
  }
  out.file_size = number_after(out.base, ",S=");
  out.wire_size = number_after(out.base, ",W=");
  return out;
}

std::string foreign_info_letters(std::string_view name) {
  std::string out;
  std::size_t colon = name.find(":2,");
  if (colon == std::string_view::npos) return out;
  for (char c : name.substr(colon + 3)) {
    bool ours = c == 'D' || c == 'F' || c == 'R' || c == 'S' || c == 'T' || (c >= 'a' && c <= 'z');
    if (!ours && c != '/' && c != ':' && out.find(c) == std::string::npos) out.push_back(c);
  }
  return out;
}

std::string info_suffix(FlagSet flags, KeywordMask keywords, std::string_view foreign) {
  std::string s = info_suffix(flags, keywords);
  if (foreign.empty()) return s;
  // Maildir: info letters in ASCII order.
  std::string letters = s.substr(3);
  letters.append(foreign);
  std::sort(letters.begin(), letters.end());
  letters.erase(std::unique(letters.begin(), letters.end()), letters.end());
  return ":2," + letters;
}

std::string info_suffix(FlagSet flags, KeywordMask keywords) {
  std::string s = ":2,";
  if (flags & kDraft) s.push_back('D');
  if (flags & kFlagged) s.push_back('F');
  if (flags & kAnswered) s.push_back('R');
  if (flags & kSeen) s.push_back('S');
  if (flags & kDeleted) s.push_back('T');
  for (std::size_t i = 0; i < kMaxKeywords; ++i)
    if (keywords & (1u << i)) s.push_back(static_cast<char>('a' + i));
  return s;
}

std::optional<std::uint64_t> delivery_usecs(std::string_view base) {
  std::uint64_t secs = 0;
  auto [p, ec] = std::from_chars(base.data(), base.data() + base.size(), secs);
  if (ec != std::errc{} || p == base.data()) return std::nullopt;
  std::uint64_t usecs = 0;
  std::string_view rest(p, static_cast<std::size_t>(base.data() + base.size() - p));
  if (rest.size() > 2 && rest[0] == '.' && rest[1] == 'M') {
    auto [p2, ec2] = std::from_chars(rest.data() + 2, rest.data() + rest.size(), usecs);
    if (ec2 != std::errc{} || usecs >= 1000000) usecs = 0;
  }
  return secs * 1000000 + usecs;
}

std::string make_base(std::uint64_t file_size, std::uint64_t wire_size) {
  static std::atomic<std::uint64_t> counter{0};
  static const std::string host = host_name();
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return fmt::format("{}.M{}P{}Q{}.{},S={},W={}", tv.tv_sec, tv.tv_usec, getpid(), ++counter, host,
                     file_size, wire_size);
}

}  // namespace mb::store::maildir
