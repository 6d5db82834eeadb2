// File: protocols/pop3/uidl_format.hpp
//
// POP3 UIDL strings from (UID, UIDVALIDITY), per `pop3.uidl_format` (DESIGN.md
// "Consistency"): the default "%08Xu%08Xv" is Dovecot's, so maildrops migrated from Dovecot
// keep their UIDLs and clients (fetchmail --uidl, getmail) re-download nothing.
//
// Syntax, a subset of Dovecot's variable expansion:  %% | %[0][width][X|x]VAR  with VAR
//   u  the message's IMAP UID          v  the mailbox's UIDVALIDITY
// X / x print in upper / lower-case hex, otherwise decimal; "0" pads with zeros; width 1-20.
// Anything else is copied. The format is compiled once (config load) and then expanded with
// no allocation beyond the output string. RFC 1939 §7: a unique-id is 1-70 characters in
// 0x21-0x7E, which UidlFormat::compile() checks for the literal parts and widths; %u must
// appear (uniqueness). gateway/config's check_uidl_format() mirrors these rules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/common/result.hpp"

namespace mb::pop3 {

class UidlFormat {
 public:
  // Error text names the problem ("unknown variable %m at offset 4").
  static mb::Result<UidlFormat, std::string> compile(std::string_view format);
  // The default, "%08Xu%08Xv".
  UidlFormat();

  void append(std::uint32_t uid, std::uint32_t uidvalidity, std::string& out) const;
  std::string format(std::uint32_t uid, std::uint32_t uidvalidity) const;

 private:
  struct Part {
    enum class Kind : std::uint8_t { literal, uid, uidvalidity };
    Kind kind = Kind::literal;
    bool zero_pad = false;
    bool hex = false;
    bool upper = false;
    std::uint8_t width = 0;
    std::string literal;
  };
  std::vector<Part> parts_;
};

}  // namespace mb::pop3
