// File: tests/unit/gateway/store/mailbox_cache_test.cpp
//
// MaildirMailbox's per-message cache is read on demand (Mailbox::load_cache), not at open
// (issue #5: idle sessions kept ~1 KB/message of parsed structures). What is tested: nothing
// is visible before load_cache and everything after; `done` never runs inside the call;
// concurrent loads share one read; puts made before the load win over the file and survive
// a save; a save before any load keeps the file's other entries; entries of expunged
// messages are dropped; releasing the mailbox while its load is in flight is safe; saves
// append only new records and compact once half the file is dead; a torn tail is rewritten.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";

class MailboxCacheTest : public StoreFixture {
 protected:
  // Three messages with cache entries "s1".."s3" on disk; the mailbox is then released.
  void SetUp() override {
    StoreFixture::SetUp();
    auto mb = open("INBOX");
    for (int i = 1; i <= 3; ++i) {
      Uid uid = append(*mb, kMsg);
      mb->cache_put(uid, CacheField::mime_structure, "s" + std::to_string(uid));
    }
    settle(*mb);
    ASSERT_TRUE(fs::exists(cache_file()));
  }
  std::string cache_file() const { return root() + "/mailbridge-cache"; }
  static bool loaded(const MailboxPtr& mb) {
    return dynamic_cast<maildir::MaildirMailbox&>(*mb).cache_loaded();
  }
  // Every operation queued so far (cache loads and writes go through the queue) has run.
  void settle(Mailbox& mb) {
    for (int i = 0; i < 2; ++i) await<StoreResult<void>>(&loop_, [&](auto cb) { mb.rescan(cb); });
  }
  void load(Mailbox& mb) {
    bool done = false;
    mb.load_cache([&] { done = true; });
    EXPECT_FALSE(done) << "load_cache must not call back before it returns";
    run_until([&] { return done; });
    EXPECT_TRUE(done);
  }
  static std::string get(Mailbox& mb, Uid uid) {
    auto v = mb.cache_get(uid, CacheField::mime_structure);
    return v ? std::string(*v) : std::string("<none>");
  }
};

TEST_F(MailboxCacheTest, NothingBeforeLoadEverythingAfter) {
  auto mb = open("INBOX");
  EXPECT_FALSE(loaded(mb));
  EXPECT_EQ(get(*mb, 1), "<none>");
  load(*mb);
  EXPECT_TRUE(loaded(mb));
  EXPECT_EQ(get(*mb, 1), "s1");
  EXPECT_EQ(get(*mb, 2), "s2");
  EXPECT_EQ(get(*mb, 3), "s3");
  load(*mb);  // already loaded: still called back later, not inside the call
}

TEST_F(MailboxCacheTest, ConcurrentCallersShareOneLoad) {
  auto mb = open("INBOX");
  int calls = 0;
  mb->load_cache([&] { ++calls; });
  mb->load_cache([&] { ++calls; });
  EXPECT_EQ(calls, 0);
  run_until([&] { return calls == 2; });
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(get(*mb, 2), "s2");
}

TEST_F(MailboxCacheTest, PutBeforeLoadSurvivesLoadAndSave) {
  {
    auto mb = open("INBOX");
    mb->cache_put(2, CacheField::mime_structure, "new2");
    EXPECT_EQ(get(*mb, 2), "new2");
    EXPECT_EQ(get(*mb, 1), "<none>");
    load(*mb);
    EXPECT_EQ(get(*mb, 1), "s1");
    EXPECT_EQ(get(*mb, 2), "new2");  // the file's older entry does not override it
    EXPECT_EQ(get(*mb, 3), "s3");
    settle(*mb);
  }
  auto mb = open("INBOX");
  load(*mb);
  EXPECT_EQ(get(*mb, 1), "s1");
  EXPECT_EQ(get(*mb, 2), "new2");
  EXPECT_EQ(get(*mb, 3), "s3");
}

TEST_F(MailboxCacheTest, SaveBeforeAnyLoadKeepsTheFilesOtherEntries) {
  {
    auto mb = open("INBOX");
    // No load_cache: the put's save must read the file first rather than write {3} alone.
    mb->cache_put(3, CacheField::mime_structure, "new3");
    run_until([&] { return loaded(mb); });
    ASSERT_TRUE(loaded(mb));
    settle(*mb);
  }
  std::string text = read_file(cache_file());
  EXPECT_NE(text.find("1 2\ns1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2 2\ns2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("3 4\nnew3\n"), std::string::npos) << text;
}

TEST_F(MailboxCacheTest, ExpungedEntriesAreDropped) {
  auto mb = open("INBOX");
  auto r = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({2}, nullptr, cb); });
  ASSERT_TRUE(r);
  load(*mb);
  EXPECT_EQ(get(*mb, 1), "s1");
  EXPECT_EQ(get(*mb, 2), "<none>");
  EXPECT_EQ(get(*mb, 3), "s3");
}

TEST_F(MailboxCacheTest, ReleasedWhileLoadingIsSafe) {
  bool done = false;
  {
    auto mb = open("INBOX");
    mb->load_cache([&] { done = true; });
  }  // the last reference goes while the read is on the pool
  run_until([&] { return done; });
  EXPECT_TRUE(done);
  // Sanitizers check the rest: nothing touched a destroyed mailbox.
  auto mb = open("INBOX");
  EXPECT_FALSE(loaded(mb));
  load(*mb);
  EXPECT_EQ(get(*mb, 3), "s3");
}

// A save appends only the entries put since the last one; a later record of a UID replaces
// an earlier one at load; once dead records would pass half the file it is rewritten whole.
TEST_F(MailboxCacheTest, SavesAppendNewRecordsAndCompactWhenHalfIsDead) {
  const std::string before = read_file(cache_file());
  {
    auto mb = open("INBOX");
    load(*mb);
    mb->cache_put(1, CacheField::mime_structure, "v1");
    settle(*mb);
    // 3 live + 1 dead: appended.
    EXPECT_EQ(read_file(cache_file()), before + "1 2\nv1\n");
    mb->cache_put(1, CacheField::mime_structure, "v2");
    settle(*mb);
    // 3 live of 5 records: still appended.
    EXPECT_EQ(read_file(cache_file()), before + "1 2\nv1\n1 2\nv2\n");
    mb->cache_put(1, CacheField::mime_structure, "v3");
    settle(*mb);
    // 3 dead of 6: half, not past it: appended.
    EXPECT_EQ(read_file(cache_file()), before + "1 2\nv1\n1 2\nv2\n1 2\nv3\n");
    mb->cache_put(1, CacheField::mime_structure, "v4");
    settle(*mb);
    // 4 dead of 7 would be past half: rewritten whole.
    EXPECT_EQ(read_file(cache_file()), "1 2\nv4\n2 2\ns2\n3 2\ns3\n");
    mb->cache_put(2, CacheField::mime_structure, "w2");
    settle(*mb);
  }
  auto mb = open("INBOX");
  load(*mb);
  EXPECT_EQ(get(*mb, 1), "v4");
  EXPECT_EQ(get(*mb, 2), "w2");  // the appended record wins over the earlier one
  EXPECT_EQ(get(*mb, 3), "s3");
}

// A torn last record (a crash during an append) loses only that record, and the next save
// rewrites the file rather than appending after the damage.
TEST_F(MailboxCacheTest, DamagedTailIsRewrittenNotAppendedTo) {
  {
    std::ofstream out(cache_file(), std::ios::binary | std::ios::app);
    out << "2 9\nto";
  }
  {
    auto mb = open("INBOX");
    load(*mb);
    EXPECT_EQ(get(*mb, 2), "s2");
    mb->cache_put(3, CacheField::mime_structure, "t3");
    settle(*mb);
  }
  EXPECT_EQ(read_file(cache_file()), "1 2\ns1\n2 2\ns2\n3 2\nt3\n");
}

}  // namespace
}  // namespace mb::store::test
