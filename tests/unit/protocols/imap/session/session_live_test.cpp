// File: tests/unit/protocols/imap/session/session_live_test.cpp
//
// Live state between sessions on one mailbox (RFC 3501 §5.2, §7.4.1, RFC 2177): appends,
// flag changes and expunges by one session reach the other at the allowed points, at once
// during IDLE, never as EXPUNGE during FETCH/STORE/SEARCH (UID forms may).
#include "tests/unit/protocols/imap/session/session_fixture.hpp"

#include <malloc.h>

#include "protocols/imap/session_impl.hpp"

#if defined(__SANITIZE_ADDRESS__)
// From ASan's allocator interface (the header is not installed with gcc here).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace mb::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kMsg = "Subject: live\r\n\r\nbody\r\n";

std::string append_cmd(std::string_view tag) {
  return std::string(tag) + " APPEND INBOX {" + std::to_string(kMsg.size()) + "+}\r\n" +
         std::string(kMsg) + "\r\n";
}

class LiveTest : public ImapSessionTest {
 protected:
  void SetUp() override {
    ImapSessionTest::SetUp();
    for (int i = 0; i < 3; ++i) deliver("alice", kMsg);
  }
  Client& open_inbox() {
    Client& c = connect();
    c.login();
    std::string r = c.cmd("S SELECT INBOX");
    EXPECT_THAT(r, HasSubstr("S OK"));
    return c;
  }
};

TEST_F(LiveTest, IdleReceivesAppendFlagsAndExpungeAtOnce) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  std::string r = a.feed("i IDLE\r\n", "+ idling");
  EXPECT_THAT(r, HasSubstr("+ idling"));

  b.raw(append_cmd("x1"), "x1");
  r = a.wait_for("EXISTS");
  EXPECT_THAT(r, HasSubstr("* 4 EXISTS"));

  b.cmd("x2 STORE 2 +FLAGS (\\Flagged)");
  r = a.wait_for("FETCH");
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (FLAGS (\\Flagged"));

  b.cmd("x3 STORE 1 +FLAGS.SILENT (\\Deleted)");
  a.wait_for("FETCH");
  b.cmd("x4 EXPUNGE");
  r = a.wait_for("EXPUNGE");
  EXPECT_THAT(r, HasSubstr("* 1 EXPUNGE"));

  r = a.feed("DONE\r\n", "i OK");
  EXPECT_THAT(r, HasSubstr("i OK"));
  // Sequence numbers moved: message 1 is now the old message 2.
  EXPECT_THAT(a.cmd("j FETCH 1 (UID FLAGS)"), HasSubstr("* 1 FETCH (UID 2 FLAGS (\\Flagged"));
}

TEST_F(LiveTest, NoUnsolicitedOutputOutsideCommands) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  a.sink->take();
  b.raw(append_cmd("x1"), "x1");
  b.cmd("x2 STORE 1 +FLAGS (\\Seen)");
  settle();
  EXPECT_EQ(a.sink->output, "");
  std::string r = a.cmd("n NOOP");
  EXPECT_THAT(r, HasSubstr("* 4 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (FLAGS (\\Seen"));
}

TEST_F(LiveTest, ExpungeDeferredDuringFetchStoreSearchButNotUidForms) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  b.cmd("x1 STORE 2 +FLAGS.SILENT (\\Deleted)");
  b.cmd("x2 EXPUNGE");
  settle();

  std::string r = a.cmd("f FETCH 1:3 FLAGS");
  EXPECT_THAT(r, Not(HasSubstr(" EXPUNGE\r\n")));
  // The expunged message cannot be fetched (RFC 2180 §4.1.2).
  EXPECT_THAT(r, HasSubstr("f NO [EXPUNGEISSUED]"));
  EXPECT_THAT(r, HasSubstr("* 1 FETCH"));
  EXPECT_THAT(r, HasSubstr("* 3 FETCH"));
  r = a.cmd("s STORE 1 +FLAGS (\\Answered)");
  EXPECT_THAT(r, Not(HasSubstr(" EXPUNGE\r\n")));
  // STORE on the message expunged by the other session succeeds and ignores it (RFC 2180
  // §4.2.1), as Dovecot does; imaptest counts a NO here as an error.
  r = a.cmd("s2 STORE 2 +FLAGS (\\Answered)");
  EXPECT_THAT(r, HasSubstr("s2 OK"));
  EXPECT_THAT(r, Not(HasSubstr(" EXPUNGE\r\n")));
  r = a.cmd("q SEARCH ALL");
  EXPECT_THAT(r, Not(HasSubstr(" EXPUNGE\r\n")));
  EXPECT_THAT(r, HasSubstr("* SEARCH 1 3"));
  r = a.cmd("u UID FETCH 1 FLAGS");
  EXPECT_THAT(r, HasSubstr("* 2 EXPUNGE"));
  r = a.cmd("v FETCH 2 UID");
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (UID 3)"));
}

TEST_F(LiveTest, NoopDeliversPendingExpunge) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  b.cmd("x1 STORE 1:2 +FLAGS.SILENT (\\Deleted)");
  b.cmd("x2 EXPUNGE");
  std::string r = a.cmd("n NOOP");
  EXPECT_THAT(r, HasSubstr("* 1 EXPUNGE\r\n* 1 EXPUNGE\r\n"));
  EXPECT_THAT(a.cmd("f FETCH 1 UID"), HasSubstr("* 1 FETCH (UID 3)"));
}

TEST_F(LiveTest, NewMailFromOutsideSeenOnNoopAndIdle) {
  Client& a = open_inbox();
  deliver("alice", kMsg);
  std::string r = a.cmd("n NOOP");
  EXPECT_THAT(r, HasSubstr("* 4 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 4 RECENT"));
  a.feed("i IDLE\r\n", "+ idling");
  deliver("alice", kMsg);
  r = a.wait_for("EXISTS");
  EXPECT_THAT(r, HasSubstr("* 5 EXISTS"));
  EXPECT_THAT(a.feed("DONE\r\n", "i OK"), HasSubstr("i OK"));
}

TEST_F(LiveTest, RecentBelongsToOneSession) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  a.sink->take();
  b.raw(append_cmd("x1"), "x1");
  std::string ra = a.cmd("n NOOP");
  std::string rb = b.cmd("m NOOP");
  // The appending session's own append is not recent for it only if another claimed it
  // first; exactly one of the two sees it as recent.
  bool a_recent = ra.find("* 4 RECENT") != std::string::npos;
  std::string fb = b.cmd("f FETCH 4 FLAGS");
  bool b_recent = fb.find("\\Recent") != std::string::npos;
  EXPECT_NE(a_recent, b_recent) << ra << rb << fb;
}

TEST_F(LiveTest, IdleWithoutDoneRejectsOtherLines) {
  Client& a = open_inbox();
  a.feed("i IDLE\r\n", "+ idling");
  std::string r = a.feed("x NOOP\r\n", "BAD");
  EXPECT_THAT(r, HasSubstr("BAD"));
  EXPECT_THAT(a.feed("done\r\n", "i OK"), HasSubstr("i OK"));
}

TEST_F(LiveTest, CloseOfOneSessionDoesNotDisturbTheOther) {
  Client& a = open_inbox();
  Client& b = open_inbox();
  b.cmd("x1 LOGOUT");
  b.session->on_closed();
  b.session->on_data(append_cmd("x2"));  // ignored: the session is closed
  settle();
  EXPECT_EQ(b.sink->output.find("x2 "), std::string::npos);
  EXPECT_THAT(a.cmd("n NOOP"), HasSubstr("n OK"));
}

// Heap in use by this process (ASan's allocator under the dev preset, glibc's otherwise).
std::size_t heap_in_use() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// Heap in use once pending store work (rescans, cache writes on the thread pool) is done:
// the reading that stays the same over two settled loop rounds.
std::size_t settled_heap(ImapSessionTest& t) {
  std::size_t last = heap_in_use();
  for (int i = 0; i < 40; ++i) {
    t.settle();
    std::size_t now = heap_in_use();
    if (now == last) return now;
    last = now;
  }
  return last;
}

// Memory budget (issue 5): an idle session in IDLE on a 1,000-message INBOX costs at most
// 10 KB of heap. The mailbox's shared state is paid by a session that only EXAMINEs (it
// claims no \Recent); the measured session SELECTs, so all 1,000 messages are \Recent for
// it. Was ~6 KB, 4 KB of it the UID list, now kept as runs of consecutive UIDs (uid_list.hpp:
// one run here); measured ~1.4 KB, asserted at 4 KB so that a per-message cost added anywhere
// (4 bytes x 1,000 messages: a second list, \Recent per message) shows.
TEST_F(ImapSessionTest, IdleSessionOnThousandMessagesStaysSmall) {
  for (int i = 0; i < 1000; ++i) deliver("alice", "Subject: m\r\n\r\nbody\r\n");
  Client& first = connect();
  first.login();
  std::string examined = first.cmd("E EXAMINE INBOX");
  EXPECT_THAT(examined, HasSubstr("* 1000 EXISTS"));
  // RFC 3501 §6.3.2: EXAMINE reports \Recent without claiming it.
  EXPECT_THAT(examined, HasSubstr("* 1000 RECENT"));
  first.feed("i IDLE\r\n", "+ idling");

  // Measured in two parts because a LOGIN releases ~90 KB the authenticator kept from the
  // previous login (a whole-run difference came out negative, clamped to 0, and asserted
  // nothing): the session as connected, then what SELECT and IDLE add once logged in.
  std::size_t before_connect = settled_heap(*this);
  Client& c = connect();
  std::size_t connected = settled_heap(*this);
  c.login();
  std::string().swap(c.sink->output);
  std::size_t logged_in = settled_heap(*this);
  std::string r = c.cmd("S SELECT INBOX");
  EXPECT_THAT(r, HasSubstr("* 1000 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 1000 RECENT"));
  c.feed("i IDLE\r\n", "+ idling");
  std::string().swap(c.sink->output);
  std::size_t idling = settled_heap(*this);
  ASSERT_GT(connected, before_connect);  // the measurement sees the session at all
  std::size_t heap = (connected - before_connect) + (idling > logged_in ? idling - logged_in : 0);
  std::printf("imap idle session: sizeof(ImapSession) %zu, heap %zu bytes (connected %zu, "
              "select+idle %zd)\n",
              sizeof(ImapSession), heap, connected - before_connect,
              static_cast<std::ptrdiff_t>(idling - logged_in));
  EXPECT_LE(heap, 4u * 1024u);
  EXPECT_THAT(c.feed("DONE\r\n", "i OK"), HasSubstr("i OK"));
  EXPECT_THAT(c.cmd("f FETCH 1000 FLAGS"), HasSubstr("* 1000 FETCH (FLAGS (\\Recent))"));
  EXPECT_THAT(c.cmd("g SEARCH RECENT 1:2"), HasSubstr("* SEARCH 1 2\r\n"));
  EXPECT_THAT(first.feed("DONE\r\n", "i OK"), HasSubstr("i OK"));
}

}  // namespace
}  // namespace mb::imap::test
