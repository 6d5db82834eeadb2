// File: gateway/store/mailbox_name.hpp
//
// Validation of the names that reach the file system: mailbox names (UTF-8, '/' separated,
// as the protocols pass them) and user names (expanded into the per-user root by
// expand_user_path). Anything that could leave the user's root or confuse the Maildir++
// layout is refused with ErrorKind::bad_name and a public text saying why:
//   empty name or component, leading '/', ".." or "." components, a component starting with
//   '.' or '~', the disk separator '.', NUL or other control characters (< 0x20, 0x7f),
//   invalid UTF-8, more than kMaxComponent octets in a component, more than kMaxName in all.
// "INBOX" in any case is normalised to "INBOX" (also as the first component of a child).
#pragma once

#include <string>
#include <string_view>

#include "gateway/store/store.hpp"

namespace mb::store {

inline constexpr std::size_t kMaxNameComponent = 255;
inline constexpr std::size_t kMaxName = 1024;

// Returns the normalised name or bad_name.
StoreResult<std::string> normalize_mailbox_name(std::string_view name);

// True for "INBOX" in any case.
bool is_inbox(std::string_view name);

// A user name usable in a path: 1..255 octets, no '/', no control characters, not "." or
// "..", not starting with '.' or '~'.
StoreResult<void> validate_user_name(std::string_view user);

// Expands %u (user), %n (local part: before the last '@'), %d (domain: after it, empty if
// none) and %% in `path_template`. Empty template: home + "/Maildir" (bad_name if home is
// empty or relative too). The result must be an absolute path.
StoreResult<std::string> expand_user_path(std::string_view path_template, std::string_view user,
                                          std::string_view home);

}  // namespace mb::store
