// Modification sequences survive a restart exactly after an orderly close, and never go down
// after a kill (the file still says "unclean": every message gets the reserved ceiling).
#include <gtest/gtest.h>

#include <map>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/modseq_file.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "Subject: m\r\n\r\nbody\r\n";

class ModseqPersistTest : public StoreFixture {
 protected:
  // Releases the mailbox and waits for its snapshot to land.
  void close(MailboxPtr& mb) {
    std::weak_ptr<Mailbox> weak = mb;
    mb.reset();
    run_until([&] {
      auto f = maildir::read_modseq_file(root());
      return weak.expired() && f && f->clean;
    });
  }
};

TEST_F(ModseqPersistTest, CleanCloseKeepsEveryModseqAndTheHighest) {
  auto mb = open("INBOX");
  for (int i = 0; i < 4; ++i) append(*mb, kMsg);
  add_flags(*mb, {2}, kSeen);
  add_flags(*mb, {3}, kFlagged);
  auto before = modseqs(*mb);
  ModSeq highest = mb->highest_modseq();
  EXPECT_EQ(before[3], highest);
  EXPECT_LT(before[1], before[2]);
  close(mb);
  mb = open("INBOX");
  EXPECT_EQ(modseqs(*mb), before);
  EXPECT_EQ(mb->highest_modseq(), highest);
  // The next change continues above.
  add_flags(*mb, {1}, kSeen);
  EXPECT_EQ(mb->find(1)->modseq, highest + 1);
}

TEST_F(ModseqPersistTest, ChangesWhileClosedCountAsNewChanges) {
  auto mb = open("INBOX");
  append(*mb, kMsg);
  append(*mb, kMsg);
  ModSeq highest = mb->highest_modseq();
  ModSeq first = mb->find(1)->modseq;
  close(mb);
  // Another program sets \Seen on UID 2 while nobody has the folder open. Its file is found
  // through dovecot-uidlist ("2 :<base>"): the names' microseconds are not zero-padded, so
  // sorting names puts .M120000 before .M95000 of the same second.
  auto names = files_in(root() + "/cur");
  ASSERT_EQ(names.size(), 2u);
  std::string uidlist = read_file(root() + "/dovecot-uidlist");
  auto rec = uidlist.find("\n2 :");
  ASSERT_NE(rec, std::string::npos) << uidlist;
  std::string base = uidlist.substr(rec + 4, uidlist.find('\n', rec + 4) - (rec + 4));
  std::string second = names[0].rfind(base, 0) == 0 ? names[0] : names[1];
  ASSERT_EQ(second.rfind(base, 0), 0u) << base;
  fs::rename(root() + "/cur/" + second, root() + "/cur/" + second + "S");
  mb = open("INBOX");
  EXPECT_EQ(mb->find(2)->flags, kSeen);
  EXPECT_GT(mb->find(2)->modseq, highest);
  EXPECT_EQ(mb->find(1)->modseq, first);
  EXPECT_GT(mb->highest_modseq(), highest);
}

TEST_F(ModseqPersistTest, AfterAKillNothingGoesDown) {
  auto mb = open("INBOX");
  for (int i = 0; i < 3; ++i) append(*mb, kMsg);
  add_flags(*mb, {1, 2}, kSeen);
  auto before = modseqs(*mb);
  ModSeq highest = mb->highest_modseq();
  // While this mailbox is open the file is "unclean"; a copy of the tree taken now is what a
  // process killed at this moment leaves behind.
  auto file = maildir::read_modseq_file(root());
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->clean);
  EXPECT_GE(file->ceiling, highest);
  fs::copy(tmp_ + "/alice", tmp_ + "/bob", fs::copy_options::recursive);
  auto bob = open_user("bob");
  auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { bob->open("INBOX", cb); });
  ASSERT_TRUE(r.has_value());
  for (const auto& [uid, m] : modseqs(**r)) EXPECT_GE(m, before[uid]) << uid;
  EXPECT_GE((*r)->highest_modseq(), highest);
  // Changes after the reopen still go up from there.
  ModSeq reopened = (*r)->highest_modseq();
  add_flags(**r, {3}, kFlagged);
  EXPECT_GT((*r)->find(3)->modseq, reopened);
  r->reset();
}

TEST(ModseqFileTest, RejectsGarbage) {
  std::string dir = make_temp_dir();
  write_file(dir + "/mailbridge-modseq", "MBMODSEQ1 10 clean 12\n");  // highest above ceiling
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  write_file(dir + "/mailbridge-modseq", "MBMODSEQ1 10 clean 9\n2 5 1 0\n1 4 0 0\n");  // not ascending
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  write_file(dir + "/mailbridge-modseq", "MBMODSEQ1 10 clean 9\n1 4 0 0\n2 5 1");  // torn
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  write_file(dir + "/mailbridge-modseq", "MBMODSEQ1 10 clean 9\n1 4 0 0\n2 5 1 3\n");
  auto ok = maildir::read_modseq_file(dir);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->messages.size(), 2u);
  EXPECT_EQ(ok->messages[1].keywords, 3u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mb::store::test
