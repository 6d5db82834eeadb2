// Mailbox operations on a real Maildir in a temp dir, through the public store interface.
#include <gtest/gtest.h>
#include <utime.h>

#include <ctime>

#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

const std::string kMsg = "From: a@example.org\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n";

using MailboxTest = StoreFixture;

TEST_F(MailboxTest, OpenInboxCreatesMaildirAndUidlist) {
  auto mb = open("inbox");
  ASSERT_TRUE(mb);
  EXPECT_EQ(mb->name(), "INBOX");
  EXPECT_TRUE(fs::is_directory(root() + "/cur"));
  EXPECT_TRUE(fs::is_directory(root() + "/new"));
  EXPECT_TRUE(fs::is_directory(root() + "/tmp"));
  EXPECT_TRUE(fs::exists(root() + "/dovecot-uidlist"));
  EXPECT_GT(mb->uidvalidity(), 0u);
  EXPECT_EQ(mb->uidnext(), 1u);
  EXPECT_TRUE(mb->messages().empty());
}

TEST_F(MailboxTest, SameMailboxIsOneSharedObject) {
  auto a = open("INBOX");
  auto b = open("Inbox");
  EXPECT_EQ(a.get(), b.get());
}

TEST_F(MailboxTest, OpenMissingFolderIsNotFound) {
  auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { user_->open("Nope", cb); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

TEST_F(MailboxTest, AppendStoresLfAndReadsCrlfWithWireSize) {
  auto mb = open("INBOX");
  Uid uid = append(*mb, kMsg, kSeen, {}, 1700000000);
  EXPECT_EQ(uid, 1u);
  ASSERT_EQ(mb->messages().size(), 1u);
  const MessageInfo& m = mb->messages()[0];
  EXPECT_EQ(m.size, kMsg.size());
  EXPECT_EQ(m.flags, kSeen);
  EXPECT_EQ(m.internal_date, 1700000000);
  EXPECT_EQ(mb->uidnext(), 2u);
  auto names = files_in(root() + "/cur");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_NE(names[0].find(",S="), std::string::npos);
  EXPECT_NE(names[0].find(",W=" + std::to_string(kMsg.size())), std::string::npos);
  EXPECT_EQ(names[0].substr(names[0].size() - 4), ":2,S");
  std::string stored = read_file(root() + "/cur/" + names[0]);
  EXPECT_EQ(stored.find('\r'), std::string::npos);
  EXPECT_EQ(read_all(*mb, uid), kMsg);
  EXPECT_EQ(read_all(*mb, uid, 1), kMsg);  // byte at a time, CR/LF split across reads
  EXPECT_EQ(read_all(*mb, uid, 7), kMsg);
}

TEST_F(MailboxTest, ReadAtArbitraryOffsets) {
  auto mb = open("INBOX");
  Uid uid = append(*mb, kMsg);
  for (std::size_t off = 0; off <= kMsg.size() + 2; ++off) {
    auto r = await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb->read(uid, off, 5, cb); });
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, off < kMsg.size() ? kMsg.substr(off, 5) : std::string()) << off;
  }
}

TEST_F(MailboxTest, ReadExpungedUid) {
  auto mb = open("INBOX");
  auto r = await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb->read(42, 0, 10, cb); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::expunged);
}

TEST_F(MailboxTest, UidsIncreaseAndPersistAcrossReopen) {
  std::uint32_t uv = 0;
  {
    auto mb = open("INBOX");
    uv = mb->uidvalidity();
    EXPECT_EQ(append(*mb, "a\n"), 1u);
    EXPECT_EQ(append(*mb, "b\n"), 2u);
    EXPECT_EQ(append(*mb, "c\n"), 3u);
    auto r = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({3}, nullptr, cb); });
    ASSERT_TRUE(r);
  }
  for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  auto mb = open("INBOX");
  EXPECT_EQ(mb->uidvalidity(), uv);
  ASSERT_EQ(mb->messages().size(), 2u);
  EXPECT_EQ(mb->messages()[1].uid, 2u);
  EXPECT_EQ(mb->uidnext(), 4u);  // 3 is never reused
  EXPECT_EQ(append(*mb, "d\n"), 4u);
}

TEST_F(MailboxTest, StoreFlagsAddRemoveReplaceAndKeywords) {
  auto mb = open("INBOX");
  Uid uid = append(*mb, kMsg);
  auto r = await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid}, FlagOp::add, kSeen | kFlagged, {"$Forwarded", "Work"}, nullptr, cb);
  });
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].uid, uid);
  EXPECT_EQ(mb->find(uid)->flags, kSeen | kFlagged);
  ASSERT_EQ(mb->keywords().size(), 2u);
  EXPECT_EQ(mb->keywords()[0], "$Forwarded");
  EXPECT_EQ(mb->find(uid)->keywords, 3u);
  auto names = files_in(root() + "/cur");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].substr(names[0].find(":2,")), ":2,FSab");
  EXPECT_EQ(read_file(root() + "/dovecot-keywords"), "0 $Forwarded\n1 Work\n");
  ModSeq before = mb->highest_modseq();
  r = await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid}, FlagOp::remove, kSeen, {"work"}, nullptr, cb);
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(mb->find(uid)->flags, kFlagged);
  EXPECT_EQ(mb->find(uid)->keywords, 1u);
  EXPECT_GT(mb->highest_modseq(), before);
  EXPECT_EQ(mb->find(uid)->modseq, mb->highest_modseq());
  r = await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid, 999}, FlagOp::replace, kDeleted | kDraft | kAnswered, {}, nullptr, cb);
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 1u);
  EXPECT_EQ(files_in(root() + "/cur")[0].substr(names[0].find(":2,")), ":2,DRT");
  // No-op change reports nothing.
  r = await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid}, FlagOp::add, kDeleted, {}, nullptr, cb);
  });
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(read_all(*mb, uid), kMsg);  // still readable after renames
}

TEST_F(MailboxTest, ExpungeRemovesFilesAndSkipsAbsent) {
  auto mb = open("INBOX");
  append(*mb, "a\n");
  append(*mb, "b\n");
  auto r = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({1, 77}, nullptr, cb); });
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::vector<Uid>{1});
  EXPECT_EQ(files_in(root() + "/cur").size(), 1u);
  EXPECT_EQ(mb->find(1), nullptr);
  EXPECT_NE(mb->find(2), nullptr);
}

TEST_F(MailboxTest, ObserversHearChangesExceptOrigin) {
  auto mb = open("INBOX");
  Recorder a, b;
  mb->add_observer(&a);
  mb->add_observer(&b);
  Uid uid = append(*mb, kMsg, 0, {}, std::nullopt, &a);
  EXPECT_TRUE(a.seen.empty());
  ASSERT_EQ(b.seen.size(), 1u);
  EXPECT_EQ(b.seen[0].kind, Change::Kind::appended);
  EXPECT_EQ(b.seen[0].uid, uid);
  EXPECT_EQ(b.seen[0].modseq, mb->find(uid)->modseq);
  await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid}, FlagOp::add, kSeen, {}, &b, cb);
  });
  ASSERT_EQ(a.seen.size(), 1u);
  EXPECT_EQ(a.seen[0].kind, Change::Kind::flags);
  EXPECT_EQ(b.seen.size(), 1u);
  await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({uid}, nullptr, cb); });
  ASSERT_EQ(a.seen.size(), 2u);
  EXPECT_EQ(a.seen[1].kind, Change::Kind::expunged);
  EXPECT_EQ(b.seen.size(), 2u);
  mb->remove_observer(&a);
  mb->remove_observer(&b);
}

TEST_F(MailboxTest, ExternalDeliveryIntoNewReachesObserversWithoutCommand) {
  auto mb = open("INBOX");
  Recorder obs;
  mb->add_observer(&obs);
  write_file(root() + "/tmp/1700000000.M1P1.mda", "Subject: x\n\nbody\n");
  fs::rename(root() + "/tmp/1700000000.M1P1.mda", root() + "/new/1700000000.M1P1.mda");
  run_until([&] { return !obs.seen.empty(); });
  ASSERT_EQ(obs.seen.size(), 1u);
  EXPECT_EQ(obs.seen[0].kind, Change::Kind::appended);
  Uid uid = obs.seen[0].uid;
  ASSERT_NE(mb->find(uid), nullptr);
  EXPECT_EQ(mb->find(uid)->size, std::string("Subject: x\r\n\r\nbody\r\n").size());
  EXPECT_TRUE(files_in(root() + "/new").empty());
  EXPECT_EQ(files_in(root() + "/cur")[0], "1700000000.M1P1.mda:2,");
  // External flag change and deletion.
  obs.seen.clear();
  fs::rename(root() + "/cur/1700000000.M1P1.mda:2,", root() + "/cur/1700000000.M1P1.mda:2,S");
  run_until([&] { return !obs.seen.empty(); });
  ASSERT_FALSE(obs.seen.empty());
  EXPECT_EQ(obs.seen[0].kind, Change::Kind::flags);
  EXPECT_EQ(mb->find(uid)->flags, kSeen);
  obs.seen.clear();
  fs::remove(root() + "/cur/1700000000.M1P1.mda:2,S");
  run_until([&] { return !obs.seen.empty(); });
  ASSERT_FALSE(obs.seen.empty());
  EXPECT_EQ(obs.seen[0].kind, Change::Kind::expunged);
  mb->remove_observer(&obs);
}

TEST_F(MailboxTest, OwnChangesCauseNoInotifyRescanForeignOnesDo) {
  auto mb = open("INBOX");
  auto* md = dynamic_cast<maildir::MaildirMailbox*>(mb.get());
  ASSERT_NE(md, nullptr);
  Uid uid = append(*mb, kMsg);
  await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
    mb->store_flags({uid}, FlagOp::add, kSeen, {}, nullptr, cb);
  });
  append(*mb, kMsg);
  await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({uid}, nullptr, cb); });
  // A foreign delivery (tmp/ then one rename into new/, as an MDA does) is the marker: once
  // its sync ran, every earlier event was handled.
  write_file(root() + "/tmp/1900000000.M1P1.other", "x\n");
  fs::rename(root() + "/tmp/1900000000.M1P1.other", root() + "/new/1900000000.M1P1.other");
  run_until([&] { return mb->messages().size() == 2; });
  ASSERT_EQ(mb->messages().size(), 2u);
  EXPECT_EQ(md->event_syncs(), 1u);
}

TEST_F(MailboxTest, RescanAssignsArrivalOrder) {
  auto mb = open("INBOX");
  // Delivered out of name order: UIDs follow the delivery time in the name.
  write_file(root() + "/new/1700000300.M5P1.h", "c\n");
  write_file(root() + "/new/1700000100.M5P1.h", "a\n");
  write_file(root() + "/new/1700000200.M5P1.h", "b\n");
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  ASSERT_EQ(mb->messages().size(), 3u);
  EXPECT_EQ(read_all(*mb, 1), "a\r\n");
  EXPECT_EQ(read_all(*mb, 2), "b\r\n");
  EXPECT_EQ(read_all(*mb, 3), "c\r\n");
}

TEST_F(MailboxTest, ClaimRecentGoesToOneSession) {
  fs::create_directories(root() + "/cur");
  fs::create_directories(root() + "/new");
  write_file(root() + "/new/1700000000.M1P1.h", "a\n");
  auto mb = open("INBOX");
  Uid first = mb->claim_recent();
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(mb->claim_recent(), mb->uidnext());  // nothing left for a second session
  append(*mb, "b\n");
  EXPECT_EQ(mb->claim_recent(), 2u);
}

TEST_F(MailboxTest, CopyAndMoveToAnotherMailbox) {
  auto done = await<StoreResult<void>>(&loop_, [&](auto cb) { user_->create("Archive", cb); });
  ASSERT_TRUE(done);
  auto inbox = open("INBOX");
  Uid u1 = append(*inbox, "one\n", kSeen, {"Work"});
  Uid u2 = append(*inbox, "two\n");
  auto archive = open("Archive");
  Recorder obs;
  archive->add_observer(&obs);
  auto r = await<StoreResult<CopyResult>>(&loop_, [&](auto cb) { inbox->copy({u2, u1}, "Archive", nullptr, cb); });
  ASSERT_TRUE(r) << r.error().internal_text;
  EXPECT_EQ(r->dest_uidvalidity, archive->uidvalidity());
  EXPECT_EQ(r->source_uids, (std::vector<Uid>{u2, u1}));
  EXPECT_EQ(r->dest_uids, (std::vector<Uid>{1, 2}));
  EXPECT_EQ(obs.seen.size(), 2u);
  EXPECT_EQ(read_all(*archive, 1), "two\r\n");
  EXPECT_EQ(archive->find(2)->flags, kSeen);
  ASSERT_EQ(archive->keywords().size(), 1u);
  EXPECT_EQ(archive->find(2)->keywords, 1u);
  EXPECT_EQ(inbox->messages().size(), 2u);
  auto m = await<StoreResult<CopyResult>>(&loop_, [&](auto cb) { inbox->move({u1}, "Archive", nullptr, cb); });
  ASSERT_TRUE(m);
  EXPECT_EQ(m->dest_uids, std::vector<Uid>{3});
  EXPECT_EQ(inbox->messages().size(), 1u);
  EXPECT_EQ(archive->messages().size(), 3u);
  auto bad = await<StoreResult<CopyResult>>(&loop_, [&](auto cb) { inbox->copy({u2}, "../x", nullptr, cb); });
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::bad_name);
  archive->remove_observer(&obs);
}

TEST_F(MailboxTest, CachePersistsAcrossReopen) {
  {
    auto mb = open("INBOX");
    Uid uid = append(*mb, kMsg);
    EXPECT_FALSE(mb->cache_get(uid, CacheField::mime_structure));
    mb->cache_put(uid, CacheField::mime_structure, std::string("(\"text\" \"plain\")\nx", 18));
    ASSERT_TRUE(mb->cache_get(uid, CacheField::mime_structure));
    // Let the lazy write finish.
    await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  }
  for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  auto mb = open("INBOX");
  // Read on demand only (mailbox_cache_test.cpp has the details).
  bool loaded = false;
  mb->load_cache([&] { loaded = true; });
  run_until([&] { return loaded; });
  auto v = mb->cache_get(1, CacheField::mime_structure);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, std::string_view("(\"text\" \"plain\")\nx", 18));
}

TEST_F(MailboxTest, LostUidlistChangesUidvalidityOnlyThen) {
  std::uint32_t uv = 0;
  {
    auto mb = open("INBOX");
    uv = mb->uidvalidity();
    append(*mb, "a\n");
    // A file renamed and one added behind our back: UIDVALIDITY stays.
    write_file(root() + "/new/1800000000.M1P9.x", "x\n");
    await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
    EXPECT_EQ(mb->uidvalidity(), uv);
    EXPECT_EQ(mb->messages().size(), 2u);
  }
  for (int i = 0; i < 5; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
  fs::remove(root() + "/dovecot-uidlist");
  auto mb = open("INBOX");
  EXPECT_NE(mb->uidvalidity(), uv);
  EXPECT_EQ(mb->messages().size(), 2u);
}

TEST_F(MailboxTest, CorruptUidlistIsReplacedWithNewUidvalidity) {
  fs::create_directories(root() + "/cur");
  write_file(root() + "/dovecot-uidlist", "garbage\n");
  write_file(root() + "/cur/1700000000.M1P1.h:2,S", "a\n");
  auto mb = open("INBOX");
  EXPECT_GT(mb->uidvalidity(), 0u);
  ASSERT_EQ(mb->messages().size(), 1u);
  EXPECT_EQ(mb->messages()[0].flags, kSeen);
  EXPECT_EQ(read_file(root() + "/dovecot-uidlist").substr(0, 3), "3 V");
}

TEST_F(MailboxTest, OldTmpFilesAreCleanedAndNeverShown) {
  fs::create_directories(root() + "/tmp");
  fs::create_directories(root() + "/cur");
  write_file(root() + "/tmp/old", "x\n");
  write_file(root() + "/tmp/fresh", "y\n");
  struct utimbuf t {1000000000, 1000000000};
  ::utime((root() + "/tmp/old").c_str(), &t);
  auto mb = open("INBOX");
  EXPECT_TRUE(mb->messages().empty());
  EXPECT_EQ(files_in(root() + "/tmp"), std::vector<std::string>{"fresh"});
}

TEST_F(MailboxTest, FilesWithoutSizesAreMeasuredOnceAndRemembered) {
  fs::create_directories(root() + "/cur");
  write_file(root() + "/cur/1700000000.M1P1.h:2,", "a\nbb\n");
  auto mb = open("INBOX");
  ASSERT_EQ(mb->messages().size(), 1u);
  EXPECT_EQ(mb->messages()[0].size, 7u);
  EXPECT_NE(read_file(root() + "/dovecot-uidlist").find("1 W7 :1700000000.M1P1.h"), std::string::npos);
}

TEST_F(MailboxTest, WarmOpenTakesDatesFromDatesFileNotFromFiles) {
  {
    auto mb = open("INBOX");
    append(*mb, "a\n", 0, {}, 1500000000);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(read_file(root() + "/mailbridge-dates"), "1 1500000000\n");
  // Touch the file behind our back: a warm open does not stat it, so the date stays.
  auto name = files_in(root() + "/cur")[0];
  struct utimbuf t {1600000000, 1600000000};
  ::utime((root() + "/cur/" + name).c_str(), &t);
  auto fresh = open_user("alice");  // same storage registry: the old mailbox is gone
  auto mb = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { fresh->open("INBOX", cb); });
  ASSERT_TRUE(mb);
  EXPECT_EQ((*mb)->messages()[0].internal_date, 1500000000);
}

// Sets cur/ and new/ mtimes a minute back so the snapshot counts as settled.
// Always the same instant: the snapshot records the directories' mtimes, so a second
// age_dirs() must restore exactly the first one (a fresh time(nullptr) - 60 would differ
// whenever the test crosses a second boundary, and the snapshot would rightly be distrusted).
void age_dirs(const std::string& root) {
  static const std::time_t aged = std::time(nullptr) - 60;
  struct utimbuf t {aged, aged};
  ::utime((root + "/cur").c_str(), &t);
  ::utime((root + "/new").c_str(), &t);
}

TEST_F(MailboxTest, SettledSnapshotServesWarmOpenAndChangesInvalidateIt) {
  fs::create_directories(root() + "/cur");
  fs::create_directories(root() + "/new");
  write_file(root() + "/cur/1700000000.M1P1.h,S=2,W=3:2,S", "a\n");
  write_file(root() + "/cur/1700000001.M1P1.h,S=2,W=3:2,", "b\n");
  age_dirs(root());
  {
    auto mb = open("INBOX");
    EXPECT_EQ(mb->messages().size(), 2u);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  ASSERT_TRUE(fs::exists(root() + "/mailbridge-index"));
  // Unchanged directories: the snapshot is used (proved by a change hidden from mtimes).
  fs::remove(root() + "/cur/1700000001.M1P1.h,S=2,W=3:2,");
  age_dirs(root());
  {
    auto user = open_user("alice");
    auto mb = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { user->open("INBOX", cb); });
    ASSERT_TRUE(mb);
    EXPECT_EQ((*mb)->messages().size(), 2u);
    EXPECT_EQ((*mb)->find(1)->flags, kSeen);
    EXPECT_EQ((*mb)->find(2)->size, 3u);
    // A real change moves cur/'s mtime on: the rescan lists the directory and sees the truth.
    fs::last_write_time(root() + "/cur", fs::file_time_type::clock::now());
    await<StoreResult<void>>(&loop_, [&](auto cb) { (*mb)->rescan(cb); });
    EXPECT_EQ((*mb)->messages().size(), 1u);
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  // A real change moves the mtime: the snapshot is not trusted.
  write_file(root() + "/new/1800000000.M1P1.h", "c\n");
  auto user = open_user("alice");
  auto mb = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { user->open("INBOX", cb); });
  ASSERT_TRUE(mb);
  EXPECT_EQ((*mb)->messages().size(), 2u);
  EXPECT_EQ((*mb)->messages().back().uid, 3u);
}

TEST_F(MailboxTest, LargeMessageStreamsInChunks) {
  auto mb = open("INBOX");
  std::string big;
  std::string line(99, 'x');
  line += '\n';
  while (big.size() < 3 * 1024 * 1024) big += line;
  Uid uid = append(*mb, big);
  std::size_t lines = big.size() / 100;
  EXPECT_EQ(mb->find(uid)->size, big.size() + lines);
  std::uint64_t total = 0;
  std::size_t chunks = 0;
  while (true) {
    auto r = await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb->read(uid, total, 65536, cb); });
    ASSERT_TRUE(r);
    if (r->empty()) break;
    ASSERT_LE(r->size(), 65536u);
    if (chunks == 0) {
      EXPECT_EQ(r->substr(0, 101), std::string(99, 'x') + "\r\n");
    }
    total += r->size();
    ++chunks;
  }
  EXPECT_EQ(total, mb->find(uid)->size);
  EXPECT_GT(chunks, 40u);
}


// Ages cur/, new/ and dovecot-uidlist a minute back (settled, as in a mailbox nobody wrote to).
void age_folder(const std::string& root) {
  struct utimbuf t {std::time(nullptr) - 60, std::time(nullptr) - 60};
  for (const char* p : {"/cur", "/new", "/dovecot-uidlist"}) ::utime((root + p).c_str(), &t);
}

TEST_F(MailboxTest, RescanWithoutChangesSkipsListingYetSeesLaterChanges) {
  auto mb = open("INBOX");
  auto* md = dynamic_cast<maildir::MaildirMailbox*>(mb.get());
  ASSERT_NE(md, nullptr);
  append(*mb, kMsg);
  age_folder(root());
  // The first rescan after the change lists and records the settled stamps; let any event
  // sync the aging caused run (it lists at most once, before the record, or takes the fast path).
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  bool waited = false;
  uv_timer_t t;
  uv_timer_init(&loop_, &t);
  t.data = &waited;
  uv_timer_start(&t, [](uv_timer_t* h) { *static_cast<bool*>(h->data) = true; }, 50, 0);
  run_until([&] { return waited; });
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  std::uint64_t listed = md->disk_listings();
  for (int i = 0; i < 3; ++i) await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  EXPECT_EQ(md->disk_listings(), listed);  // no change on disk: no listing
  ASSERT_EQ(mb->messages().size(), 1u);
  // An external delivery after a fast-path rescan is still seen by the next rescan.
  write_file(root() + "/tmp/1900000000.M1P1.mda", "x\n");
  fs::rename(root() + "/tmp/1900000000.M1P1.mda", root() + "/new/1900000000.M1P1.mda");
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  run_until([&] { return mb->messages().size() == 2; });
  EXPECT_EQ(mb->messages().size(), 2u);
  EXPECT_GT(md->disk_listings(), listed);
  // So is an external flag change (a rename inside cur/) once the folder settled again.
  age_folder(root());
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  listed = md->disk_listings();
  auto name = files_in(root() + "/cur")[0];
  ASSERT_EQ(name.back(), ',');
  fs::rename(root() + "/cur/" + name, root() + "/cur/" + name + "S");
  await<StoreResult<void>>(&loop_, [&](auto cb) { mb->rescan(cb); });
  run_until([&] { return md->disk_listings() > listed && mb->messages()[0].flags == kSeen; });
  EXPECT_EQ(mb->messages()[0].flags, kSeen);
}

// store.fsync_flags: a flag change (a rename within cur/) flushes cur/ only when asked; an
// expunge always does (with store.fsync), so a deleted message cannot come back.
TEST_F(MailboxTest, FlagRenamesFlushCurOnlyWithFsyncFlags) {
  for (bool fsync_flags : {false, true}) {
    SCOPED_TRACE(fsync_flags ? "fsync_flags = true" : "fsync_flags = false");
    StoreSettings s;
    s.path_template = tmp_ + "/%u/Maildir";
    s.fsync = true;
    s.fsync_flags = fsync_flags;
    s.mailbox_linger_ms = 0;
    auto made = make_storage(s, &loop_);
    ASSERT_TRUE(made.has_value());
    auto storage = std::move(*made);
    const std::string user_name = fsync_flags ? "flags-on" : "flags-off";
    auto user = await<StoreResult<UserStorePtr>>(&loop_, [&](auto cb) { storage->open_user(user_name, "", cb); });
    ASSERT_TRUE(user.has_value());
    auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { (*user)->open("INBOX", cb); });
    ASSERT_TRUE(r.has_value());
    MailboxPtr mb = *r;
    Uid a = append(*mb, kMsg);
    Uid b = append(*mb, kMsg);
    auto store = [&](Uid uid, FlagSet flags) {
      auto res = await<StoreResult<std::vector<Change>>>(&loop_, [&](auto cb) {
        mb->store_flags({uid}, FlagOp::add, flags, {}, nullptr, cb);
      });
      ASSERT_TRUE(res.has_value());
      ASSERT_EQ(res->size(), 1u);
    };
    store(a, kFlagged);  // the first change may write the modseq reservation: not counted
    const std::uint64_t before = maildir::dir_fsyncs();
    store(a, kSeen);
    store(b, kSeen);
    EXPECT_EQ(maildir::dir_fsyncs() - before, fsync_flags ? 2u : 0u);
    // The renames happened either way.
    EXPECT_EQ(mb->find(a)->flags, kFlagged | kSeen);
    const std::uint64_t before_expunge = maildir::dir_fsyncs();
    auto gone = await<StoreResult<std::vector<Uid>>>(&loop_, [&](auto cb) { mb->expunge({b}, nullptr, cb); });
    ASSERT_TRUE(gone.has_value());
    EXPECT_EQ(maildir::dir_fsyncs() - before_expunge, 1u);
    mb.reset();
    user->reset();
  }
}

TEST_F(MailboxTest, ReleasedMailboxLingersForReopenThenGoes) {
  StoreSettings s;
  s.path_template = tmp_ + "/%u/Maildir";
  s.fsync = false;
  s.mailbox_linger_ms = 150;
  auto made = make_storage(s, &loop_);
  ASSERT_TRUE(made.has_value());
  auto storage = std::move(*made);
  auto user = await<StoreResult<UserStorePtr>>(&loop_, [&](auto cb) { storage->open_user("bob", "", cb); });
  ASSERT_TRUE(user.has_value());
  auto open_inbox = [&]() -> std::shared_ptr<maildir::MaildirMailbox> {
    auto r = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { (*user)->open("INBOX", cb); });
    EXPECT_TRUE(r.has_value());
    return r ? std::dynamic_pointer_cast<maildir::MaildirMailbox>(*r) : nullptr;
  };
  auto first = open_inbox();
  ASSERT_NE(first, nullptr);
  append(*first, kMsg);
  std::weak_ptr<maildir::MaildirMailbox> weak = first;
  std::uint64_t listed = first->disk_listings();
  first.reset();
  ASSERT_FALSE(weak.expired());  // released, yet lingering
  // A delivery while nobody uses it is still seen (inotify or the reopen's rescan).
  write_file(root().substr(0, root().rfind("/alice/")) + "/bob/Maildir/new/1900000000.M1P1.mda", "x\n");
  auto again = open_inbox();
  EXPECT_EQ(again, weak.lock());  // the same object: no uidlist re-read, no fresh open
  await<StoreResult<void>>(&loop_, [&](auto cb) { again->rescan(cb); });
  EXPECT_EQ(again->messages().size(), 2u);
  EXPECT_GE(again->disk_listings(), listed);
  again.reset();
  // After the window (measured from the release) it goes; the next open is a fresh object.
  run_until([&] { return weak.expired(); });
  EXPECT_TRUE(weak.expired());
  auto fresh = open_inbox();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->messages().size(), 2u);
  std::weak_ptr<maildir::MaildirMailbox> weak_fresh = fresh;
  fresh.reset();
  ASSERT_FALSE(weak_fresh.expired());
  // Destroying the Storage drops the lingering mailboxes at once (their handles close on the loop).
  user->reset();
  storage.reset();
  EXPECT_TRUE(weak_fresh.expired());
}

}  // namespace
}  // namespace mb::store::test
