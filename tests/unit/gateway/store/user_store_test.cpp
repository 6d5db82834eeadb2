// UserStore operations: create, list, rename, delete, subscribe, status, path safety.
#include <gtest/gtest.h>

#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

using UserStoreTest = StoreFixture;

StoreResult<void> run_void(uv_loop_t* loop, const std::function<void(std::function<void(StoreResult<void>)>)>& f) {
  return await<StoreResult<void>>(loop, f);
}

TEST_F(UserStoreTest, CreateMakesMaildirPlusPlusFoldersAndParents) {
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("A/B", cb); }));
  EXPECT_TRUE(fs::is_directory(root() + "/.A/cur"));
  EXPECT_TRUE(fs::is_directory(root() + "/.A.B/cur"));
  EXPECT_TRUE(fs::is_directory(root() + "/.A.B/new"));
  EXPECT_TRUE(fs::is_directory(root() + "/.A.B/tmp"));
  EXPECT_TRUE(fs::exists(root() + "/.A.B/maildirfolder"));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("Café", cb); }));
  EXPECT_TRUE(fs::is_directory(root() + "/.Caf&AOk-/cur"));
  auto again = run_void(&loop_, [&](auto cb) { user_->create("A/B", cb); });
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::exists);
  auto inbox = run_void(&loop_, [&](auto cb) { user_->create("inbox", cb); });
  ASSERT_FALSE(inbox);
  EXPECT_EQ(inbox.error().kind, ErrorKind::exists);
}

TEST_F(UserStoreTest, ListShowsInboxFirstHierarchyAndSubscriptions) {
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("Sent", cb); }));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("X/Y", cb); }));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->subscribe("X/Y", true, cb); }));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->subscribe("Gone", true, cb); }));
  EXPECT_EQ(read_file(root() + "/subscriptions"), "V\t2\n\nX\tY\nGone\n");
  auto list = await<StoreResult<std::vector<MailboxEntry>>>(&loop_, [&](auto cb) { user_->list(cb); });
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 5u);
  EXPECT_EQ((*list)[0].name, "INBOX");
  for (const auto& e : *list) {
    if (e.name == "Gone") {
      EXPECT_TRUE(e.noselect);
      EXPECT_TRUE(e.subscribed);
    }
    if (e.name == "X") {
      EXPECT_FALSE(e.noselect);
      EXPECT_TRUE(e.has_children);
    }
    if (e.name == "X/Y") {
      EXPECT_TRUE(e.subscribed);
    }
    if (e.name == "Sent") {
      EXPECT_EQ(e.special_use, SpecialUse::sent);
    }
  }
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->subscribe("Gone", false, cb); }));
  EXPECT_EQ(read_file(root() + "/subscriptions"), "V\t2\n\nX\tY\n");
}

TEST_F(UserStoreTest, DeleteAndDeleteWithChildren) {
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("P/C", cb); }));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->remove("P", cb); }));
  EXPECT_FALSE(fs::exists(root() + "/.P"));
  EXPECT_TRUE(fs::exists(root() + "/.P.C"));
  auto list = await<StoreResult<std::vector<MailboxEntry>>>(&loop_, [&](auto cb) { user_->list(cb); });
  ASSERT_TRUE(list);
  bool saw_p = false;
  for (const auto& e : *list)
    if (e.name == "P") {
      saw_p = true;
      EXPECT_TRUE(e.noselect);
    }
  EXPECT_TRUE(saw_p);
  auto inbox = run_void(&loop_, [&](auto cb) { user_->remove("INBOX", cb); });
  ASSERT_FALSE(inbox);
  EXPECT_EQ(inbox.error().kind, ErrorKind::no_permission);
  auto missing = run_void(&loop_, [&](auto cb) { user_->remove("Nope", cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

TEST_F(UserStoreTest, RenameMovesChildrenAndInboxRenameEmptiesInbox) {
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->create("Old/Kid", cb); }));
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->rename("Old", "New", cb); }));
  EXPECT_TRUE(fs::exists(root() + "/.New/cur"));
  EXPECT_TRUE(fs::exists(root() + "/.New.Kid/cur"));
  EXPECT_FALSE(fs::exists(root() + "/.Old"));
  EXPECT_FALSE(fs::exists(root() + "/.Old.Kid"));
  {
    auto inbox = open("INBOX");
    append(*inbox, "a\n");
  }
  for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  ASSERT_TRUE(run_void(&loop_, [&](auto cb) { user_->rename("INBOX", "Saved", cb); }));
  auto saved = open("Saved");
  EXPECT_EQ(saved->messages().size(), 1u);
  EXPECT_TRUE(files_in(root() + "/cur").empty());
  auto exists = run_void(&loop_, [&](auto cb) { user_->rename("New", "Saved", cb); });
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().kind, ErrorKind::exists);
}

TEST_F(UserStoreTest, StatusCountsMessages) {
  auto inbox = open("INBOX");
  append(*inbox, "a\n", kSeen);
  append(*inbox, "bb\n");
  auto st = await<StoreResult<MailboxStatus>>(&loop_, [&](auto cb) { user_->status("INBOX", cb); });
  ASSERT_TRUE(st);
  EXPECT_EQ(st->messages, 2u);
  EXPECT_EQ(st->unseen, 1u);
  EXPECT_EQ(st->uidnext, 3u);
  EXPECT_EQ(st->uidvalidity, inbox->uidvalidity());
  EXPECT_EQ(st->size, 3u + 4u);
}

TEST_F(UserStoreTest, UnsafeNamesAreRefusedEverywhere) {
  for (std::string bad : std::vector<std::string>{"..", "../etc", "a/../b", "/abs", "~root", "a/~b", std::string("a\0b", 3), "a\x01",
                          ".hidden", "a/.b", "a.b", "", "a//b", std::string(256, 'x'),
                          std::string(600, 'x') + "/" + std::string(600, 'y'), "\xff\xfe"}) {
    auto c = run_void(&loop_, [&](auto cb) { user_->create(bad, cb); });
    ASSERT_FALSE(c) << bad;
    EXPECT_EQ(c.error().kind, ErrorKind::bad_name) << bad;
    EXPECT_FALSE(c.error().public_text.empty());
    auto o = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { user_->open(bad, cb); });
    ASSERT_FALSE(o);
    EXPECT_EQ(o.error().kind, ErrorKind::bad_name);
    auto r = run_void(&loop_, [&](auto cb) { user_->rename("INBOX", bad, cb); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::bad_name);
  }
  // Nothing was created outside the root.
  for (const auto& n : files_in(tmp_)) EXPECT_EQ(n, "alice");
  EXPECT_FALSE(fs::exists(tmp_ + "/etc"));
}

TEST_F(UserStoreTest, BadUserNames) {
  for (std::string bad : std::vector<std::string>{"", "../bob", "a/b", ".x", "~x", std::string("a\nb")}) {
    auto r = await<StoreResult<UserStorePtr>>(&loop_, [&](auto cb) { storage_->open_user(bad, "", cb); });
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_name);
  }
}

}  // namespace
}  // namespace mb::store::test
