// File: gateway/metrics/store_metrics.cpp
#include "gateway/metrics/store_metrics.hpp"

#include <algorithm>
#include <utility>

namespace mb::metrics {
namespace {

using store::StoreResult;
template <class T>
using Done = std::function<void(StoreResult<T>)>;

class MeteredMailbox final : public store::Mailbox {
 public:
  MeteredMailbox(store::MailboxPtr inner, MeteredStorage& m) : inner_(std::move(inner)), m_(m) {}

  const std::string& name() const override { return inner_->name(); }
  std::uint32_t uidvalidity() const override { return inner_->uidvalidity(); }
  store::Uid uidnext() const override { return inner_->uidnext(); }
  store::ModSeq highest_modseq() const override { return inner_->highest_modseq(); }
  std::span<const store::MessageInfo> messages() const override { return inner_->messages(); }
  const store::MessageInfo* find(store::Uid uid) const override { return inner_->find(uid); }
  const std::vector<std::string>& keywords() const override { return inner_->keywords(); }
  void add_observer(store::MailboxObserver* o) override { inner_->add_observer(o); }
  void remove_observer(store::MailboxObserver* o) override { inner_->remove_observer(o); }
  store::Uid claim_recent() override { return inner_->claim_recent(); }
  store::Uid first_recent() const override { return inner_->first_recent(); }

  void rescan(Done<void> done) override {
    inner_->rescan(m_.timed(StoreOp::rescan, std::move(done)));
  }
  void append(store::AppendRequest request, store::MailboxObserver* origin,
              Done<store::Uid> done) override {
    inner_->append(std::move(request), origin, m_.timed(StoreOp::append, std::move(done)));
  }
  void store_flags(std::vector<store::Uid> uids, store::FlagOp op, store::FlagSet flags,
                   std::vector<std::string> keywords, store::MailboxObserver* origin,
                   Done<std::vector<store::Change>> done) override {
    inner_->store_flags(std::move(uids), op, flags, std::move(keywords), origin,
                        m_.timed(StoreOp::store_flags, std::move(done)));
  }
  void expunge(std::vector<store::Uid> uids, store::MailboxObserver* origin,
               Done<std::vector<store::Uid>> done) override {
    inner_->expunge(std::move(uids), origin, m_.timed(StoreOp::expunge, std::move(done)));
  }
  void copy(std::vector<store::Uid> uids, std::string dest, store::MailboxObserver* origin,
            Done<store::CopyResult> done) override {
    inner_->copy(std::move(uids), std::move(dest), origin, m_.timed(StoreOp::copy, std::move(done)));
  }
  void move(std::vector<store::Uid> uids, std::string dest, store::MailboxObserver* origin,
            Done<store::CopyResult> done) override {
    inner_->move(std::move(uids), std::move(dest), origin, m_.timed(StoreOp::move, std::move(done)));
  }
  void read(store::Uid uid, std::uint64_t offset, std::size_t max_len,
            Done<std::string> done) override {
    // Per message, not per chunk: only the first chunk is timed (see the header).
    if (offset != 0) return inner_->read(uid, offset, max_len, std::move(done));
    inner_->read(uid, offset, max_len, m_.timed(StoreOp::read, std::move(done)));
  }
  std::optional<StoreResult<ReadNow>> read_now(store::Uid uid, std::uint64_t offset,
                                               std::size_t max_len, char* dst,
                                               char line_escape) override {
    return inner_->read_now(uid, offset, max_len, dst, line_escape);
  }
  std::unique_ptr<proto::BodySource> open_body_now(store::Uid uid, std::uint64_t offset,
                                                   char line_escape) override {
    return inner_->open_body_now(uid, offset, line_escape);
  }
  std::optional<std::string_view> cache_get(store::Uid uid, store::CacheField f) const override {
    return inner_->cache_get(uid, f);
  }
  void cache_put(store::Uid uid, store::CacheField f, std::string value) override {
    inner_->cache_put(uid, f, std::move(value));
  }
  void load_cache(std::function<void()> done) override { inner_->load_cache(std::move(done)); }

 private:
  store::MailboxPtr inner_;
  MeteredStorage& m_;
};

class MeteredUserStore final : public store::UserStore {
 public:
  MeteredUserStore(store::UserStorePtr inner, MeteredStorage& m) : inner_(std::move(inner)), m_(m) {}

  const std::string& user() const override { return inner_->user(); }
  void list(Done<std::vector<store::MailboxEntry>> done) override {
    inner_->list(m_.timed(StoreOp::list, std::move(done)));
  }
  void create(std::string name, Done<void> done) override {
    inner_->create(std::move(name), m_.timed(StoreOp::create, std::move(done)));
  }
  void remove(std::string name, Done<void> done) override {
    inner_->remove(std::move(name), m_.timed(StoreOp::remove, std::move(done)));
  }
  void rename(std::string from, std::string to, Done<void> done) override {
    inner_->rename(std::move(from), std::move(to), m_.timed(StoreOp::rename, std::move(done)));
  }
  void subscribe(std::string name, bool subscribed, Done<void> done) override {
    inner_->subscribe(std::move(name), subscribed, m_.timed(StoreOp::subscribe, std::move(done)));
  }
  void status(std::string name, Done<store::MailboxStatus> done) override {
    inner_->status(std::move(name), m_.timed(StoreOp::status, std::move(done)));
  }
  void open(std::string name, Done<store::MailboxPtr> done) override {
    inner_->open(std::move(name),
                 m_.timed<store::MailboxPtr>(
                     StoreOp::open, [&m = m_, done = std::move(done)](StoreResult<store::MailboxPtr> r) {
                       if (r) r = m.wrap(std::move(*r));
                       done(std::move(r));
                     }));
  }

 private:
  store::UserStorePtr inner_;
  MeteredStorage& m_;
};

bool is_failure(store::ErrorKind kind) {
  return kind == store::ErrorKind::temp || kind == store::ErrorKind::internal ||
         kind == store::ErrorKind::over_quota;
}

}  // namespace

std::string_view to_string(StoreOp op) {
  static constexpr std::string_view kNames[kStoreOpCount] = {
      "open_user", "list",   "create", "remove", "rename",      "subscribe", "status", "open",
      "rescan",    "append", "store_flags", "expunge", "copy", "move",      "read"};
  return kNames[static_cast<std::size_t>(op)];
}

MeteredStorage::MeteredStorage(store::Storage& inner, GatewayMetrics& metrics)
    : inner_(inner), metrics_(metrics) {
  // Look the children up once (with() takes the registry's mutex): they render from the
  // first scrape, at 0, so dashboards see every operation.
  for (std::size_t i = 0; i < kStoreOpCount; ++i) {
    durations_[i] = &metrics_.store_duration.with({to_string(static_cast<StoreOp>(i))});
  }
  errors_ = &metrics_.errors.with({"store"});
}

MeteredStorage::~MeteredStorage() = default;

void MeteredStorage::open_user(std::string user, std::string home,
                               std::function<void(StoreResult<store::UserStorePtr>)> done) {
  inner_.open_user(std::move(user), std::move(home),
                   timed<store::UserStorePtr>(
                       StoreOp::open_user, [this, done = std::move(done)](StoreResult<store::UserStorePtr> r) {
                         if (r) r = std::make_shared<MeteredUserStore>(std::move(*r), *this);
                         done(std::move(r));
                       }));
}

void MeteredStorage::record(StoreOp op, std::chrono::steady_clock::time_point start,
                            const store::Error* error) {
  durations_[static_cast<std::size_t>(op)]->observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (error != nullptr && is_failure(error->kind)) errors_->inc();
}

store::MailboxPtr MeteredStorage::wrap(store::MailboxPtr inner) {
  if (!inner) return inner;
  auto& slot = mailboxes_[inner.get()];
  if (auto existing = slot.lock()) return existing;
  auto wrapper = std::make_shared<MeteredMailbox>(std::move(inner), *this);
  slot = wrapper;
  if (mailboxes_.size() >= sweep_at_) {
    std::erase_if(mailboxes_, [](const auto& e) { return e.second.expired(); });
    sweep_at_ = std::max<std::size_t>(64, mailboxes_.size() * 2);
  }
  return wrapper;
}

}  // namespace mb::metrics
