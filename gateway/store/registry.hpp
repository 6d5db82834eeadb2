// File: gateway/store/registry.hpp
//
// Creates the configured Storage backend. The only store header besides store.hpp that the
// gateway (main/server wiring) includes; protocols never include it (it names libuv).
//
//   StoreSettings s;  s.path_template = "/srv/mail/%u/Maildir";
//   auto storage = mb::store::make_storage(s, loop);   // Result<unique_ptr<Storage>, string>
//
// path_template: %u user, %n local part (before the last '@'), %d domain (after it), %%;
// expanded per user from a validated user name (see mailbox_name.hpp); empty means
// "<home>/Maildir" with the passwd-file home. The Storage must outlive its UserStores' use on
// the loop and be destroyed on the loop thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::store {

struct StoreSettings {
  std::string driver = "maildir";  // only "maildir" so far
  std::string path_template;
  bool fsync = true;  // fsync files and directories before acknowledging a change
  // Flag changes (renames within cur/) too. Off: a flag change is durable within the
  // filesystem's own commit interval, as with Dovecot; no message, UID or expunge is at risk.
  bool fsync_flags = false;
  // A mailbox nobody uses any more stays in memory this long (at most mailbox_linger_max of
  // them), so a quick re-login (POP3 polling) reuses it: no uidlist read, no listing. 0: off.
  std::uint64_t mailbox_linger_ms = 30000;
  std::size_t mailbox_linger_max = 256;
  // Mailbox names (normalised, '/' separated) that carry a RFC 6154 attribute in LIST.
  std::map<SpecialUse, std::vector<std::string>> special_use_names;
};

// Error text names the setting and the reason (config validation shows it).
mb::Result<std::unique_ptr<Storage>, std::string> make_storage(const StoreSettings& settings, uv_loop_t* loop);

}  // namespace mb::store
