// File: gateway/store/maildir/mutf7.hpp
//
// Modified UTF-7 (RFC 3501 §5.1.3), the encoding Dovecot and Courier use for Maildir++
// folder names on disk (".Caf&AOk-" is "Café"). encode() takes valid UTF-8 (callers validate
// with normalize_mailbox_name first); decode() returns nullopt for malformed input so a
// foreign directory name that is not valid mUTF-7 is skipped rather than misread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mb::store::maildir {

std::string mutf7_encode(std::string_view utf8);
std::optional<std::string> mutf7_decode(std::string_view mutf7);

}  // namespace mb::store::maildir
