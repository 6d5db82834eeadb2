// File: tests/unit/protocols/pop3/test_support.hpp
//
// In-process seams for driving a POP3 session without a loop:
//   Deferred        a queue of completions; every asynchronous callback below goes through it,
//                   so nothing completes inside the call that started it (store.hpp, auth).
//   RecordingSink   the connection side (SessionSink): records output and calls, models the
//                   kernel's send queue so back-pressure can be exercised.
//   TestAuth        a tiny Authenticator with a fixed user table ({PLAIN}-like), used until and
//                   beside gateway/auth's PasswdAuthenticator.
//   MemoryStorage   a minimal in-memory Storage/Mailbox with failure injection, for protocol
//                   logic tests (sequence, errors); the real Maildir store is exercised in
//                   maildir_session_test.cpp.
#pragma once

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/auth/authenticator.hpp"
#include "gateway/store/store.hpp"
#include "protocols/common/session.hpp"
#include "tests/unit/protocols/common/recording_sink.hpp"

namespace mb::pop3::test {

class Deferred {
 public:
  void post(std::function<void()> f) { queue_.push_back(std::move(f)); }
  bool run_one() {
    if (queue_.empty()) return false;
    auto f = std::move(queue_.front());
    queue_.pop_front();
    f();
    return true;
  }
  std::size_t pending() const { return queue_.size(); }

 private:
  std::deque<std::function<void()>> queue_;
};

// The shared recording sink (tests/unit/protocols/common/recording_sink.hpp), modelling the
// kernel's send queue: the harness drains it and calls on_writable() like the transport.
struct RecordingSink : proto::test::RecordingSink {
  RecordingSink() { model_queue = true; }
};

class TestAuth final : public auth::Authenticator {
 public:
  explicit TestAuth(Deferred& q) : q_(q) {}
  void verify(std::string user, std::string password, std::string, auth::AuthCallback done) override {
    ++calls;
    auth::AuthOutcome o;
    if (temp_failure) {
      o.status = auth::AuthStatus::temp_failure;
    } else {
      auto it = users.find(user);
      if (it != users.end() && it->second == password) {
        o.status = auth::AuthStatus::ok;
        o.user = user;
      }
    }
    q_.post([done = std::move(done), o] { done(o); });
  }
  void verify_apop(std::string user, std::string timestamp, std::string digest, std::string,
                   auth::AuthCallback done) override {
    ++calls;
    last_apop_timestamp = timestamp;
    auth::AuthOutcome o;
    // The real digest is checked by gateway/auth; here a digest of all '0' stands for "right".
    if (users.count(user) != 0 && digest == std::string(32, '0')) {
      o.status = auth::AuthStatus::ok;
      o.user = user;
    }
    q_.post([done = std::move(done), o] { done(o); });
  }
  bool apop_available() const override { return apop; }

  std::map<std::string, std::string> users{{"alice", "secret"}, {"bob", "pw with spaces"}};
  bool temp_failure = false;
  bool apop = false;
  int calls = 0;
  std::string last_apop_timestamp;

 private:
  Deferred& q_;
};

class MemoryMailbox final : public store::Mailbox {
 public:
  explicit MemoryMailbox(Deferred& q) : q_(q) {}

  store::Uid add(std::string wire, store::FlagSet flags = 0, store::KeywordMask kw = 0,
                 std::int64_t internal_date = 0) {
    store::MessageInfo m;
    m.uid = uidnext_++;
    m.flags = flags;
    m.keywords = kw;
    m.internal_date = internal_date;
    m.size = wire.size();
    infos_.push_back(m);
    bodies_[m.uid] = std::move(wire);
    return m.uid;
  }
  void remove_now(store::Uid uid) {
    infos_.erase(std::remove_if(infos_.begin(), infos_.end(), [&](auto& m) { return m.uid == uid; }),
                 infos_.end());
    bodies_.erase(uid);
  }

  const std::string& name() const override { return name_; }
  std::uint32_t uidvalidity() const override { return uidvalidity_value; }
  store::Uid uidnext() const override { return uidnext_; }
  store::ModSeq highest_modseq() const override { return 1; }
  std::span<const store::MessageInfo> messages() const override { return infos_; }
  const store::MessageInfo* find(store::Uid uid) const override {
    for (const auto& m : infos_) {
      if (m.uid == uid) return &m;
    }
    return nullptr;
  }
  const std::vector<std::string>& keywords() const override { return keywords_; }
  void add_observer(store::MailboxObserver* o) override { observers.push_back(o); }
  void remove_observer(store::MailboxObserver* o) override {
    observers.erase(std::remove(observers.begin(), observers.end(), o), observers.end());
  }
  store::Uid claim_recent() override { return uidnext_; }
  void rescan(std::function<void(store::StoreResult<void>)> done) override {
    ++rescans;
    q_.post([done = std::move(done)] { done({}); });
  }
  void append(store::AppendRequest, store::MailboxObserver*,
              std::function<void(store::StoreResult<store::Uid>)> done) override {
    q_.post([done = std::move(done)] { done(mb::unexpected(store::Error{})); });
  }
  void store_flags(std::vector<store::Uid> uids, store::FlagOp, store::FlagSet flags,
                   std::vector<std::string> kws, store::MailboxObserver*,
                   std::function<void(store::StoreResult<std::vector<store::Change>>)> done) override {
    ++flag_calls;
    flag_batches.push_back(uids);
    if (fail_mutations) {
      q_.post([done = std::move(done)] {
        done(mb::unexpected(store::Error{store::ErrorKind::temp, "disk", "EIO"}));
      });
      return;
    }
    store::KeywordMask mask = 0;
    for (const auto& k : kws) {
      auto it = std::find(keywords_.begin(), keywords_.end(), k);
      if (it == keywords_.end()) {
        keywords_.push_back(k);
        it = keywords_.end() - 1;
      }
      mask |= store::KeywordMask{1} << (it - keywords_.begin());
    }
    std::vector<store::Change> changes;
    for (auto uid : uids) {
      for (auto& m : infos_) {
        if (m.uid == uid) {
          m.flags |= flags;
          m.keywords |= mask;
          changes.push_back({store::Change::Kind::flags, uid, 2});
        }
      }
    }
    auto complete = [done = std::move(done), changes] { done(changes); };
    if (hold_flag_completions) held_.push_back(std::move(complete));
    else q_.post(std::move(complete));
  }
  // Lets the store_flags completions held so far run (the flags themselves are already set).
  void release_held() {
    for (auto& f : held_) q_.post(std::move(f));
    held_.clear();
  }
  void expunge(std::vector<store::Uid> uids, store::MailboxObserver*,
               std::function<void(store::StoreResult<std::vector<store::Uid>>)> done) override {
    ++expunge_calls;
    if (fail_mutations) {
      q_.post([done = std::move(done)] {
        done(mb::unexpected(store::Error{store::ErrorKind::temp, "disk", "EIO"}));
      });
      return;
    }
    std::vector<store::Uid> removed;
    for (auto uid : uids) {
      if (find(uid) != nullptr) {
        remove_now(uid);
        removed.push_back(uid);
      }
    }
    q_.post([done = std::move(done), removed] { done(removed); });
  }
  void copy(std::vector<store::Uid>, std::string, store::MailboxObserver*,
            std::function<void(store::StoreResult<store::CopyResult>)> done) override {
    q_.post([done = std::move(done)] { done(mb::unexpected(store::Error{})); });
  }
  void move(std::vector<store::Uid>, std::string, store::MailboxObserver*,
            std::function<void(store::StoreResult<store::CopyResult>)> done) override {
    q_.post([done = std::move(done)] { done(mb::unexpected(store::Error{})); });
  }
  void read(store::Uid uid, std::uint64_t offset, std::size_t max_len,
            std::function<void(store::StoreResult<std::string>)> done) override {
    ++reads;
    auto it = bodies_.find(uid);
    if (it == bodies_.end()) {
      q_.post([done = std::move(done)] {
        done(mb::unexpected(store::Error{store::ErrorKind::expunged, "gone", ""}));
      });
      return;
    }
    std::string part = offset >= it->second.size() ? std::string() : it->second.substr(offset, max_len);
    q_.post([done = std::move(done), part = std::move(part)] { done(part); });
  }
  std::optional<std::string_view> cache_get(store::Uid, store::CacheField) const override {
    return std::nullopt;
  }
  void cache_put(store::Uid, store::CacheField, std::string) override {}
  void load_cache(std::function<void()> done) override { q_.post(std::move(done)); }

  std::uint32_t uidvalidity_value = 0x5F00AA01;
  bool fail_mutations = false;
  int flag_calls = 0;
  std::vector<std::vector<store::Uid>> flag_batches;  // the UIDs of each store_flags call
  bool hold_flag_completions = false;                 // until release_held()
  int expunge_calls = 0;
  int reads = 0;
  int rescans = 0;
  std::vector<store::MailboxObserver*> observers;

 private:
  Deferred& q_;
  std::string name_ = "INBOX";
  store::Uid uidnext_ = 1;
  std::vector<store::MessageInfo> infos_;
  std::map<store::Uid, std::string> bodies_;
  std::vector<std::string> keywords_;
  std::vector<std::function<void()>> held_;
};

class MemoryUserStore final : public store::UserStore {
 public:
  MemoryUserStore(Deferred& q, std::string user, std::shared_ptr<MemoryMailbox> mb)
      : q_(q), user_(std::move(user)), mailbox_(std::move(mb)) {}
  const std::string& user() const override { return user_; }
  void list(std::function<void(store::StoreResult<std::vector<store::MailboxEntry>>)> done) override {
    q_.post([done = std::move(done)] { done(std::vector<store::MailboxEntry>{}); });
  }
  void create(std::string, std::function<void(store::StoreResult<void>)> done) override {
    q_.post([done = std::move(done)] { done({}); });
  }
  void remove(std::string, std::function<void(store::StoreResult<void>)> done) override {
    q_.post([done = std::move(done)] { done({}); });
  }
  void rename(std::string, std::string, std::function<void(store::StoreResult<void>)> done) override {
    q_.post([done = std::move(done)] { done({}); });
  }
  void subscribe(std::string, bool, std::function<void(store::StoreResult<void>)> done) override {
    q_.post([done = std::move(done)] { done({}); });
  }
  void status(std::string, std::function<void(store::StoreResult<store::MailboxStatus>)> done) override {
    q_.post([done = std::move(done)] { done(store::MailboxStatus{}); });
  }
  void open(std::string name, std::function<void(store::StoreResult<store::MailboxPtr>)> done) override {
    auto mb = mailbox_;
    q_.post([done = std::move(done), mb, name] {
      if (name != "INBOX") return done(mb::unexpected(store::Error{store::ErrorKind::not_found, "", ""}));
      done(store::MailboxPtr(mb));
    });
  }

 private:
  Deferred& q_;
  std::string user_;
  std::shared_ptr<MemoryMailbox> mailbox_;
};

class MemoryStorage final : public store::Storage {
 public:
  explicit MemoryStorage(Deferred& q) : q_(q) {}
  std::shared_ptr<MemoryMailbox>& inbox(const std::string& user) {
    auto& mb = inboxes_[user];
    if (!mb) mb = std::make_shared<MemoryMailbox>(q_);
    return mb;
  }
  void open_user(std::string user, std::string,
                 std::function<void(store::StoreResult<store::UserStorePtr>)> done) override {
    if (fail_open) {
      q_.post([done = std::move(done)] {
        done(mb::unexpected(store::Error{store::ErrorKind::temp, "x", "y"}));
      });
      return;
    }
    auto us = std::make_shared<MemoryUserStore>(q_, user, inbox(user));
    q_.post([done = std::move(done), us] { done(store::UserStorePtr(us)); });
  }
  bool fail_open = false;

 private:
  Deferred& q_;
  std::map<std::string, std::shared_ptr<MemoryMailbox>> inboxes_;
};

}  // namespace mb::pop3::test
