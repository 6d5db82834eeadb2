// File: protocols/mime/date.cpp
//
// RFC 5322 §3.3 date-time, plus the obsolete forms of §4.3 (two- and three-digit years,
// alphabetic zones, missing seconds, comments) and common real-world variants (full day and
// month names, "10-Aug-23", missing day of week).
#include <cctype>
#include <string>

#include "protocols/mime/decode.hpp"
#include "protocols/mime/header.hpp"

namespace mb::mime {

namespace {

int month_from_name(std::string_view w) {
  static constexpr const char* kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return 0;
  for (int i = 0; i < 12; ++i) {
    if (iequals(w.substr(0, 3), kMonths[i])) return i + 1;
  }
  return 0;
}

// RFC 5322 §4.3 obs-zone.
bool zone_from_name(std::string_view w, int& minutes) {
  struct Z {
    const char* name;
    int hours;
  };
  static constexpr Z kZones[] = {{"UT", 0},   {"UTC", 0},  {"GMT", 0},  {"Z", 0},    {"EST", -5},
                                 {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
                                 {"PST", -8}, {"PDT", -7}};
  for (const Z& z : kZones) {
    if (iequals(w, z.name)) {
      minutes = z.hours * 60;
      return true;
    }
  }
  // Military zones: "SHOULD all be considered equivalent to -0000".
  if (w.size() == 1 && std::isalpha(static_cast<unsigned char>(w[0]))) {
    minutes = 0;
    return true;
  }
  return false;
}

// Splits the value into words at whitespace, ',' and '-' (outside the zone's sign), with
// comments removed.
std::vector<std::string> tokens(std::string_view raw) {
  std::vector<std::string> out;
  std::string cur;
  int comment = 0;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < raw.size() && out.size() < 32; ++i) {
    char c = raw[i];
    if (c == '(') {
      ++comment;
      flush();
      continue;
    }
    if (comment > 0) {
      if (c == ')') --comment;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      flush();
      continue;
    }
    if (c == '-' && !cur.empty()) {  // "10-Aug-23"
      flush();
      continue;
    }
    if ((c == '+' || c == '-') && cur.empty()) {
      cur.push_back(c);
      continue;
    }
    cur.push_back(c);
  }
  flush();
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (v > 100000) break;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::int64_t DateTime::to_unix() const {
  // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
  int y = year - (month <= 2 ? 1 : 0);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int mp = (month + 9) % 12;
  int doy = (153 * mp + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
  return days * 86400 + hour * 3600 + minute * 60 + second -
         static_cast<std::int64_t>(zone_minutes) * 60;
}

std::optional<DateTime> parse_date(std::string_view raw) {
  std::vector<std::string> t = tokens(raw);
  std::size_t i = 0;
  // Optional day of week.
  if (i < t.size() && !all_digits(t[i]) && month_from_name(t[i]) == 0) ++i;
  DateTime d;
  // "day month year" or the occasional "month day year".
  if (i + 1 >= t.size()) return std::nullopt;
  if (all_digits(t[i]) && month_from_name(t[i + 1]) != 0) {
    d.day = to_int(t[i]);
    d.month = month_from_name(t[i + 1]);
  } else if (month_from_name(t[i]) != 0 && all_digits(t[i + 1])) {
    d.month = month_from_name(t[i]);
    d.day = to_int(t[i + 1]);
  } else {
    return std::nullopt;
  }
  i += 2;
  if (i >= t.size() || !all_digits(t[i])) return std::nullopt;
  d.year = to_int(t[i]);
  if (t[i].size() <= 2) {
    d.year += d.year < 50 ? 2000 : 1900;  // RFC 5322 §4.3
  } else if (t[i].size() == 3) {
    d.year += 1900;
  }
  ++i;
  if (d.day < 1 || d.day > 31 || d.year > 9999) return std::nullopt;
  // Time (optional in practice): hh:mm[:ss]
  if (i < t.size() && t[i].find(':') != std::string::npos) {
    std::string_view tm = t[i];
    int parts[3] = {0, 0, 0};
    int n = 0;
    std::size_t p = 0;
    while (n < 3 && p <= tm.size()) {
      std::size_t colon = tm.find(':', p);
      std::string_view f = tm.substr(p, colon == std::string_view::npos ? tm.npos : colon - p);
      if (!all_digits(f) || f.size() > 2) return std::nullopt;
      parts[n++] = to_int(f);
      if (colon == std::string_view::npos) break;
      p = colon + 1;
    }
    if (n < 2 || parts[0] > 23 || parts[1] > 59 || parts[2] > 60) return std::nullopt;
    d.hour = parts[0];
    d.minute = parts[1];
    d.second = parts[2];
    ++i;
  }
  if (i < t.size()) {
    std::string_view z = t[i];
    if ((z[0] == '+' || z[0] == '-') && z.size() == 5 && all_digits(z.substr(1))) {
      int v = to_int(z.substr(1, 2)) * 60 + to_int(z.substr(3, 2));
      d.zone_minutes = z[0] == '-' ? -v : v;
    } else {
      int m = 0;
      if (zone_from_name(z, m)) d.zone_minutes = m;
    }
  }
  return d;
}

}  // namespace mb::mime
