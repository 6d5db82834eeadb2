// File: tests/unit/gateway/metrics/store_metrics_test.cpp
//
// MeteredStorage over the REAL Maildir store (make_storage, a real libuv loop, a temp dir):
// every asynchronous operation lands in mailbridge_store_operation_duration_seconds under its
// label, reads are timed once per message (first chunk only), store failures count in
// mailbridge_errors_total{kind="store"} while answers like "no such mailbox" do not, wrappers
// keep the one-object-per-mailbox identity, and open_mailboxes() passes through.
#include "gateway/metrics/store_metrics.hpp"

#include <gtest/gtest.h>
#include <uv.h>

#include <filesystem>
#include <fstream>

#include "exposition_parser.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/registry.hpp"

namespace mb::metrics {
namespace {

namespace fs = std::filesystem;

class StoreMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_level(log::Level::warn);
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    std::string templ = (fs::temp_directory_path() / "mb-storemetrics-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    const fs::path md = root_ / "alice" / "Maildir";
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(md / sub);
    std::ofstream(md / "new" / "1.M1P1.test") << "Subject: one\n\n" << std::string(200000, 'x') << "\n";
    store::StoreSettings ss;
    ss.path_template = (root_ / "%u" / "Maildir").string();
    ss.fsync = false;
    auto storage = store::make_storage(ss, &loop_);
    ASSERT_TRUE(storage) << storage.error();
    inner_ = std::move(*storage);
    metered_ = std::make_unique<MeteredStorage>(*inner_, gm_);
  }
  void TearDown() override {
    mailbox_.reset();
    other_.reset();
    user_.reset();
    metered_.reset();
    inner_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    fs::remove_all(root_);
  }
  // Runs the loop until `done` is set.
  void wait(const bool& done) {
    while (!done) uv_run(&loop_, UV_RUN_ONCE);
  }
  double count(std::string_view op) {
    auto e = test::parse_exposition(reg_.render());
    EXPECT_EQ(e.error, "");
    return e.samples["mailbridge_store_operation_duration_seconds_count{operation=\"" +
                     std::string(op) + "\"}"];
  }
  double store_errors() {
    return test::parse_exposition(reg_.render()).samples["mailbridge_errors_total{kind=\"store\"}"];
  }
  void open_inbox() {
    bool done = false;
    metered_->open_user("alice", "", [&](store::StoreResult<store::UserStorePtr> r) {
      ASSERT_TRUE(r);
      user_ = *r;
      done = true;
    });
    wait(done);
    done = false;
    user_->open("INBOX", [&](store::StoreResult<store::MailboxPtr> r) {
      ASSERT_TRUE(r);
      mailbox_ = *r;
      done = true;
    });
    wait(done);
  }

  uv_loop_t loop_{};
  fs::path root_;
  Registry reg_;
  GatewayMetrics gm_{reg_, "test"};
  std::unique_ptr<store::Storage> inner_;
  std::unique_ptr<MeteredStorage> metered_;
  store::UserStorePtr user_;
  store::MailboxPtr mailbox_, other_;
};

TEST_F(StoreMetricsTest, EveryOperationLabelRendersFromTheStart) {
  auto e = test::parse_exposition(reg_.render());
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.type["mailbridge_store_operation_duration_seconds"], "histogram");
  for (std::size_t i = 0; i < kStoreOpCount; ++i) {
    const std::string op(to_string(static_cast<StoreOp>(i)));
    EXPECT_EQ(e.samples.count("mailbridge_store_operation_duration_seconds_count{operation=\"" + op + "\"}"), 1u) << op;
  }
  EXPECT_EQ(e.samples["mailbridge_errors_total{kind=\"store\"}"], 0);
}

TEST_F(StoreMetricsTest, TimesOperationsAndKeepsMailboxIdentity) {
  open_inbox();
  EXPECT_EQ(count("open_user"), 1);
  EXPECT_EQ(count("open"), 1);
  EXPECT_EQ(metered_->open_mailboxes(), inner_->open_mailboxes());
  EXPECT_GE(metered_->open_mailboxes(), 1u);

  // A second open of the same mailbox gets the same object (store.hpp: one per pair).
  bool done = false;
  user_->open("INBOX", [&](store::StoreResult<store::MailboxPtr> r) {
    ASSERT_TRUE(r);
    other_ = *r;
    done = true;
  });
  wait(done);
  EXPECT_EQ(other_.get(), mailbox_.get());

  done = false;
  mailbox_->rescan([&](store::StoreResult<void> r) {
    EXPECT_TRUE(r);
    done = true;
  });
  wait(done);
  EXPECT_EQ(count("rescan"), 1);
  ASSERT_EQ(mailbox_->messages().size(), 1u);
  const store::Uid uid = mailbox_->messages()[0].uid;

  done = false;
  mailbox_->store_flags({uid}, store::FlagOp::add, store::kSeen, {}, nullptr,
                        [&](store::StoreResult<std::vector<store::Change>> r) {
                          EXPECT_TRUE(r);
                          done = true;
                        });
  wait(done);
  EXPECT_EQ(count("store_flags"), 1);
  EXPECT_NE(mailbox_->find(uid)->flags & store::kSeen, 0);

  // A whole message in 64 KB chunks: one "read" observation, not one per chunk.
  std::uint64_t offset = 0;
  std::size_t total = 0;
  for (bool end = false; !end;) {
    done = false;
    mailbox_->read(uid, offset, 64 * 1024, [&](store::StoreResult<std::string> r) {
      ASSERT_TRUE(r);
      total += r->size();
      offset += r->size();
      end = r->size() < 64 * 1024;
      done = true;
    });
    wait(done);
  }
  EXPECT_EQ(total, mailbox_->find(uid)->size);
  EXPECT_EQ(count("read"), 1);

  done = false;
  user_->status("INBOX", [&](store::StoreResult<store::MailboxStatus> r) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->messages, 1u);
    done = true;
  });
  wait(done);
  EXPECT_EQ(count("status"), 1);

  done = false;
  mailbox_->expunge({uid}, nullptr, [&](store::StoreResult<std::vector<store::Uid>> r) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 1u);
    done = true;
  });
  wait(done);
  EXPECT_EQ(count("expunge"), 1);
  EXPECT_EQ(store_errors(), 0);
}

TEST_F(StoreMetricsTest, AnswersAreNotStoreErrors) {
  open_inbox();
  bool done = false;
  user_->open("No/Such/Folder", [&](store::StoreResult<store::MailboxPtr> r) {
    EXPECT_FALSE(r);
    done = true;
  });
  wait(done);
  done = false;
  mailbox_->read(999, 0, 1024, [&](store::StoreResult<std::string> r) {
    EXPECT_FALSE(r);  // no such message: an answer, not a failure of the store
    done = true;
  });
  wait(done);
  EXPECT_EQ(count("open"), 2);
  EXPECT_EQ(count("read"), 1);
  EXPECT_EQ(store_errors(), 0);
}

TEST_F(StoreMetricsTest, StoreFailuresAreCounted) {
  // A failure the store reports as such (temp/internal): an unreadable Maildir root.
  fs::create_directories(root_ / "bob");
  std::ofstream(root_ / "bob" / "Maildir") << "a file where the Maildir should be\n";
  bool done = false;
  bool failed = false;
  store::ErrorKind kind{};
  metered_->open_user("bob", "", [&](store::StoreResult<store::UserStorePtr> r) {
    if (!r) {
      failed = true;
      kind = r.error().kind;
      done = true;
      return;
    }
    user_ = *r;
    user_->open("INBOX", [&](store::StoreResult<store::MailboxPtr> r2) {
      failed = !r2;
      if (!r2) kind = r2.error().kind;
      done = true;
    });
  });
  wait(done);
  ASSERT_TRUE(failed);
  const bool is_failure = kind == store::ErrorKind::temp || kind == store::ErrorKind::internal ||
                          kind == store::ErrorKind::over_quota;
  EXPECT_EQ(store_errors(), is_failure ? 1 : 0) << "kind " << static_cast<int>(kind);
  EXPECT_TRUE(is_failure) << "expected a store failure, got kind " << static_cast<int>(kind);
}

}  // namespace
}  // namespace mb::metrics
