// Own appends and expunges update the folder without listing it (FolderDisk::commit_new,
// remove + stale records), stay readable by a fresh open and by Dovecot's uidlist rules, and
// fall back to a full sync exactly when that is needed. Also Dovecot's uidlist dotlock.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/uidlist.hpp"
#include "gateway/store/maildir/uidlist_lock.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n";

class IncrementalTest : public StoreFixture {
 protected:
  std::shared_ptr<maildir::MaildirMailbox> open_md(const std::string& name) {
    return std::dynamic_pointer_cast<maildir::MaildirMailbox>(open(name));
  }
  // Drops every reference and lets the mailbox go, so the next open reads the disk afresh.
  void close(std::shared_ptr<maildir::MaildirMailbox>& mb) {
    std::weak_ptr<maildir::MaildirMailbox> weak = mb;
    mb.reset();
    run_until([&] { return weak.expired(); });
    ASSERT_TRUE(weak.expired());
  }
  std::vector<Uid> uids(const Mailbox& mb) {
    std::vector<Uid> out;
    for (const auto& m : mb.messages()) out.push_back(m.uid);
    return out;
  }
  std::vector<Uid> expunge(Mailbox& mb, std::vector<Uid> which, MailboxObserver* origin = nullptr) {
    auto r = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb.expunge(which, origin, cb); });
    EXPECT_TRUE(r.has_value());
    return r ? *r : std::vector<Uid>{};
  }
};

TEST_F(IncrementalTest, AppendsCopiesAndExpungesDoNotListTheFolder) {
  auto mb = open_md("INBOX");
  ASSERT_TRUE(mb);
  auto other = open_md("INBOX");  // the same shared state, as a second session would hold
  Recorder watcher;
  mb->add_observer(&watcher);
  const std::uint64_t listed = mb->disk_listings();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(append(*mb, kMsg, kSeen, {}, 1700000000 + i), Uid(i + 1));
  EXPECT_EQ(expunge(*mb, {2, 5, 42}), (std::vector<Uid>{2, 5}));
  EXPECT_EQ(mb->disk_listings(), listed);  // no sync: nothing listed
  EXPECT_EQ(uids(*mb), (std::vector<Uid>{1, 3, 4}));
  EXPECT_EQ(mb->uidnext(), 6u);
  // Every change reached the observer once, in order, modseqs increasing.
  ASSERT_EQ(watcher.seen.size(), 7u);
  for (std::size_t i = 1; i < watcher.seen.size(); ++i) EXPECT_GT(watcher.seen[i].modseq, watcher.seen[i - 1].modseq);
  EXPECT_EQ(watcher.seen[5].kind, Change::Kind::expunged);
  mb->remove_observer(&watcher);
  // The uidlist holds appended records; the expunged ones wait there until a sync compacts.
  auto parsed = maildir::parse_uidlist(read_file(root() + "/dovecot-uidlist"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->next_uid, 6u);
  // Copy into another folder: also no listing there after its open.
  ASSERT_TRUE((await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create("Archive", cb); })));
  auto archive = open_md("Archive");
  const std::uint64_t archive_listed = archive->disk_listings();
  auto copied = await<StoreResult<CopyResult>>(&loop_, [&](auto cb) { mb->copy({4, 1}, "Archive", nullptr, cb); });
  ASSERT_TRUE(copied);
  EXPECT_EQ(copied->source_uids, (std::vector<Uid>{4, 1}));
  EXPECT_EQ(copied->dest_uids, (std::vector<Uid>{1, 2}));
  EXPECT_EQ(archive->disk_listings(), archive_listed);
  EXPECT_EQ(archive->find(1)->internal_date, 1700000003);
  // A fresh open (new process) sees the same UIDs, dates, sizes and next UID.
  other.reset();
  close(mb);
  close(archive);
  mb = open_md("INBOX");
  EXPECT_EQ(uids(*mb), (std::vector<Uid>{1, 3, 4}));
  EXPECT_EQ(mb->uidnext(), 6u);
  EXPECT_EQ(mb->find(3)->internal_date, 1700000002);
  EXPECT_EQ(mb->find(3)->size, kMsg.size());
  EXPECT_EQ(mb->find(3)->flags, kSeen);
  EXPECT_EQ(append(*mb, kMsg), 6u);  // never reuses the expunged highest UID
  archive = open_md("Archive");
  EXPECT_EQ(uids(*archive), (std::vector<Uid>{1, 2}));
  // A rescan compacts the stale records: the rewritten file lists exactly what exists.
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  parsed = maildir::parse_uidlist(read_file(root() + "/dovecot-uidlist"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entries.size(), 4u);
}

TEST_F(IncrementalTest, DeliveryWaitingInNewGetsTheLowerUid) {
  auto mb = open_md("INBOX");
  append(*mb, kMsg);
  // An MDA delivers; before its event is handled our APPEND arrives: the delivery came
  // first, so commit_new declines (new/ changed) and the full sync orders both.
  write_file(root() + "/tmp/1600000000.M1P1.mda", "Subject: mda\n\nx\n");
  fs::rename(root() + "/tmp/1600000000.M1P1.mda", root() + "/new/1600000000.M1P1.mda");
  Uid ours = append(*mb, kMsg);
  EXPECT_EQ(ours, 3u);
  ASSERT_EQ(mb->messages().size(), 3u);
  EXPECT_EQ(mb->messages()[1].uid, 2u);
  EXPECT_EQ(mb->messages()[1].size, std::string("Subject: mda\r\n\r\nx\r\n").size());
}

TEST_F(IncrementalTest, ForeignUidlistWriteForcesARereadNotADuplicateUid) {
  auto mb = open_md("INBOX");
  append(*mb, kMsg);
  // Another server (Dovecot) saved a message and appended its record meanwhile.
  write_file(root() + "/cur/1600000001.M2P2.other:2,", "Subject: other\n\ny\n");
  {
    std::ofstream out(root() + "/dovecot-uidlist", std::ios::app);
    out << "2 :1600000001.M2P2.other\n";
  }
  EXPECT_EQ(append(*mb, kMsg), 3u);
  EXPECT_EQ(uids(*mb), (std::vector<Uid>{1, 2, 3}));
}

TEST_F(IncrementalTest, TornUidlistRecordIsIgnoredThenRewritten) {
  auto mb = open_md("INBOX");
  append(*mb, kMsg);
  append(*mb, kMsg);
  close(mb);
  {
    // An append cut short by a crash: "3 :..." without its newline.
    std::ofstream out(root() + "/dovecot-uidlist", std::ios::app);
    out << "3 :17000";
  }
  mb = open_md("INBOX");
  EXPECT_EQ(uids(*mb), (std::vector<Uid>{1, 2}));
  EXPECT_EQ(append(*mb, kMsg), 3u);
  std::string text = read_file(root() + "/dovecot-uidlist");
  EXPECT_EQ(text.find("3 :17000\n"), std::string::npos);
  EXPECT_EQ(text.find(":170003 "), std::string::npos);  // nothing glued onto the torn record
  auto parsed = maildir::parse_uidlist(text);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->torn);
  EXPECT_EQ(parsed->entries.size(), 3u);
  EXPECT_EQ(append(*mb, kMsg), 4u);
}

pid_t dead_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

std::string host() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

TEST_F(IncrementalTest, DovecotDotlockIsHeldAroundUpdatesAndStaleOnesAreOverridden) {
  auto mb = open_md("INBOX");
  const std::string lock = root() + "/dovecot-uidlist.lock";
  // A lock left by a process that died (SIGKILL) is overridden at once.
  write_file(lock, std::to_string(dead_pid()) + ":" + host());
  EXPECT_EQ(append(*mb, kMsg), 1u);
  EXPECT_FALSE(fs::exists(lock));  // released after the update
  // A live holder (this process's parent stands in for a running Dovecot) is waited for;
  // with a short timeout the update fails as temporary, and the lock is left alone.
  maildir::DotlockSettings quick;
  quick.wait_timeout_s = 1;
  quick.stale_timeout_s = 60;
  write_file(lock, std::to_string(::getppid()) + ":" + host());
  auto r = maildir::take_dotlock(lock, quick);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::temp);
  EXPECT_TRUE(fs::exists(lock));
  // An old lock of another host whose file has not changed for the stale timeout goes.
  write_file(lock, "4242:some-other-host");
  struct timespec old[2] = {{::time(nullptr) - 300, 0}, {::time(nullptr) - 300, 0}};
  ::utimensat(AT_FDCWD, lock.c_str(), old, 0);
  quick.stale_timeout_s = 0;
  EXPECT_TRUE(maildir::take_dotlock(lock, quick));
  EXPECT_EQ(read_file(lock), std::to_string(::getpid()) + ":" + host());
  fs::remove(lock);
}

}  // namespace
}  // namespace mb::store::test
