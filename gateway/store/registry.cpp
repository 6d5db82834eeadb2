// File: gateway/store/registry.cpp
//
// Backend registry (one entry per driver, as Dovecot's mail storage classes) and the Maildir
// Storage: per-user roots from the path template, one process-wide registry of open mailboxes.
#include "gateway/store/registry.hpp"

#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/mailbox_name.hpp"
#include "gateway/store/maildir/maildir_user.hpp"
#include "gateway/store/maildir/user_context.hpp"

namespace mb::store {
namespace {

class MaildirStorage final : public Storage {
 public:
  MaildirStorage(StoreSettings settings, uv_loop_t* loop)
      : settings_(std::move(settings)), loop_(loop), registry_(std::make_shared<maildir::MailboxRegistry>()) {
    registry_->loop = loop_;
    registry_->linger_ms = settings_.mailbox_linger_ms;
    registry_->max_lingering = settings_.mailbox_linger_max;
  }
  // On the loop thread, before the loop closes: lingering mailboxes go now (they and the
  // registry refer to each other through their UserContext).
  ~MaildirStorage() override { registry_->shutdown(); }
  MaildirStorage(const MaildirStorage&) = delete;
  MaildirStorage& operator=(const MaildirStorage&) = delete;

  std::size_t open_mailboxes() const override {
    std::size_t n = 0;
    for (const auto& [dir, weak] : registry_->by_dir) n += weak.expired() ? 0 : 1;
    return n;
  }

  void open_user(std::string user, std::string home,
                 std::function<void(StoreResult<UserStorePtr>)> done) override {
    auto root = expand_user_path(settings_.path_template, user, home);
    if (!root) {
      Error e = root.error();
      detail::post(loop_, [done = std::move(done), e] { done(mb::unexpected(e)); });
      return;
    }
    while (root->size() > 1 && root->back() == '/') root->pop_back();
    auto ctx = std::make_shared<maildir::UserContext>();
    ctx->loop = loop_;
    ctx->user = std::move(user);
    ctx->root = std::move(*root);
    ctx->fsync = settings_.fsync;
    ctx->fsync_flags = settings_.fsync_flags;
    ctx->special_use_names = settings_.special_use_names;
    ctx->registry = registry_;
    UserStorePtr store = std::make_shared<maildir::MaildirUserStore>(std::move(ctx));
    detail::post(loop_, [done = std::move(done), store] { done(store); });
  }

 private:
  StoreSettings settings_;
  uv_loop_t* loop_;
  std::shared_ptr<maildir::MailboxRegistry> registry_;
};

}  // namespace

mb::Result<std::unique_ptr<Storage>, std::string> make_storage(const StoreSettings& settings, uv_loop_t* loop) {
  if (!loop) return mb::unexpected(std::string("store: no event loop"));
  if (settings.driver == "maildir") {
    if (!settings.path_template.empty() && settings.path_template.front() != '/' &&
        settings.path_template.front() != '%')
      return mb::unexpected("store.path: must be an absolute path, got '" + settings.path_template + "'");
    return std::unique_ptr<Storage>(std::make_unique<MaildirStorage>(settings, loop));
  }
  return mb::unexpected("store.driver: unsupported driver '" + settings.driver + "' (supported: maildir)");
}

}  // namespace mb::store
