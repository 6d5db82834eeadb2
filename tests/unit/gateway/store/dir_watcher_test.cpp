// DirWatcher: directory-entry events of cur/ and new/ through one inotify instance per loop.
#include "gateway/store/maildir/dir_watcher.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

class DirWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uv_loop_init(&loop_);
    dir_ = make_temp_dir();
  }
  void TearDown() override {
    watcher_.close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    fs::remove_all(dir_);
  }
  // Runs the loop until `cond` or 5 s (the poll handle is unref'd: drive it with a timer).
  void run_until(const std::function<bool()>& cond) {
    uv_timer_t guard;
    uv_timer_init(&loop_, &guard);
    bool expired = false;
    guard.data = &expired;
    uv_timer_start(&guard, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 5000, 0);
    while (!cond() && !expired) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&guard), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  uv_loop_t loop_{};
  std::string dir_;
  maildir::DirWatcher watcher_{&loop_};
};

TEST_F(DirWatcherTest, EntryEventsReachEverySubscriberUntilRemoved) {
  std::vector<std::string> a, b;
  int ta = watcher_.add(dir_, [&](std::string_view n) { a.emplace_back(n); });
  int tb = watcher_.add(dir_, [&](std::string_view n) { b.emplace_back(n); });
  ASSERT_GT(ta, 0);
  ASSERT_GT(tb, 0);
  EXPECT_EQ(watcher_.watch_count(), 1u);  // one inotify watch for the directory
  write_file(dir_ + "/one", "x");
  fs::rename(dir_ + "/one", dir_ + "/two:2,S");
  fs::remove(dir_ + "/two:2,S");
  run_until([&] { return a.size() >= 4 && b.size() >= 4; });
  // create, moved from, moved to, delete; writes and attribute changes are not asked for.
  EXPECT_EQ(a, (std::vector<std::string>{"one", "one", "two:2,S", "two:2,S"}));
  EXPECT_EQ(b, a);
  watcher_.remove(ta);
  write_file(dir_ + "/three", "x");
  run_until([&] { return b.size() >= 5; });
  EXPECT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b.back(), "three");
  watcher_.remove(tb);
  EXPECT_EQ(watcher_.watch_count(), 0u);
}

TEST_F(DirWatcherTest, SubscriberMayRemoveItselfAndOthersInsideItsCallback) {
  int ta = 0, tb = 0;
  int calls_a = 0, calls_b = 0;
  ta = watcher_.add(dir_, [&](std::string_view) {
    ++calls_a;
    watcher_.remove(ta);
    watcher_.remove(tb);
  });
  tb = watcher_.add(dir_, [&](std::string_view) { ++calls_b; });
  write_file(dir_ + "/one", "x");
  run_until([&] { return calls_a > 0; });
  write_file(dir_ + "/two", "x");
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(calls_a, 1);
  EXPECT_EQ(calls_b, 0);
  EXPECT_EQ(watcher_.watch_count(), 0u);
}

TEST_F(DirWatcherTest, DirectoryGoneGivesAnEmptyNameAndMissingDirectoryAnError) {
  std::string sub = dir_ + "/cur";
  fs::create_directories(sub);
  std::vector<std::string> seen;
  ASSERT_GT(watcher_.add(sub, [&](std::string_view n) { seen.emplace_back(n); }), 0);
  fs::remove(sub);
  run_until([&] { return !seen.empty() && seen.back().empty(); });
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), "");  // rescan: the caller cannot tell what changed
  EXPECT_LT(watcher_.add(dir_ + "/missing", [](std::string_view) {}), 0);
  watcher_.close();
  EXPECT_LT(watcher_.add(dir_, [](std::string_view) {}), 0);
}

}  // namespace
}  // namespace mb::store::test
