// File: gateway/auth/user_name.hpp
//
// Login-name checks applied before any lookup, so that a name can never escape the mail
// directory it is substituted into (store.path "%u") or smuggle bytes into logs.
//
// A valid name is 1..255 octets, has no '/', no "..", no ':' (the passwd-file separator), and
// no control characters (0x00-0x1F, 0x7F). Anything else (UTF-8, '@', '+', '.') is allowed.
#pragma once

#include <string>
#include <string_view>

namespace mb::auth {

inline constexpr std::size_t kMaxUserNameLength = 255;

// Empty string when `name` is acceptable, else a short reason for the log ("contains '/'").
std::string_view user_name_problem(std::string_view name);

inline bool valid_user_name(std::string_view name) { return user_name_problem(name).empty(); }

// The lookup key: ASCII letters lower-cased, as Dovecot's default auth_username_format=%Lu
// does, so "Alice" and "alice" are the same account. Other octets are unchanged.
std::string user_lookup_key(std::string_view name);

}  // namespace mb::auth
