// File: protocols/imap/datetime_parse.cpp
#include "protocols/imap/datetime_parse.hpp"

#include <array>

namespace mb::imap {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                      "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};

bool digits(std::string_view s, std::size_t& i, std::size_t min, std::size_t max, int& out) {
  std::size_t n = 0;
  out = 0;
  while (i < s.size() && n < max && s[i] >= '0' && s[i] <= '9') {
    out = out * 10 + (s[i] - '0');
    ++i;
    ++n;
  }
  return n >= min;
}

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// day "-" month "-" year at s[i]; advances i.
bool date_text(std::string_view s, std::size_t& i, Date& d) {
  if (!digits(s, i, 1, 2, d.day)) return false;
  if (i >= s.size() || s[i] != '-') return false;
  ++i;
  if (i + 3 > s.size()) return false;
  d.month = 0;
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    if (upper(s[i]) == kMonths[m][0] && upper(s[i + 1]) == kMonths[m][1] &&
        upper(s[i + 2]) == kMonths[m][2])
      d.month = static_cast<int>(m) + 1;
  }
  if (d.month == 0) return false;
  i += 3;
  if (i >= s.size() || s[i] != '-') return false;
  ++i;
  if (!digits(s, i, 4, 4, d.year)) return false;
  return d.year >= 1 && d.day >= 1 && d.day <= days_in_month(d.year, d.month);
}

}  // namespace

std::optional<Date> parse_date(std::string_view text) {
  Date d;
  std::size_t i = 0;
  if (!date_text(text, i, d) || i != text.size()) return std::nullopt;
  return d;
}

std::optional<DateTime> parse_date_time(std::string_view text) {
  DateTime dt;
  std::size_t i = 0;
  if (!text.empty() && text[0] == ' ') ++i;  // date-day-fixed = (SP DIGIT) / 2DIGIT
  if (!date_text(text, i, dt.date)) return std::nullopt;
  auto expect = [&](char c) {
    if (i >= text.size() || text[i] != c) return false;
    ++i;
    return true;
  };
  if (!expect(' ') || !digits(text, i, 2, 2, dt.hour) || !expect(':') ||
      !digits(text, i, 2, 2, dt.minute) || !expect(':') || !digits(text, i, 2, 2, dt.second) ||
      !expect(' '))
    return std::nullopt;
  if (dt.hour > 23 || dt.minute > 59 || dt.second > 60) return std::nullopt;
  if (i >= text.size() || (text[i] != '+' && text[i] != '-')) return std::nullopt;
  const int sign = text[i] == '-' ? -1 : 1;
  ++i;
  int hh = 0, mm = 0;
  if (!digits(text, i, 2, 2, hh) || !digits(text, i, 2, 2, mm) || i != text.size())
    return std::nullopt;
  if (hh > 23 || mm > 59) return std::nullopt;
  dt.zone_minutes = sign * (hh * 60 + mm);
  return dt;
}

}  // namespace mb::imap
