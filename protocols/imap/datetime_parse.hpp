// File: protocols/imap/datetime_parse.hpp
//
// RFC 3501 §9 date and date-time, without the surrounding DQUOTEs:
//   date-text = date-day "-" date-month "-" date-year          ("1-Feb-2024", "01-feb-2024")
//   date-time = date-day-fixed "-" date-month "-" date-year SP time SP zone
//               (" 1-Feb-2024 10:20:30 +0100"; a 1-digit day without the SP is accepted too)
// Months are case-insensitive; the day is checked against the month (leap years included);
// years 1..9999; zone hours <= 23 (RFC 5322 allows 99, no real zone goes past 14).
#pragma once

#include <optional>
#include <string_view>

#include "protocols/imap/command.hpp"

namespace mb::imap {

std::optional<Date> parse_date(std::string_view text);
std::optional<DateTime> parse_date_time(std::string_view text);

}  // namespace mb::imap
