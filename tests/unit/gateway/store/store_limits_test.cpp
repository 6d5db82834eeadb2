// Keyword table limit, info letters we do not manage, and a mailbox deleted or renamed under
// the sessions that have it open.
#include <gtest/gtest.h>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "Subject: m\r\n\r\nbody\r\n";

using StoreLimitsTest = StoreFixture;

StoreResult<std::vector<Change>> store(uv_loop_t* loop, Mailbox& mb, std::vector<Uid> uids, FlagOp op,
                                       FlagSet flags, std::vector<std::string> kw) {
  return await<StoreResult<std::vector<Change>>>(
      loop, [&](auto cb) { mb.store_flags(uids, op, flags, kw, nullptr, cb); });
}

TEST_F(StoreLimitsTest, TwentySeventhKeywordIsRefusedNotDropped) {
  auto mb = open("INBOX");
  Uid uid = append(*mb, kMsg);
  std::vector<std::string> kw;
  for (int i = 0; i < 26; ++i) kw.push_back("$k" + std::to_string(i));
  ASSERT_TRUE(store(&loop_, *mb, {uid}, FlagOp::add, 0, kw));
  EXPECT_EQ(mb->keywords().size(), 26u);
  EXPECT_EQ(mb->find(uid)->keywords, (1u << 26) - 1);
  // A 27th: refused with a clear error; nothing changed, nothing half-added.
  auto r = store(&loop_, *mb, {uid}, FlagOp::add, kSeen, {"$k3", "$extra"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::limit);
  EXPECT_NE(r.error().public_text.find("keywords"), std::string::npos);
  EXPECT_EQ(mb->find(uid)->flags, 0);
  EXPECT_EQ(mb->keywords().size(), 26u);
  // APPEND with it too.
  AppendRequest req;
  req.message = kMsg;
  req.keywords = {"$another"};
  auto a = await<StoreResult<Uid>>(&loop_, [&](auto cb) { mb->append(std::move(req), nullptr, cb); });
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::limit);
  // Known keywords (any case) still work.
  EXPECT_TRUE(store(&loop_, *mb, {uid}, FlagOp::remove, 0, {"$K3"}));
  EXPECT_EQ(mb->find(uid)->keywords & (1u << 3), 0u);
}

TEST_F(StoreLimitsTest, PassedAndForeignInfoLettersSurviveFlagChanges) {
  auto mb = open("INBOX");
  // A message another server marked passed (P) and with a letter of its own (X).
  write_file(root() + "/cur/1600000000.M1P1.other:2,PSX", "Subject: p\n\nx\n");
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  ASSERT_EQ(mb->messages().size(), 1u);
  Uid uid = mb->messages()[0].uid;
  EXPECT_EQ(mb->find(uid)->flags, kSeen);
  ASSERT_TRUE(store(&loop_, *mb, {uid}, FlagOp::add, kFlagged, {"$label"}));
  auto names = files_in(root() + "/cur");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "1600000000.M1P1.other:2,FPSXa");  // ASCII order, P and X kept
  ASSERT_TRUE(store(&loop_, *mb, {uid}, FlagOp::replace, 0, {}));
  EXPECT_EQ(files_in(root() + "/cur")[0], "1600000000.M1P1.other:2,PX");
  EXPECT_EQ(read_all(*mb, uid), "Subject: p\r\n\r\nx\r\n");
}

TEST_F(StoreLimitsTest, DeletedOrRenamedMailboxStopsItsOpenSessions) {
  for (const char* name : {"Old", "Gone", "Gone/Child"})
    ASSERT_TRUE((await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create(name, cb); })));
  auto old = open("Old");
  auto gone = open("Gone");
  auto child = open("Gone/Child");
  append(*old, kMsg);
  append(*gone, kMsg);
  ASSERT_TRUE((await<StoreResult<void>>(&loop_, [&](auto cb) { user_->rename("Old", "New", cb); })));
  ASSERT_TRUE((await<StoreResult<void>>(&loop_, [&](auto cb) { user_->remove("Gone", cb); })));
  // Operations on the stale states fail cleanly and write nothing where the folders were.
  for (Mailbox* mb : {old.get(), gone.get()}) {
    AppendRequest req;
    req.message = kMsg;
    auto a = await<StoreResult<Uid>>(&loop_, [&](auto cb) { mb->append(std::move(req), nullptr, cb); });
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().kind, ErrorKind::not_found);
    auto f = store(&loop_, *mb, {1}, FlagOp::add, kSeen, {});
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().kind, ErrorKind::not_found);
    auto e = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({1}, nullptr, cb); });
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().kind, ErrorKind::not_found);
  }
  EXPECT_FALSE(fs::exists(root() + "/.Old"));
  EXPECT_FALSE(fs::exists(root() + "/.Gone/cur"));
  // A child of a deleted mailbox lives on (RFC 3501 §6.3.4); the renamed one is whole.
  EXPECT_EQ(append(*child, kMsg), 1u);
  auto renamed = open("New");
  ASSERT_TRUE(renamed);
  EXPECT_NE(renamed.get(), old.get());
  EXPECT_EQ(renamed->messages().size(), 1u);
  EXPECT_EQ(append(*renamed, kMsg), 2u);
  // A new mailbox of the deleted name is a fresh state.
  ASSERT_TRUE((await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create("Gone", cb); })));
  auto again = open("Gone");
  ASSERT_TRUE(again);
  EXPECT_NE(again.get(), gone.get());
  EXPECT_TRUE(again->messages().empty());
  EXPECT_NE(again->uidvalidity(), gone->uidvalidity());
}

}  // namespace
}  // namespace mb::store::test
