// File: gateway/store/maildir/maildir_user.hpp
//
// One user's Maildir++ tree (store.hpp's UserStore): INBOX at the root, "A/B" in ".A.B/"
// (components in modified UTF-7), `maildirfolder` marker in each folder, subscriptions in
// the root's `subscriptions` file (Dovecot's "V\t2" format; Courier's older one-name-per-line
// "INBOX.A.B" form is read too). Directory work runs on the pool; callbacks on the loop.
#pragma once

#include <memory>
#include <string>

#include "gateway/store/maildir/user_context.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::maildir {

class MaildirUserStore final : public UserStore {
 public:
  explicit MaildirUserStore(std::shared_ptr<UserContext> context) : ctx_(std::move(context)) {}

  const std::string& user() const override { return ctx_->user; }
  void list(std::function<void(StoreResult<std::vector<MailboxEntry>>)> done) override;
  void create(std::string name, std::function<void(StoreResult<void>)> done) override;
  void remove(std::string name, std::function<void(StoreResult<void>)> done) override;
  void rename(std::string from, std::string to, std::function<void(StoreResult<void>)> done) override;
  void subscribe(std::string name, bool subscribed, std::function<void(StoreResult<void>)> done) override;
  void status(std::string name, std::function<void(StoreResult<MailboxStatus>)> done) override;
  void open(std::string name, std::function<void(StoreResult<MailboxPtr>)> done) override;

 private:
  std::shared_ptr<UserContext> ctx_;
};

// Subscriptions file helpers (exposed for tests).
std::vector<std::string> parse_subscriptions(std::string_view text);
std::string format_subscriptions(const std::vector<std::string>& names);

}  // namespace mb::store::maildir
