// File: tests/unit/gateway/store/store_test_support.hpp
//
// Shared helpers for the store tests: a temp directory, a real libuv loop driven until a
// callback fires, file helpers for looking at the Maildir behind the store's back.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <uv.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <map>
#include <string>
#include <vector>

#include "gateway/store/registry.hpp"
#include "gateway/store/store.hpp"

namespace mb::store::test {

namespace fs = std::filesystem;

inline std::string make_temp_dir() {
  std::string templ = (fs::temp_directory_path() / "mb-store-XXXXXX").string();
  char* p = ::mkdtemp(templ.data());
  EXPECT_NE(p, nullptr);
  return templ;
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

inline std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto n = e.path().filename().string();
    if (n[0] != '.') out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs the loop until `start`'s callback has fired and returns its argument.
template <class T>
T await(uv_loop_t* loop, const std::function<void(std::function<void(T)>)>& start) {
  std::optional<T> out;
  start([&](T v) { out.emplace(std::move(v)); });
  while (!out) uv_run(loop, UV_RUN_ONCE);
  return std::move(*out);
}

class Recorder : public MailboxObserver {
 public:
  void on_mailbox_changed(std::span<const Change> changes) override {
    seen.insert(seen.end(), changes.begin(), changes.end());
  }
  std::vector<Change> seen;
};

// A loop, a Maildir storage over a temp root ("<tmp>/%u/Maildir") and user "alice".
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    tmp_ = make_temp_dir();
    StoreSettings s;
    s.path_template = tmp_ + "/%u/Maildir";
    s.fsync = false;
    // Most tests reopen to prove what is on disk: a released mailbox goes at once here
    // (lingering is tested with its own Storage in maildir_mailbox_test.cpp).
    s.mailbox_linger_ms = 0;
    s.special_use_names[SpecialUse::sent] = {"Sent"};
    auto st = make_storage(s, &loop_);
    ASSERT_TRUE(st.has_value());
    storage_ = std::move(*st);
    user_ = open_user("alice");
  }
  void TearDown() override {
    user_.reset();
    storage_.reset();
    // Every mailbox is gone: its handles close and in-flight operations finish.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    std::error_code ec;
    if (!::getenv("MB_KEEP_TMP")) fs::remove_all(tmp_, ec);
  }
  UserStorePtr open_user(const std::string& name) {
    auto r = await<StoreResult<UserStorePtr>>(
        &loop_, [&](auto cb) { storage_->open_user(name, "", cb); });
    EXPECT_TRUE(r.has_value());
    return r ? *r : nullptr;
  }
  std::string root() const { return tmp_ + "/alice/Maildir"; }
  MailboxPtr open(const std::string& name) {
    auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { user_->open(name, cb); });
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().internal_text);
    return r ? *r : nullptr;
  }
  Uid append(Mailbox& mb, const std::string& msg, FlagSet flags = 0, std::vector<std::string> kw = {},
             std::optional<std::int64_t> date = std::nullopt, MailboxObserver* origin = nullptr) {
    AppendRequest req;
    req.message = msg;
    req.flags = flags;
    req.keywords = std::move(kw);
    req.internal_date = date;
    auto r = await<StoreResult<Uid>>(&loop_, [&](auto cb) { mb.append(std::move(req), origin, cb); });
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().internal_text);
    return r ? *r : 0;
  }
  std::string read_all(Mailbox& mb, Uid uid, std::size_t chunk = 1 << 20) {
    std::string out;
    while (true) {
      auto r = await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb.read(uid, out.size(), chunk, cb); });
      EXPECT_TRUE(r.has_value());
      if (!r || r->empty()) break;
      out += *r;
    }
    return out;
  }
  // Every message's modseq by UID.
  std::map<Uid, ModSeq> modseqs(const Mailbox& mb) {
    std::map<Uid, ModSeq> out;
    for (const auto& m : mb.messages()) out[m.uid] = m.modseq;
    return out;
  }
  // +FLAGS on the given UIDs (no unchanged-since, no origin session).
  void add_flags(Mailbox& mb, std::vector<Uid> uids, FlagSet flags) {
    auto r = await<StoreResult<std::vector<Change>>>(
        &loop_, [&](auto cb) { mb.store_flags(uids, FlagOp::add, flags, {}, nullptr, cb); });
    ASSERT_TRUE(r.has_value());
  }
  void run_until(const std::function<bool()>& cond) {
    uv_timer_t guard;
    uv_timer_init(&loop_, &guard);
    bool expired = false;
    guard.data = &expired;
    uv_timer_start(&guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 10000, 0);
    while (!cond() && !expired) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  uv_loop_t loop_{};
  std::string tmp_;
  std::unique_ptr<Storage> storage_;
  UserStorePtr user_;
};

}  // namespace mb::store::test
