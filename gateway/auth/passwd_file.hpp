// File: gateway/auth/passwd_file.hpp
//
// A Dovecot passwd-file (doc.dovecot.org "Passwd-file"), one user per line:
//
//   user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra_fields]
//
// Blank lines and lines starting with '#' are skipped. Fields are split on ':' exactly as
// Dovecot does, so a {PLAIN} password cannot contain ':' (hashes never do). uid/gid are empty
// or decimal; extra_fields is everything after the shell field, kept verbatim.
//
// Parsing is strict: any bad line fails the whole file with "<file>:<line>: <what>", so a
// reload never half-applies a broken file (PasswdAuthenticator keeps the old table).
// User names must pass user_name.hpp's checks; lookups are ASCII case-insensitive
// (user_lookup_key) and two lines for the same key are an error.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/auth/password_hash.hpp"
#include "protocols/common/result.hpp"

namespace mb::auth {

struct PasswdEntry {
  std::string user;  // as written in the file (canonical name reported on success)
  StoredPassword password;
  std::optional<unsigned long> uid;
  std::optional<unsigned long> gid;
  std::string gecos;
  std::string home;
  std::string shell;
  std::string extra;  // extra_fields, verbatim
  std::size_t line = 0;
};

// Immutable once built; shared by the loop and the pool threads through shared_ptr<const>.
class PasswdTable {
 public:
  const PasswdEntry* find(std::string_view user) const;  // by user_lookup_key
  std::size_t size() const { return entries_.size(); }
  bool has_reversible() const { return has_reversible_; }
  // A stored password of the most common hashed scheme in the file ({PLAIN} only if there
  // is nothing else; a built-in SHA512-CRYPT hash when the file is empty): unknown users are
  // checked against it so they cost the same hashing time as the majority of known ones.
  const StoredPassword& dummy() const { return dummy_; }

 private:
  friend mb::Result<std::shared_ptr<const PasswdTable>, std::string> parse_passwd_file(
      std::string_view, const std::string&);
  std::unordered_map<std::string, PasswdEntry> entries_;
  StoredPassword dummy_;
  bool has_reversible_ = false;
};

// Parses file contents; `file_name` prefixes every error.
mb::Result<std::shared_ptr<const PasswdTable>, std::string> parse_passwd_file(
    std::string_view text, const std::string& file_name);

// Reads (at most 64 MiB) and parses `path`. Blocking.
mb::Result<std::shared_ptr<const PasswdTable>, std::string> load_passwd_file(const std::string& path);

}  // namespace mb::auth
