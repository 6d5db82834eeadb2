// Warm-open snapshots: files written by earlier versions (mailbridge-index MBIDX001, the
// text MBMODSEQ1 clean snapshot) still open to the same state and are replaced by the
// current formats; a clean open writes nothing, and modseqs never go down after a kill
// whether the kill came before or after the first change.
#include <gtest/gtest.h>
#include <utime.h>

#include <cstring>
#include <ctime>
#include <map>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/modseq_file.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "Subject: m\r\n\r\nbody\r\n";

// The two index layouts as folder_snapshot.cpp writes / wrote them.
struct V1Header {
  char magic[8];
  std::uint32_t uidvalidity;
  Uid next_uid;
  std::uint64_t uidlist_ino;
  std::int64_t uidlist_mtime_ns, uidlist_size, cur_ns, new_ns;
  std::uint64_t count, arena_size;
};
struct V2Header {
  char magic[8];
  std::uint32_t byte_order, info_size, ref_size, uidvalidity;
  Uid next_uid;
  std::uint32_t pad;
  std::uint64_t uidlist_ino;
  std::int64_t uidlist_mtime_ns, uidlist_size, cur_ns, new_ns;
  std::uint64_t count, arena_size;
};

// Same instant every call (the snapshot records the directories' mtimes).
void age_dirs(const std::string& root) {
  static const std::time_t aged = std::time(nullptr) - 60;
  struct utimbuf t {aged, aged};
  ::utime((root + "/cur").c_str(), &t);
  ::utime((root + "/new").c_str(), &t);
}

// Rewrites an MBIDX002 snapshot as the MBIDX001 file an earlier version wrote for it.
std::string v1_from_v2(const std::string& v2) {
  V2Header h2{};
  EXPECT_GE(v2.size(), sizeof h2);
  std::memcpy(&h2, v2.data(), sizeof h2);
  EXPECT_EQ(std::string(h2.magic, 8), "MBIDX002");
  V1Header h1{};
  std::memcpy(h1.magic, "MBIDX001", 8);
  h1.uidvalidity = h2.uidvalidity;
  h1.next_uid = h2.next_uid;
  h1.uidlist_ino = h2.uidlist_ino;
  h1.uidlist_mtime_ns = h2.uidlist_mtime_ns;
  h1.uidlist_size = h2.uidlist_size;
  h1.cur_ns = h2.cur_ns;
  h1.new_ns = h2.new_ns;
  h1.count = h2.count;
  h1.arena_size = h2.arena_size;
  const char* infos = v2.data() + sizeof h2;
  const char* refs = infos + h2.count * sizeof(MessageInfo);
  const char* arena = refs + h2.count * sizeof(maildir::NameRef);
  std::string out(reinterpret_cast<const char*>(&h1), sizeof h1);
  out.append(infos, h2.count * sizeof(MessageInfo));
  for (std::uint64_t i = 0; i < h2.count; ++i) {
    maildir::NameRef r;
    std::memcpy(&r, refs + i * sizeof r, sizeof r);
    out.append(reinterpret_cast<const char*>(&r.length), sizeof r.length);
  }
  out.append(arena, h2.arena_size);
  return out;
}

class SnapshotFormatTest : public StoreFixture {
 protected:
  // Releases the mailbox and runs the loop until its close-time writes have landed.
  void close(MailboxPtr& mb) {
    mb.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  MailboxPtr open_as(const std::string& user) {
    auto u = open_user(user);
    auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { u->open("INBOX", cb); });
    EXPECT_TRUE(r.has_value());
    return r ? *r : nullptr;
  }
};

TEST_F(SnapshotFormatTest, OldIndexFormatOpensWithoutListingAndIsReplaced) {
  fs::create_directories(root() + "/cur");
  fs::create_directories(root() + "/new");
  write_file(root() + "/cur/1700000000.M1P1.h,S=2,W=3:2,S", "a\n");
  write_file(root() + "/cur/1700000001.M1P1.h,S=2,W=3:2,", "b\n");
  write_file(root() + "/cur/1700000002.M1P1.h,S=4,W=6:2,F", "c\nd\n");
  age_dirs(root());
  auto mb = open("INBOX");
  std::vector<MessageInfo> before(mb->messages().begin(), mb->messages().end());
  std::uint32_t uidvalidity = mb->uidvalidity();
  close(mb);
  std::string v2 = read_file(root() + "/mailbridge-index");
  ASSERT_EQ(v2.substr(0, 8), "MBIDX002");
  write_file(root() + "/mailbridge-index", v1_from_v2(v2));
  // Proof that the snapshot (not a listing) answers: a removal hidden from the mtimes.
  fs::remove(root() + "/cur/1700000001.M1P1.h,S=2,W=3:2,");
  age_dirs(root());
  mb = open("INBOX");
  auto* md = dynamic_cast<maildir::MaildirMailbox*>(mb.get());
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(md->disk_listings(), 0u);
  EXPECT_EQ(mb->uidvalidity(), uidvalidity);
  ASSERT_EQ(mb->messages().size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(mb->messages()[i].uid, before[i].uid);
    EXPECT_EQ(mb->messages()[i].flags, before[i].flags);
    EXPECT_EQ(mb->messages()[i].size, before[i].size);
    EXPECT_EQ(mb->messages()[i].internal_date, before[i].internal_date);
    EXPECT_EQ(mb->messages()[i].modseq, before[i].modseq);
  }
  close(mb);
  // Converted on that open: the next one reads MBIDX002, still without listing.
  EXPECT_EQ(read_file(root() + "/mailbridge-index").substr(0, 8), "MBIDX002");
  mb = open("INBOX");
  EXPECT_EQ(dynamic_cast<maildir::MaildirMailbox*>(mb.get())->disk_listings(), 0u);
  EXPECT_EQ(mb->messages().size(), before.size());
}

TEST_F(SnapshotFormatTest, TornOrForeignIndexIsIgnoredNotTrusted) {
  fs::create_directories(root() + "/cur");
  fs::create_directories(root() + "/new");
  write_file(root() + "/cur/1700000000.M1P1.h,S=2,W=3:2,S", "a\n");
  age_dirs(root());
  auto mb = open("INBOX");
  close(mb);
  std::string v2 = read_file(root() + "/mailbridge-index");
  for (std::string bad : {v2.substr(0, v2.size() - 1), v2 + "x"}) {
    write_file(root() + "/mailbridge-index", bad);
    age_dirs(root());
    mb = open("INBOX");
    EXPECT_EQ(dynamic_cast<maildir::MaildirMailbox*>(mb.get())->disk_listings(), 1u);
    ASSERT_EQ(mb->messages().size(), 1u);
    close(mb);
  }
  // A name reference pointing outside the names: refused as a whole.
  std::string broken = v2;
  maildir::NameRef r{1000000, 5};
  std::memcpy(broken.data() + sizeof(V2Header) + sizeof(MessageInfo), &r, sizeof r);
  write_file(root() + "/mailbridge-index", broken);
  age_dirs(root());
  mb = open("INBOX");
  EXPECT_EQ(dynamic_cast<maildir::MaildirMailbox*>(mb.get())->disk_listings(), 1u);
  EXPECT_EQ(mb->messages().size(), 1u);
}

TEST_F(SnapshotFormatTest, OldTextModseqSnapshotGivesTheSameModseqsAndIsReplaced) {
  auto mb = open("INBOX");
  for (int i = 0; i < 3; ++i) append(*mb, kMsg);
  add_flags(*mb, {2}, kSeen);
  add_flags(*mb, {3}, kFlagged);
  auto before = modseqs(*mb);
  ModSeq highest = mb->highest_modseq();
  close(mb);
  auto file = maildir::read_modseq_file(root());
  ASSERT_TRUE(file && file->clean);
  EXPECT_FALSE(file->text_snapshot);
  EXPECT_EQ(read_file(root() + "/mailbridge-modseq").substr(0, 9), "MBMODSEQ2");
  // The same snapshot as an earlier version wrote it.
  std::string text = "MBMODSEQ1 " + std::to_string(file->ceiling) + " clean " + std::to_string(file->highest) + "\n";
  for (const auto& m : file->messages)
    text += std::to_string(m.uid) + " " + std::to_string(m.modseq) + " " + std::to_string(m.flags) + " " +
            std::to_string(m.keywords) + "\n";
  write_file(root() + "/mailbridge-modseq", text);
  mb = open("INBOX");
  EXPECT_EQ(modseqs(*mb), before);
  EXPECT_EQ(mb->highest_modseq(), highest);
  close(mb);
  EXPECT_EQ(read_file(root() + "/mailbridge-modseq").substr(0, 9), "MBMODSEQ2");
  mb = open("INBOX");
  EXPECT_EQ(modseqs(*mb), before);
  EXPECT_EQ(mb->highest_modseq(), highest);
}

TEST_F(SnapshotFormatTest, CleanOpenWritesNothingAndTheFirstChangeMarksUnclean) {
  auto mb = open("INBOX");
  for (int i = 0; i < 3; ++i) append(*mb, kMsg);
  close(mb);
  std::string clean = read_file(root() + "/mailbridge-modseq");
  mb = open("INBOX");
  ModSeq highest = mb->highest_modseq();
  auto before = modseqs(*mb);
  EXPECT_EQ(read_file(root() + "/mailbridge-modseq"), clean);  // not even rewritten
  // Killed now: the copy opens to the very same modseqs.
  fs::copy(tmp_ + "/alice", tmp_ + "/bob", fs::copy_options::recursive);
  {
    auto bob = open_as("bob");
    EXPECT_EQ(modseqs(*bob), before);
    EXPECT_EQ(bob->highest_modseq(), highest);
  }
  // The first change is durable as "unclean" before it is shown, even though the clean
  // file's ceiling already covered it.
  add_flags(*mb, {1}, kSeen);
  ModSeq changed = mb->find(1)->modseq;
  EXPECT_GT(changed, highest);
  auto file = maildir::read_modseq_file(root());
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->clean);
  EXPECT_GT(file->ceiling, changed);
  // Killed after the change: nothing goes down, and the changed message is above what any
  // client saw before the change.
  fs::copy(tmp_ + "/alice", tmp_ + "/carol", fs::copy_options::recursive);
  auto carol = open_as("carol");
  for (const auto& [uid, m] : modseqs(*carol)) EXPECT_GE(m, changed) << uid;
  EXPECT_GE(carol->highest_modseq(), changed);
  carol.reset();
  // Closed in order: nothing unclean is left behind.
  close(mb);
  file = maildir::read_modseq_file(root());
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->clean);
  EXPECT_EQ(file->highest, changed);
}

TEST_F(SnapshotFormatTest, UncleanOpenRaisesTheCeilingBeforeShowingIt) {
  auto mb = open("INBOX");
  for (int i = 0; i < 2; ++i) append(*mb, kMsg);
  close(mb);
  write_file(root() + "/mailbridge-modseq", "MBMODSEQ1 50 unclean\n");  // a killed process's file
  mb = open("INBOX");
  for (const auto& [uid, m] : modseqs(*mb)) EXPECT_EQ(m, 50u) << uid;
  auto file = maildir::read_modseq_file(root());
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->clean);
  EXPECT_GT(file->ceiling, 50u);
  // Killed again without any change, and a flag changed meanwhile by another program: the
  // next open shows more than 50, so a client that saw 50 learns of the change.
  fs::copy(tmp_ + "/alice", tmp_ + "/bob", fs::copy_options::recursive);
  auto names = files_in(tmp_ + "/bob/Maildir/cur");
  ASSERT_EQ(names.size(), 2u);
  fs::rename(tmp_ + "/bob/Maildir/cur/" + names[0], tmp_ + "/bob/Maildir/cur/" + names[0] + "S");
  auto bob = open_as("bob");
  for (const auto& [uid, m] : modseqs(*bob)) EXPECT_GT(m, 50u) << uid;
}

TEST(ModseqFileFormatTest, BinarySnapshotRejectsGarbage) {
  std::string dir = make_temp_dir();
  std::vector<MessageInfo> msgs(2);
  msgs[0].uid = 1;
  msgs[0].modseq = 3;
  msgs[1].uid = 2;
  msgs[1].modseq = 4;
  msgs[1].flags = kSeen;
  msgs[1].keywords = 5;
  ASSERT_TRUE(maildir::write_modseq_reservation(dir, 10, false));
  ASSERT_TRUE(maildir::write_modseq_snapshot(dir, 10, 4, msgs, false));
  auto ok = maildir::read_modseq_file(dir);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->messages.size(), 2u);
  EXPECT_EQ(ok->messages[1].keywords, 5u);
  EXPECT_EQ(ok->messages[1].flags, kSeen);
  EXPECT_EQ(ok->highest, 4u);
  std::string good = read_file(dir + "/mailbridge-modseq");
  write_file(dir + "/mailbridge-modseq", good.substr(0, good.size() - 1));  // torn
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  write_file(dir + "/mailbridge-modseq", good + "x");  // trailing bytes
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  std::string swapped = good;
  std::swap_ranges(swapped.end() - 48, swapped.end() - 24, swapped.end() - 24);  // UIDs descending
  write_file(dir + "/mailbridge-modseq", swapped);
  EXPECT_FALSE(maildir::read_modseq_file(dir));
  // A snapshot is never written over a reservation it does not own.
  ASSERT_TRUE(maildir::write_modseq_reservation(dir, 20, false));
  EXPECT_FALSE(maildir::write_modseq_snapshot(dir, 10, 4, msgs, false));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mb::store::test
