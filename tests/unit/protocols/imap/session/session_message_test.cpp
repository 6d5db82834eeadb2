// File: tests/unit/protocols/imap/session/session_message_test.cpp
//
// Selected state: FETCH (every item, sections, partials, \Seen side effect, cache use),
// STORE, SEARCH, COPY, MOVE, EXPUNGE, UID EXPUNGE, CLOSE, UNSELECT, back-pressure.
#include "tests/unit/protocols/imap/session/session_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gateway/store/maildir/maildir_mailbox.hpp"

namespace mb::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kPlain =
    "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.com>\r\n\r\nHello world\r\n";

constexpr std::string_view kMultipart =
    "From: Carol <carol@example.net>\r\nTo: alice@example.com\r\n"
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nDate: Tue, 1 Mar 2022 10:00:00 +0000\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
    "preamble\r\n--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfirst part banana\r\n"
    "--XX\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "c2Vjb25kIHBhcnQgY2hlcnJ5\r\n--XX--\r\n";

class MessageTest : public ImapSessionTest {
 protected:
  void SetUp() override {
    ImapSessionTest::SetUp();
    deliver("alice", kPlain);
    deliver("alice", kMultipart);
    deliver("alice", kPlain);
  }
  Client& selected() {
    Client& c = connect();
    c.login();
    std::string r = c.cmd("S SELECT INBOX");
    EXPECT_THAT(r, HasSubstr("* 3 EXISTS"));
    return c;
  }
};

TEST_F(MessageTest, FetchMetadataItems) {
  Client& c = selected();
  std::string r = c.cmd("a FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (UID 1 FLAGS (\\Recent) RFC822.SIZE " +
                           std::to_string(kPlain.size()) + " INTERNALDATE \""));
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (UID 3 "));
  EXPECT_THAT(r, HasSubstr("a OK"));
  r = c.cmd("b UID FETCH 2 FLAGS");
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (UID 2 FLAGS (\\Recent))"));
  r = c.cmd("c FETCH 4 FLAGS");
  EXPECT_THAT(r, HasSubstr("c BAD"));
  r = c.cmd("d UID FETCH 9:20 FLAGS");
  EXPECT_THAT(r, HasSubstr("d OK"));
  EXPECT_THAT(r, Not(HasSubstr("FETCH (")));
}

TEST_F(MessageTest, FetchEnvelopeAndBodystructure) {
  Client& c = selected();
  std::string r = c.cmd("a FETCH 1 (ENVELOPE)");
  EXPECT_THAT(r, HasSubstr("ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\" "
                           "((\"Alice\" NIL \"alice\" \"example.com\"))"));
  std::string first = c.cmd("b FETCH 2 (BODYSTRUCTURE)");
  EXPECT_THAT(first, HasSubstr("BODYSTRUCTURE ((\"text\" \"plain\""));
  EXPECT_THAT(first, HasSubstr("\"mixed\""));
  r = c.cmd("c FETCH 2 BODY");
  EXPECT_THAT(r, HasSubstr("BODY ((\"text\" \"plain\""));
  // A second fetch is served from the structure cache: same answer.
  std::string again = c.cmd("d FETCH 2 (BODYSTRUCTURE)");
  EXPECT_EQ(again.substr(0, again.find("d OK")), first.substr(0, first.find("b OK")));
}

// Rewrites every message file of alice's INBOX in place, same size, "Hello" -> "Jello": what
// FETCH ENVELOPE answers afterwards shows whether it came from the structure cache.
void rewrite_subjects(const std::filesystem::path& root) {
  for (const auto& e : std::filesystem::directory_iterator(root / "mail/alice/Maildir/cur")) {
    std::string text;
    {
      std::ifstream in(e.path(), std::ios::binary);
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto at = text.find("Subject: Hello");
    if (at == std::string::npos) continue;
    text[at + 9] = 'J';
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << text;
  }
}

// FETCH and SEARCH over many messages hand the structures they parse to the store's cache in
// batches (structure_cache.hpp); the last batch goes when the command ends, so a later
// ENVELOPE comes from the cache (the rewritten files are not read) and the cache file is
// written.
TEST_F(MessageTest, WholeMailboxFetchPutsEveryStructureInTheCache) {
  Client& c = selected();
  std::string r = c.cmd("a FETCH 1:* (ENVELOPE)");
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\""));
  rewrite_subjects(root_);
  r = c.cmd("b FETCH 1:* (ENVELOPE)");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\""));
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\""));
  EXPECT_THAT(r, Not(HasSubstr("Jello")));
  EXPECT_TRUE(run_until([&] {
    return std::filesystem::exists(root_ / "mail/alice/Maildir/mailbridge-cache");
  }));
}

// Issue #5: the folder's structure cache is read only by commands that need structures; a
// session that only SELECTs and IDLEs (or fetches flags, searches flags) leaves it unloaded.
TEST_F(MessageTest, OnlyCommandsThatNeedStructuresLoadTheCache) {
  Client& c = selected();
  c.feed("i IDLE\r\n", "+ idling");
  // The same shared folder state as the session's (one per directory in the process).
  store::UserStorePtr user;
  storage_->open_user("alice", "", [&](store::StoreResult<store::UserStorePtr> r) {
    ASSERT_TRUE(r);
    user = *r;
  });
  ASSERT_TRUE(run_until([&] { return user != nullptr; }));
  store::MailboxPtr mb;
  user->open("INBOX", [&](store::StoreResult<store::MailboxPtr> r) {
    ASSERT_TRUE(r);
    mb = *r;
  });
  ASSERT_TRUE(run_until([&] { return mb != nullptr; }));
  auto* md = dynamic_cast<store::maildir::MaildirMailbox*>(mb.get());
  ASSERT_NE(md, nullptr);
  EXPECT_FALSE(md->cache_loaded());
  EXPECT_THAT(c.feed("DONE\r\n", "i OK"), HasSubstr("i OK"));
  EXPECT_THAT(c.cmd("a FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)"), HasSubstr("a OK"));
  EXPECT_THAT(c.cmd("b SEARCH UNSEEN LARGER 10"), HasSubstr("b OK"));
  EXPECT_FALSE(md->cache_loaded());
  EXPECT_THAT(c.cmd("c FETCH 2 (BODYSTRUCTURE)"), HasSubstr("c OK"));
  EXPECT_TRUE(md->cache_loaded());
}

TEST_F(MessageTest, TextSearchPutsEveryStructureInTheCache) {
  Client& c = selected();
  // BODY needs the whole message: each one is parsed and its structure cached.
  std::string r = c.cmd("a SEARCH BODY world");
  EXPECT_THAT(r, HasSubstr("* SEARCH 1 3\r\n"));
  rewrite_subjects(root_);
  r = c.cmd("b FETCH 1:* (ENVELOPE)");
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Hello\""));
  EXPECT_THAT(r, Not(HasSubstr("Jello")));
  // The header itself is read from the file, as it is now.
  r = c.cmd("c SEARCH SUBJECT jello");
  EXPECT_THAT(r, HasSubstr("* SEARCH 1 3\r\n"));
}

TEST_F(MessageTest, FetchBodySectionsAndPartials) {
  Client& c = selected();
  std::string r = c.cmd("a FETCH 1 BODY.PEEK[]");
  EXPECT_THAT(r, HasSubstr("BODY[] {" + std::to_string(kPlain.size()) + "}\r\n" +
                           std::string(kPlain) + ")"));
  r = c.cmd("b FETCH 1 BODY.PEEK[TEXT]");
  EXPECT_THAT(r, HasSubstr("BODY[TEXT] {13}\r\nHello world\r\n)"));
  r = c.cmd("c FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
  EXPECT_THAT(r, HasSubstr("BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: Hello\r\n\r\n)"));
  r = c.cmd("d FETCH 1 BODY.PEEK[]<0.4>");
  EXPECT_THAT(r, HasSubstr("BODY[]<0> {4}\r\nFrom)"));
  r = c.cmd("e FETCH 2 BODY.PEEK[1]");
  EXPECT_THAT(r, HasSubstr("BODY[1] {17}\r\nfirst part banana)"));
  r = c.cmd("f FETCH 2 BODY.PEEK[2.MIME]");
  EXPECT_THAT(r, HasSubstr("BODY[2.MIME] {"));
  r = c.cmd("g FETCH 2 BODY.PEEK[7]");
  EXPECT_THAT(r, HasSubstr("BODY[7] \"\""));
  r = c.cmd("h FETCH 1 (RFC822.HEADER)");
  EXPECT_THAT(r, HasSubstr("RFC822.HEADER {"));
  EXPECT_THAT(r, Not(HasSubstr("\\Seen")));
}

TEST_F(MessageTest, NonPeekFetchSetsSeenAndReportsFlags) {
  Client& c = selected();
  std::string r = c.cmd("a FETCH 1 BODY[TEXT]");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[TEXT] {13}"));
  r = c.cmd("b FETCH 1 FLAGS");
  EXPECT_THAT(r, HasSubstr("FLAGS (\\Seen \\Recent)"));
  r = c.cmd("c FETCH 3 RFC822");
  EXPECT_THAT(r, HasSubstr("\\Seen"));
  EXPECT_THAT(r, HasSubstr("RFC822 {"));
  // EXAMINE never sets \Seen.
  Client& d = connect();
  d.login();
  d.cmd("x EXAMINE INBOX");
  r = d.cmd("y FETCH 2 BODY[]");
  EXPECT_THAT(r, Not(HasSubstr("\\Seen")));
}

TEST_F(MessageTest, StoreFlagsAllModes) {
  Client& c = selected();
  std::string r = c.cmd("a STORE 1 +FLAGS (\\Flagged $Important)");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (FLAGS (\\Flagged \\Recent $Important))"));
  EXPECT_THAT(r, HasSubstr("* FLAGS ("));  // new keyword announced
  EXPECT_THAT(r, HasSubstr("a OK"));
  r = c.cmd("b STORE 1:2 FLAGS (\\Seen)");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (FLAGS (\\Seen \\Recent))"));
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (FLAGS (\\Seen \\Recent))"));
  r = c.cmd("c STORE 2 -FLAGS.SILENT (\\Seen)");
  EXPECT_THAT(r, Not(HasSubstr("FETCH")));
  r = c.cmd("d UID STORE 3 +FLAGS (\\Answered)");
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (FLAGS (\\Answered \\Recent) UID 3)"));
  r = c.cmd("e STORE 1 +FLAGS (\\Bogus)");
  EXPECT_THAT(r, HasSubstr("e BAD"));
  r = c.cmd("f FETCH 1:3 FLAGS");
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (FLAGS (\\Recent))"));
}

TEST_F(MessageTest, SearchKeys) {
  Client& c = selected();
  c.cmd("a STORE 2 +FLAGS (\\Flagged)");
  EXPECT_THAT(c.cmd("b SEARCH ALL"), HasSubstr("* SEARCH 1 2 3\r\n"));
  EXPECT_THAT(c.cmd("c SEARCH FLAGGED"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("d SEARCH NOT FLAGGED"), HasSubstr("* SEARCH 1 3\r\n"));
  EXPECT_THAT(c.cmd("e SEARCH OR 1 3"), HasSubstr("* SEARCH 1 3\r\n"));
  EXPECT_THAT(c.cmd("f UID SEARCH 2:*"), HasSubstr("* SEARCH 2 3\r\n"));
  EXPECT_THAT(c.cmd("g SEARCH SUBJECT hello"), HasSubstr("* SEARCH 1 3\r\n"));
  EXPECT_THAT(c.cmd("h SEARCH CHARSET UTF-8 SUBJECT \"gr\xc3\xbc\""), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("i SEARCH FROM carol"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("j SEARCH BODY cherry"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("k SEARCH TEXT banana"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("l SEARCH HEADER Message-ID <1@example.com>"), HasSubstr("* SEARCH 1 3\r\n"));
  EXPECT_THAT(c.cmd("m SEARCH SENTBEFORE 1-Jan-2000"), HasSubstr("* SEARCH 1 3\r\n"));
  EXPECT_THAT(c.cmd("n SEARCH SENTSINCE 1-Jan-2000"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("o SEARCH LARGER 250"), HasSubstr("* SEARCH 2\r\n"));
  EXPECT_THAT(c.cmd("p SEARCH RECENT UNSEEN"), HasSubstr("* SEARCH 1 2 3\r\n"));
  EXPECT_THAT(c.cmd("q SEARCH SINCE 1-Jan-2000"), HasSubstr("* SEARCH 1 2 3\r\n"));
  EXPECT_THAT(c.cmd("r SEARCH CHARSET KOI8-R ALL"), HasSubstr("r NO [BADCHARSET"));
  EXPECT_THAT(c.cmd("s SEARCH NOSUCHKEY"), HasSubstr("s BAD"));
}

TEST_F(MessageTest, CopyAndMoveReportCopyUid) {
  Client& c = selected();
  c.cmd("a CREATE Archive");
  std::string r = c.cmd("b COPY 1:2 Archive");
  EXPECT_THAT(r, HasSubstr("b OK [COPYUID "));
  EXPECT_THAT(r, HasSubstr(" 1:2 1:2] Copy completed"));
  EXPECT_THAT(c.cmd("c COPY 1 Nosuch"), HasSubstr("c NO [TRYCREATE]"));
  r = c.cmd("d MOVE 2 Archive");
  EXPECT_THAT(r, HasSubstr("* OK [COPYUID "));
  EXPECT_THAT(r, HasSubstr(" 2 3] Moved"));
  EXPECT_THAT(r, HasSubstr("* 2 EXPUNGE"));
  EXPECT_THAT(r, HasSubstr("d OK"));
  r = c.cmd("e UID MOVE 3 Archive");
  EXPECT_THAT(r, HasSubstr("* 2 EXPUNGE"));
  r = c.cmd("f STATUS Archive (MESSAGES)");
  EXPECT_THAT(r, HasSubstr("MESSAGES 4"));
}

TEST_F(MessageTest, ExpungeUidExpungeAndClose) {
  Client& c = selected();
  c.cmd("a STORE 1:3 +FLAGS.SILENT (\\Deleted)");
  std::string r = c.cmd("b UID EXPUNGE 2");
  EXPECT_THAT(r, HasSubstr("* 2 EXPUNGE\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("* 1 EXPUNGE")));
  r = c.cmd("c EXPUNGE");
  EXPECT_THAT(r, HasSubstr("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"));
  EXPECT_THAT(r, HasSubstr("c OK"));
  deliver("alice", kPlain);
  r = c.cmd("d NOOP");
  EXPECT_THAT(r, HasSubstr("* 1 EXISTS"));
  c.cmd("e STORE 1 +FLAGS (\\Deleted)");
  r = c.cmd("f CLOSE");
  EXPECT_THAT(r, Not(HasSubstr("EXPUNGE")));
  EXPECT_THAT(r, HasSubstr("f OK"));
  EXPECT_THAT(c.cmd("g STATUS INBOX (MESSAGES)"), HasSubstr("MESSAGES 0"));
  EXPECT_THAT(c.cmd("h FETCH 1 FLAGS"), HasSubstr("h BAD"));
}

TEST_F(MessageTest, UnselectKeepsDeletedMessages) {
  Client& c = selected();
  c.cmd("a STORE 1 +FLAGS (\\Deleted)");
  EXPECT_THAT(c.cmd("b UNSELECT"), HasSubstr("b OK"));
  EXPECT_THAT(c.cmd("c STATUS INBOX (MESSAGES)"), HasSubstr("MESSAGES 3"));
}

TEST_F(MessageTest, ReadOnlyMailboxRefusesChanges) {
  Client& c = connect();
  c.login();
  c.cmd("a EXAMINE INBOX");
  EXPECT_THAT(c.cmd("b STORE 1 +FLAGS (\\Seen)"), HasSubstr("b NO"));
  EXPECT_THAT(c.cmd("c EXPUNGE"), HasSubstr("c NO"));
  EXPECT_THAT(c.cmd("d MOVE 1 INBOX"), HasSubstr("d NO"));
}

TEST_F(MessageTest, LargeFetchStopsAtHighWaterAndResumes) {
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 600 * 1024) big += std::string(98, 'x') + "\r\n";
  deliver("alice", big);
  Client& c = connect();
  c.login();
  c.cmd("a SELECT INBOX");
  c.sink->take();
  // Pretend the peer is not reading: everything we send stays queued.
  c.sink->queued = proto::kOutputHighWater + 1;
  c.session->on_data("b FETCH 4 BODY.PEEK[]\r\nc NOOP\r\n");
  settle();
  std::size_t sent = c.sink->output.size();
  EXPECT_LT(sent, big.size());
  EXPECT_EQ(c.sink->output.find("b OK"), std::string::npos);
  EXPECT_TRUE(c.sink->paused);
  c.sink->queued = 0;
  for (int i = 0; i < 100 && !has_tagged(c.sink->output, "c"); ++i) {
    c.session->on_writable();
    settle();
  }
  std::string r = c.sink->take();
  EXPECT_THAT(r, HasSubstr("BODY[] {" + std::to_string(big.size()) + "}\r\n"));
  EXPECT_THAT(r, HasSubstr(big + ")\r\nb OK"));
  EXPECT_THAT(r, HasSubstr("c OK"));
}

// A FETCH that streams reuses its batch buffer from batch to batch (a speed matter, measured
// by the benchmarks), but holds none while it waits for a client that does not read, nor
// after the command: a stalled or idle client costs the connection's queue only.
TEST_F(MessageTest, FetchHoldsNoBatchBufferWhileWaitingOrAfterwards) {
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 600 * 1024) big += std::string(98, 'y') + "\r\n";
  deliver("alice", big);
  deliver("alice", big);
  Client& c = connect();
  c.login();
  c.cmd("a SELECT INBOX");
  c.sink->take();
  EXPECT_LE(c.session->held_output_bytes(), 4096u);
  c.sink->model_queue = true;  // the peer reads only when the test drains the queue
  c.session->on_data("b FETCH 4:5 BODY.PEEK[]\r\n");
  settle();
  ASSERT_FALSE(has_tagged(c.sink->output, "b"));
  ASSERT_GT(c.sink->queued, proto::kOutputHighWater) << "stopped by back-pressure";
  EXPECT_LE(c.session->held_output_bytes(), 4096u) << "while waiting for the client";
  for (int i = 0; i < 100 && !has_tagged(c.sink->output, "b"); ++i) {
    c.sink->queued = 0;
    c.session->on_writable();
    settle();
    if (!has_tagged(c.sink->output, "b")) {
      EXPECT_LE(c.session->held_output_bytes(), 4096u) << "round " << i;
    }
  }
  std::string r = c.sink->take();
  EXPECT_THAT(r, HasSubstr(big + ")\r\n* 5 FETCH"));
  EXPECT_THAT(r, HasSubstr(big + ")\r\nb OK"));
  EXPECT_LE(c.session->held_output_bytes(), 4096u) << "after the command";
}

// Large literals go to the transport's body pump (SessionSink::offload_body) when it takes
// them. Whatever the pump does (sends all, stops at a full socket after any number of
// octets, stops because the source met an uncached block), the client gets exactly the
// bytes the loop alone would send: LF files converted, '.' lines untouched, the literal
// resumed at the right octet, messages over the per-job limit handed over in parts.
TEST_F(MessageTest, FetchThroughTheBodyPumpSendsTheSameBytesWhereverItStops) {
  auto lf_message = [](std::size_t size, char fill) {
    std::string m = "Subject: lf " + std::string(1, fill) + "\n\n";
    for (int i = 0; m.size() < size; ++i)
      m += (i % 7 == 0 ? "." : "") + std::string(60 + i % 37, fill) + "\n";
    return m;
  };
  deliver("alice", lf_message(100 * 1024, 'p'));
  deliver("alice", lf_message(700 * 1024, 'q'));
  deliver("alice", lf_message(2600 * 1024, 'r'));  // more than one hand-over
  deliver("alice", lf_message(3 * 1024, 's'));
  auto seven = [&]() -> Client& {
    Client& c = connect();
    c.login();
    EXPECT_THAT(c.cmd("S SELECT INBOX"), HasSubstr("* 7 EXISTS"));
    return c;
  };
  Client& ref = seven();
  const std::string expected = ref.cmd("a FETCH 1:* BODY.PEEK[]");
  ASSERT_THAT(expected, HasSubstr("a OK"));

  struct Plan {
    std::uint64_t max;
    bool stopped;
  };
  const std::vector<std::vector<Plan>> plans = {
      {{UINT64_MAX, false}},                                // the pump sends everything
      {{50'000, false}, {1, false}, {123'457, false}},      // full sockets at odd octets
      {{70'000, true}, {UINT64_MAX, false}, {0, true}},     // sources that stop
  };
  for (std::size_t p = 0; p < plans.size(); ++p) {
    Client& c = seven();
    c.sink->offload = true;
    c.session->on_data("a FETCH 1:* BODY.PEEK[]\r\n");
    std::size_t step = 0;
    for (int i = 0; i < 10000 && !has_tagged(c.sink->output, "a"); ++i) {
      settle();
      const Plan& plan = plans[p][step++ % plans[p].size()];
      c.sink->pump(plan.max, plan.stopped);
      if (c.sink->queued > 0) {  // the pump met a "full socket": the client reads
        c.sink->queued = 0;
        c.session->on_writable();
      }
    }
    EXPECT_GE(c.sink->offloads, 3u) << "plan " << p;
    std::string got = c.sink->take();
    EXPECT_EQ(got.size(), expected.size()) << "plan " << p;
    EXPECT_TRUE(got == expected) << "plan " << p << ": bytes differ";
  }
}

TEST_F(MessageTest, NewKeywordIsAnnouncedBeforeAnyFetchShowsIt) {
  // imaptest "Keyword used without being in FLAGS": RFC 3501 §7.2.6 FLAGS and
  // PERMANENTFLAGS must list a keyword before a FETCH response carries it.
  Client& c = selected();
  std::string r = c.cmd("a STORE 1 +FLAGS ($hello)");
  auto flags = r.find("* FLAGS (");
  auto perm = r.find("* OK [PERMANENTFLAGS (");
  auto fetch = r.find("* 1 FETCH (FLAGS (");
  ASSERT_NE(flags, std::string::npos) << r;
  ASSERT_NE(perm, std::string::npos) << r;
  ASSERT_NE(fetch, std::string::npos) << r;
  EXPECT_LT(flags, fetch) << r;
  EXPECT_LT(perm, fetch) << r;
  EXPECT_THAT(r.substr(flags, fetch - flags), HasSubstr("$hello"));
  EXPECT_THAT(r, HasSubstr("a OK"));

  // A keyword introduced by another session: this session's FETCH announces it first.
  Client& o = connect();
  o.login();
  o.cmd("o1 SELECT INBOX");
  EXPECT_THAT(o.cmd("o2 STORE 2 +FLAGS.SILENT ($other)"), HasSubstr("o2 OK"));
  r = c.cmd("b FETCH 2 FLAGS");
  flags = r.find("* FLAGS (");
  fetch = r.find("* 2 FETCH (");
  ASSERT_NE(flags, std::string::npos) << r;
  ASSERT_NE(fetch, std::string::npos) << r;
  EXPECT_LT(flags, fetch) << r;
  EXPECT_THAT(r.substr(flags, fetch - flags), HasSubstr("$other"));
  // Announced once only.
  EXPECT_EQ(r.find("* FLAGS (", flags + 1), std::string::npos) << r;
}

// RFC 4731 ESEARCH: one ESEARCH response with the requested options; MIN/MAX/ALL left out
// when nothing matched, COUNT always; UID SEARCH adds the UID indicator.
TEST_F(MessageTest, EsearchResultOptions) {
  Client& c = selected();
  EXPECT_THAT(c.cmd("cap CAPABILITY"), HasSubstr(" ESEARCH SEARCHRES"));
  c.cmd("p STORE 2 +FLAGS (\\Seen)");
  std::string r = c.cmd("a SEARCH RETURN () ALL");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"a\") ALL 1:3\r\na OK"));
  EXPECT_THAT(r, Not(HasSubstr("* SEARCH")));
  r = c.cmd("b SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"b\") MIN 1 MAX 3 ALL 1,3 COUNT 2\r\n"));
  r = c.cmd("c UID SEARCH RETURN (COUNT) SEEN");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"c\") UID COUNT 1\r\n"));
  r = c.cmd("d UID SEARCH RETURN (MIN MAX ALL COUNT) 1000");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"d\") UID COUNT 0\r\nd OK"));
  r = c.cmd("e SEARCH RETURN (MIN) 1000");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"e\")\r\ne OK"));
  r = c.cmd("f SEARCH RETURN (ALL) BODY cherry");  // a content search goes through the job too
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"f\") ALL 2\r\n"));
  // Without RETURN the classic response is unchanged.
  EXPECT_THAT(c.cmd("g SEARCH UNSEEN"), HasSubstr("* SEARCH 1 3\r\ng OK"));
  EXPECT_THAT(c.cmd("h SEARCH RETURN (BOGUS) ALL"), HasSubstr("h BAD"));
}

// RFC 5182 SEARCHRES: RETURN (SAVE) stores the result ("$"), sends no ESEARCH by itself, and
// "$" then works in FETCH/STORE/COPY/SEARCH; expunged messages drop out of it; SELECT
// empties it; a failed SAVE search empties it.
TEST_F(MessageTest, SearchResSavedResult) {
  Client& c = selected();
  EXPECT_THAT(c.cmd("z FETCH $ FLAGS"), Not(HasSubstr("FETCH (")));  // empty at first
  std::string r = c.cmd("a SEARCH RETURN (SAVE) 2:3");
  EXPECT_THAT(r, Not(HasSubstr("ESEARCH")));
  EXPECT_THAT(r, Not(HasSubstr("* SEARCH")));
  EXPECT_THAT(r, HasSubstr("a OK"));
  r = c.cmd("b FETCH $ (UID)");
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (UID 2)"));
  EXPECT_THAT(r, HasSubstr("* 3 FETCH (UID 3)"));
  EXPECT_THAT(r, Not(HasSubstr("* 1 FETCH")));
  r = c.cmd("c UID STORE $ +FLAGS.SILENT (\\Deleted)");
  EXPECT_THAT(r, HasSubstr("c OK"));
  EXPECT_THAT(c.cmd("d SEARCH DELETED"), HasSubstr("* SEARCH 2 3\r\n"));
  EXPECT_THAT(c.cmd("e SEARCH NOT $"), HasSubstr("* SEARCH 1\r\n"));
  EXPECT_THAT(c.cmd("e2 UID SEARCH UID $"), HasSubstr("* SEARCH 2 3\r\n"));
  // MIN with SAVE saves only the minimum, and returns it.
  r = c.cmd("f SEARCH RETURN (SAVE MIN) DELETED");
  EXPECT_THAT(r, HasSubstr("* ESEARCH (TAG \"f\") MIN 2\r\n"));
  EXPECT_THAT(c.cmd("g UID SEARCH $"), HasSubstr("* SEARCH 2\r\n"));
  c.cmd("h0 CREATE Trash");
  EXPECT_THAT(c.cmd("h COPY $ Trash"), HasSubstr("h OK [COPYUID "));
  // Expunged messages leave the saved result.
  c.cmd("i SEARCH RETURN (SAVE) ALL");
  c.cmd("j EXPUNGE");
  r = c.cmd("k FETCH $ (UID)");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (UID 1)"));
  EXPECT_THAT(r, Not(HasSubstr("* 2 FETCH")));
  // A failed SAVE search empties it.
  EXPECT_THAT(c.cmd("l SEARCH RETURN (SAVE) CHARSET KOI8-R ALL"), HasSubstr("l NO [BADCHARSET"));
  EXPECT_THAT(c.cmd("m FETCH $ (UID)"), Not(HasSubstr("FETCH (")));
  // SELECT empties it too.
  c.cmd("n SEARCH RETURN (SAVE) ALL");
  c.cmd("o SELECT INBOX");
  EXPECT_THAT(c.cmd("q FETCH $ (UID)"), Not(HasSubstr("FETCH (")));
}

}  // namespace
}  // namespace mb::imap::test
