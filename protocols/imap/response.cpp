// File: protocols/imap/response.cpp
#include "protocols/imap/response.hpp"

#include <array>
#include <charconv>
#include <ctime>

namespace mb::imap {

void append_number(std::string& out, std::uint64_t value) {
  std::array<char, 24> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.append(buf.data(), res.ptr);
}

bool is_response_atom_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '%': case '*': case '"': case '\\': case ']':
      return false;
    default:
      return true;
  }
}

namespace {

bool quotable(std::string_view value) {
  if (value.size() > 1024) return false;
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || u == '\r' || u == '\n' || u >= 0x80) return false;
  }
  return true;
}

}  // namespace

void append_string(std::string& out, std::string_view value) {
  if (quotable(value)) {
    out.push_back('"');
    for (char c : value) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
    return;
  }
  out.push_back('{');
  append_number(out, value.size());
  out.append("}\r\n");
  out.append(value);
}

void append_nstring(std::string& out, std::optional<std::string_view> value) {
  if (!value) {
    out.append("NIL");
    return;
  }
  append_string(out, *value);
}

void append_astring(std::string& out, std::string_view value) {
  bool atom = !value.empty();
  for (char c : value) {
    if (!is_response_atom_char(c)) {
      atom = false;
      break;
    }
  }
  // NIL as a bare atom would be read as nil by an nstring-expecting client.
  if (atom && value.size() == 3 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'i' &&
      (value[2] | 0x20) == 'l') {
    atom = false;
  }
  if (atom) {
    out.append(value);
  } else {
    append_string(out, value);
  }
}

void append_mailbox(std::string& out, std::string_view encoded_name) {
  // Quote always, except plain atoms: clients parse both; quoting keeps '%' and '*' safe.
  append_astring(out, encoded_name);
}

namespace {

constexpr std::array<std::pair<store::FlagSet, std::string_view>, 5> kSystemFlags{{
    {store::kAnswered, "\\Answered"},
    {store::kFlagged, "\\Flagged"},
    {store::kDeleted, "\\Deleted"},
    {store::kSeen, "\\Seen"},
    {store::kDraft, "\\Draft"},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

void append_flag_list(std::string& out, store::FlagSet flags, store::KeywordMask keywords,
                      const std::vector<std::string>& keyword_table, bool recent) {
  out.push_back('(');
  bool first = true;
  auto sep = [&] {
    if (!first) out.push_back(' ');
    first = false;
  };
  for (const auto& [bit, name] : kSystemFlags) {
    if ((flags & bit) != 0) {
      sep();
      out.append(name);
    }
  }
  if (recent) {
    sep();
    out.append("\\Recent");
  }
  for (std::size_t i = 0; keywords != 0 && i < keyword_table.size() && i < 32; ++i) {
    if ((keywords & (1u << i)) != 0) {
      sep();
      out.append(keyword_table[i]);
    }
  }
  out.push_back(')');
}

void append_mailbox_flags(std::string& out, const std::vector<std::string>& keyword_table) {
  out.append("(\\Answered \\Flagged \\Deleted \\Seen \\Draft");
  for (const auto& k : keyword_table) {
    out.push_back(' ');
    out.append(k);
  }
  out.push_back(')');
}

void append_internal_date(std::string& out, std::int64_t epoch_seconds) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buf{};
  int n = std::snprintf(buf.data(), buf.size(), "\"%02d-%s-%04d %02d:%02d:%02d +0000\"",
                        tm.tm_mday, kMonths[static_cast<std::size_t>(tm.tm_mon) % 12].data(),
                        tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (n > 0) out.append(buf.data(), static_cast<std::size_t>(n));
}

store::FlagSet system_flag(std::string_view name, bool* is_recent) {
  if (is_recent != nullptr) *is_recent = false;
  for (const auto& [bit, flag_name] : kSystemFlags) {
    if (iequals(name, flag_name)) return bit;
  }
  if (is_recent != nullptr && iequals(name, "\\Recent")) *is_recent = true;
  return 0;
}

std::string_view status_code(store::ErrorKind kind) {
  switch (kind) {
    case store::ErrorKind::not_found: return "[NONEXISTENT] ";
    case store::ErrorKind::exists: return "[ALREADYEXISTS] ";
    case store::ErrorKind::expunged: return "[EXPUNGEISSUED] ";
    case store::ErrorKind::bad_name: return "[CANNOT] ";
    case store::ErrorKind::no_permission: return "[NOPERM] ";
    case store::ErrorKind::too_big: return "[TOOBIG] ";
    case store::ErrorKind::over_quota: return "[OVERQUOTA] ";
    case store::ErrorKind::limit: return "[LIMIT] ";
    case store::ErrorKind::temp: return "[UNAVAILABLE] ";
    case store::ErrorKind::internal: return "[SERVERBUG] ";
  }
  return "";
}

void append_tagged(std::string& out, std::string_view tag, std::string_view status,
                   std::string_view text) {
  out.append(tag);
  out.push_back(' ');
  out.append(status);
  out.push_back(' ');
  out.append(text);
  out.append("\r\n");
}

void append_store_error(std::string& out, std::string_view tag, const store::Error& error) {
  out.append(tag);
  out.append(" NO ");
  out.append(status_code(error.kind));
  if (error.public_text.empty()) {
    out.append("Operation failed");
  } else {
    // Public text comes from the backend; keep it on one line.
    for (char c : error.public_text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  }
  out.append("\r\n");
}

}  // namespace mb::imap
