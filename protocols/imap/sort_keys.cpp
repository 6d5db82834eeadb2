// File: protocols/imap/sort_keys.cpp
#include "protocols/imap/sort_keys.hpp"

#include "protocols/mime/decode.hpp"

namespace mb::imap {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

bool istarts(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i];
    if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 32);
    if (a != prefix[i]) return false;
  }
  return true;
}

void trim_leading_wsp(std::string_view& s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
}

// subj-blob = "[" *BLOBCHAR "]" *WSP; BLOBCHAR excludes "[" and "]". Removes it when present.
bool strip_blob(std::string_view& s) {
  if (s.empty() || s.front() != '[') return false;
  std::size_t i = 1;
  while (i < s.size() && s[i] != '[' && s[i] != ']') ++i;
  if (i >= s.size() || s[i] != ']') return false;
  s.remove_prefix(i + 1);
  trim_leading_wsp(s);
  return true;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" (RFC 5256 §5).
bool strip_refwd(std::string_view& s) {
  std::string_view t = s;
  if (istarts(t, "RE")) t.remove_prefix(2);
  else if (istarts(t, "FWD")) t.remove_prefix(3);
  else if (istarts(t, "FW")) t.remove_prefix(2);
  else return false;
  trim_leading_wsp(t);
  std::string_view before_blob = t;
  if (!strip_blob(t)) t = before_blob;
  if (t.empty() || t.front() != ':') return false;
  t.remove_prefix(1);
  s = t;
  return true;
}

}  // namespace

std::string base_subject(std::string_view decoded) {
  // (1) Tabs and runs of white space become one space (the caller decoded RFC 2047 and
  // unfolded the header).
  std::string collapsed;
  collapsed.reserve(decoded.size());
  for (char c : decoded) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
    collapsed += c;
  }
  std::string_view s = collapsed;
  for (;;) {
    // (2) Trailing "(fwd)" and white space, repeatedly.
    for (;;) {
      while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
      if (s.size() >= 5 && istarts(s.substr(s.size() - 5), "(FWD)")) {
        s.remove_suffix(5);
        continue;
      }
      break;
    }
    // (3)-(5) Leading "Re:"-style leaders and blobs, repeatedly; a blob goes only when
    // something remains after it.
    for (;;) {
      trim_leading_wsp(s);
      if (strip_refwd(s)) continue;
      std::string_view t = s;
      if (strip_blob(t) && !t.empty()) {
        s = t;
        continue;
      }
      break;
    }
    // (6) "[fwd:" ... "]" wraps the subject: unwrap and start again.
    if (istarts(s, "[FWD:") && !s.empty() && s.back() == ']') {
      s = s.substr(5, s.size() - 6);
      continue;
    }
    break;
  }
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string first_mailbox(std::string_view raw) {
  // The first address as ENVELOPE has it: for a group that is the group marker, whose
  // addr-mailbox is the group name (as Dovecot sorts; imaptest sort-addresses).
  for (const auto& a : mime::parse_address_list(raw)) {
    std::string out = a.mailbox;
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  return {};
}

std::optional<std::int64_t> sent_date(std::string_view raw) {
  auto d = mime::parse_date(raw);
  if (!d) return std::nullopt;
  return d->to_unix();
}

}  // namespace mb::imap
