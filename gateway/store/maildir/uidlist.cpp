// File: gateway/store/maildir/uidlist.cpp
#include "gateway/store/maildir/uidlist.hpp"

#include <charconv>

#include <fmt/format.h>

namespace mb::store::maildir {
namespace {

template <class T>
bool to_num(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

mb::Result<UidList, std::string> parse_uidlist(std::string_view text) {
  UidList out;
  std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return mb::unexpected(std::string("no header line"));
  std::string_view header = text.substr(0, nl);
  auto fields = split_spaces(header);
  if (fields.empty()) return mb::unexpected(std::string("empty header"));
  int version = 0;
  if (!to_num(fields[0], version) || (version != 1 && version != 3))
    return mb::unexpected(fmt::format("unsupported uidlist version '{}'", fields[0]));
  if (version == 1) {
    if (fields.size() < 3 || !to_num(fields[1], out.uidvalidity) || !to_num(fields[2], out.next_uid))
      return mb::unexpected(std::string("bad version 1 header"));
  } else {
    bool have_v = false, have_n = false;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      std::string_view f = fields[i];
      if (f[0] == 'V') have_v = to_num(f.substr(1), out.uidvalidity);
      else if (f[0] == 'N') have_n = to_num(f.substr(1), out.next_uid);
      else if (f[0] == 'G') out.guid = std::string(f.substr(1));
    }
    if (!have_v || !have_n) return mb::unexpected(std::string("version 3 header lacks V or N"));
  }
  if (out.uidvalidity == 0) return mb::unexpected(std::string("UIDVALIDITY is 0"));
  std::size_t pos = nl + 1;
  std::size_t line_no = 1;
  Uid last = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      // A torn last line: an append (ours or Dovecot's) cut short by a crash. Dovecot's reader
      // stops before it too; the record was never acknowledged, so the file it named gets a
      // UID at the next sync. The caller rewrites the file before appending to it again.
      out.torn = true;
      break;
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    UidListEntry e;
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos || !to_num(line.substr(0, sp), e.uid) || e.uid == 0)
      return mb::unexpected(fmt::format("line {}: bad UID", line_no));
    std::string_view rest = line.substr(sp + 1);
    if (version == 3) {
      std::size_t colon = rest.find(':');
      if (colon == std::string_view::npos) return mb::unexpected(fmt::format("line {}: no ':'", line_no));
      for (auto f : split_spaces(rest.substr(0, colon))) {
        std::uint64_t v = 0;
        if (f[0] == 'W' && to_num(f.substr(1), v)) e.wire_size = v;
      }
      e.base = std::string(rest.substr(colon + 1));
    } else {
      e.base = std::string(rest);
    }
    // Strip any info part a foreign writer may have left.
    if (auto c = e.base.find(':'); c != std::string::npos) e.base.resize(c);
    if (e.base.empty()) return mb::unexpected(fmt::format("line {}: empty file name", line_no));
    if (e.uid <= last) return mb::unexpected(fmt::format("line {}: UIDs not ascending", line_no));
    last = e.uid;
    out.entries.push_back(std::move(e));
  }
  if (out.next_uid <= last) out.next_uid = last + 1;
  return out;
}

std::string format_uidlist_header(std::uint32_t uidvalidity, Uid next_uid, std::string_view guid) {
  if (guid.empty()) return fmt::format("3 V{} N{}\n", uidvalidity, next_uid);
  return fmt::format("3 V{} N{} G{}\n", uidvalidity, next_uid, guid);
}

void append_uidlist_line(std::string& out, Uid uid, std::string_view base,
                         std::optional<std::uint64_t> wire_size) {
  if (wire_size && base.find(",W=") == std::string_view::npos)
    fmt::format_to(std::back_inserter(out), "{} W{} :{}\n", uid, *wire_size, base);
  else
    fmt::format_to(std::back_inserter(out), "{} :{}\n", uid, base);
}

std::vector<std::string> parse_keywords_file(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    std::size_t sp = line.find(' ');
    std::size_t idx = 0;
    if (sp == std::string_view::npos || !to_num(line.substr(0, sp), idx) || idx >= kMaxKeywords) continue;
    std::string_view name = line.substr(sp + 1);
    if (name.empty()) continue;
    if (out.size() <= idx) out.resize(idx + 1);
    out[idx] = std::string(name);
  }
  return out;
}

std::string format_keywords_file(const std::vector<std::string>& keywords) {
  std::string out;
  for (std::size_t i = 0; i < keywords.size(); ++i)
    if (!keywords[i].empty()) fmt::format_to(std::back_inserter(out), "{} {}\n", i, keywords[i]);
  return out;
}

}  // namespace mb::store::maildir
