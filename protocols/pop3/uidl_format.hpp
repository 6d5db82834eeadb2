// File: protocols/pop3/uidl_format.hpp
//
// POP3 UIDL strings from (UID, UIDVALIDITY), per `pop3.uidl_format` (DESIGN.md
// "Consistency"): the default "%08Xu%08Xv" is Dovecot's, so maildrops migrated from Dovecot
// keep their UIDLs and clients (fetchmail --uidl, getmail) re-download nothing.
//
// Syntax, a subset of Dovecot's variable expansion:  %% | %[0][width][X|x]VAR  with VAR
//   u or {uid}  the message's IMAP UID    v or {uidvalidity}  the mailbox's UIDVALIDITY
// X (Dovecot's hex modifier) and x print lowercase hex, as Dovecot does, otherwise decimal; "0" pads with zeros; width 1-20.
// Anything else is copied. Dovecot's other pop3_uidl_format variables are refused with an
// error naming them: %f/%{filename} and %g/%{guid} (Maildir file name; the store does not
// expose it) and %m/%{md5} (header MD5, mbox-only in Dovecot). The format is compiled once
// (config load) and then expanded with no allocation beyond the output string. RFC 1939 §7: a unique-id is 1-70 characters in
// 0x21-0x7E, which UidlFormat::compile() checks for the literal parts and widths; %u must
// appear (uniqueness). gateway/config's check_uidl_format() calls compile(), so
// --check-config refuses exactly what the server would.
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
    std::uint8_t width = 0;
    std::string literal;
  };
  std::vector<Part> parts_;
};

}  // namespace mb::pop3
