// Lifecycle and RFC 3501 state rules of the Maildir store: handles closed by the loop's own
// shutdown sweep, UIDVALIDITY uniqueness across DELETE/CREATE (RFC 3501 §2.3.1.1), and
// \Recent for messages appended while no session had the mailbox selected (§2.3.2).
#include <gtest/gtest.h>

#include <set>

#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

using LifecycleTest = StoreFixture;

StoreResult<void> run_void(uv_loop_t* loop, const std::function<void(std::function<void(StoreResult<void>)>)>& f) {
  return await<StoreResult<void>>(loop, f);
}

// What mb::uv::Loop::close() does to handles still open at shutdown.
void close_leftovers(uv_loop_t* loop) {
  uv_run(loop, UV_RUN_NOWAIT);
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        if (uv_is_closing(h) == 0) {
          h->data = nullptr;
          uv_close(h, nullptr);
        }
      },
      nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
}

TEST_F(LifecycleTest, MailboxOutlivingTheLoopSweepDoesNotCloseHandlesTwice) {
  auto mb = open("INBOX");
  ASSERT_TRUE(mb);
  append(*mb, "a\n");  // the debounce timer may exist too
  close_leftovers(&loop_);
  mb.reset();  // the destructor must not uv_close() an already closed handle (abort)
  user_.reset();
  storage_.reset();
  SUCCEED();
}

TEST_F(LifecycleTest, DeleteThenCreateSameNameGivesNewUidvalidity) {
  std::set<std::uint32_t> seen;
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("again", cb); }));
    auto mb = open("again");
    ASSERT_TRUE(mb);
    EXPECT_TRUE(seen.insert(mb->uidvalidity()).second) << "UIDVALIDITY " << mb->uidvalidity() << " reused";
    mb.reset();
    ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->remove("again", cb); }));
  }
  // The counter lives at the user's root, outside every folder.
  EXPECT_TRUE(fs::exists(root() + "/mailbridge-uidvalidity"));
}

TEST_F(LifecycleTest, AppendsToUnselectedMailboxAreRecentForFirstSelect) {
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("rtest", cb); }));
  {
    auto mb = open("rtest");
    append(*mb, "one\n");
    append(*mb, "two\n");
  }  // the appending session lets the mailbox go
  auto st = await<StoreResult<MailboxStatus>>(&loop_, [&](auto cb) { user_->status("rtest", cb); });
  ASSERT_TRUE(st);
  EXPECT_EQ(st->recent, 2u);
  auto mb = open("rtest");
  // EXAMINE looks without claiming (RFC 3501 §6.3.2).
  EXPECT_EQ(mb->first_recent(), 1u);
  EXPECT_EQ(mb->first_recent(), 1u);
  mb.reset();
  mb = open("rtest");
  EXPECT_EQ(mb->claim_recent(), 1u);  // SELECT claims both
  EXPECT_EQ(mb->claim_recent(), mb->uidnext());
  mb.reset();
  // Claimed stays claimed after the mailbox object is gone.
  mb = open("rtest");
  EXPECT_EQ(mb->claim_recent(), mb->uidnext());
  st = await<StoreResult<MailboxStatus>>(&loop_, [&](auto cb) { user_->status("rtest", cb); });
  ASSERT_TRUE(st);
  EXPECT_EQ(st->recent, 0u);
}

}  // namespace
}  // namespace mb::store::test
