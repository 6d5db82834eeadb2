// File: gateway/store/maildir/user_context.hpp
//
// What one user's UserStore and its open mailboxes share: the loop, the Maildir root, the
// settings, and the process-wide registry of open mailboxes (weak_ptrs keyed by folder
// directory, so each folder has exactly one MaildirMailbox). Loop thread only.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/store/store.hpp"

namespace mb::store::maildir {

class MaildirMailbox;

struct MailboxRegistry {
  std::map<std::string, std::weak_ptr<MaildirMailbox>> by_dir;
};

struct UserContext {
  uv_loop_t* loop = nullptr;
  std::string user;
  std::string root;  // the user's Maildir (INBOX)
  bool fsync = true;
  std::map<SpecialUse, std::vector<std::string>> special_use_names;
  std::shared_ptr<MailboxRegistry> registry;

  // Directory of a normalised mailbox name: root for INBOX, root/.A.B for "A/B" (each
  // component in modified UTF-7, as Dovecot and Courier store them).
  std::string folder_dir(const std::string& normalized_name) const;
};

}  // namespace mb::store::maildir
