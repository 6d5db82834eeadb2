// File: tests/unit/protocols/imap/session/session_sort_test.cpp
//
// SORT (RFC 5256 §3): the base subject algorithm (§2.1) and SORT / UID SORT over a real
// Maildir: every criterion, REVERSE, several criteria, ties by sequence number, DATE falling
// back to the internal date, decoded RFC 2047 subjects, search keys and charset.
#include "protocols/imap/sort_keys.hpp"
#include "tests/unit/protocols/imap/session/session_fixture.hpp"

namespace mb::imap::test {
namespace {

using ::testing::HasSubstr;

TEST(ImapSortKeys, BaseSubject) {
  EXPECT_EQ(base_subject("Hello"), "HELLO");
  EXPECT_EQ(base_subject("Re: Hello"), "HELLO");
  EXPECT_EQ(base_subject("RE: re:Fwd: FW: hello"), "HELLO");
  EXPECT_EQ(base_subject("Re [list]: hello"), "HELLO");
  EXPECT_EQ(base_subject("[list] Re: hello (fwd)"), "HELLO");
  EXPECT_EQ(base_subject("hello (fwd) (FWD)  "), "HELLO");
  EXPECT_EQ(base_subject("[Fwd: Re: hello]"), "HELLO");
  EXPECT_EQ(base_subject("[list]"), "[LIST]");  // a blob alone stays (§2.1 step 5)
  EXPECT_EQ(base_subject("  a \t  b  "), "A B");
  EXPECT_EQ(base_subject("Rex: hello"), "REX: HELLO");
  EXPECT_EQ(base_subject(""), "");
  EXPECT_EQ(base_subject("Re:"), "");
}

TEST(ImapSortKeys, FirstMailboxAndDate) {
  EXPECT_EQ(first_mailbox("Zed <zed@x.org>, amy@y.org"), "ZED");
  EXPECT_EQ(first_mailbox("team: bob@x.org;"), "TEAM");  // the group name, as in ENVELOPE
  EXPECT_EQ(first_mailbox(""), "");
  EXPECT_EQ(sent_date("Mon, 7 Feb 1994 21:52:25 -0800"), 760686745);
  EXPECT_FALSE(sent_date("garbage").has_value());
}

std::string msg(std::string_view from, std::string_view to, std::string_view subject,
                std::string_view date, std::size_t body) {
  std::string m = "From: " + std::string(from) + "\r\nTo: " + std::string(to) +
                  "\r\nSubject: " + std::string(subject) + "\r\n";
  if (!date.empty()) m += "Date: " + std::string(date) + "\r\n";
  m += "\r\n" + std::string(body, 'x') + "\r\n";
  return m;
}

class SortTest : public ImapSessionTest {
 protected:
  void SetUp() override {
    ImapSessionTest::SetUp();
    // seq 1..4; subjects b, a, B, =?UTF-8?Q?=C3=A4?= (decoded, sorts after ASCII).
    deliver("alice", msg("carol@x.org", "zed@x.org", "Re: b", "Tue, 1 Mar 2022 10:00:00 +0000", 30),
            "1700000001.M1P1.test");
    deliver("alice", msg("Bob <bob@x.org>", "amy@x.org", "a", "Tue, 1 Mar 2022 09:00:00 -0200", 10),
            "1700000002.M2P1.test");
    deliver("alice", msg("alice@x.org", "amy@x.org", "[list] B (fwd)", "", 20),
            "1700000003.M3P1.test");
    deliver("alice", msg("dave@x.org", "bob@x.org", "=?UTF-8?Q?=C3=A4?=", "Mon, 28 Feb 2022 10:00:00 +0000", 40),
            "1700000004.M4P1.test");
  }
};

TEST_F(SortTest, CriteriaReverseTiesAndUid) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("cap CAPABILITY"), HasSubstr(" SORT"));
  c.cmd("s SELECT INBOX");
  // b and B tie on subject: sequence order decides (1 before 3).
  EXPECT_THAT(c.cmd("a SORT (SUBJECT) UTF-8 ALL"), HasSubstr("* SORT 2 1 3 4\r\na OK"));
  EXPECT_THAT(c.cmd("b SORT (REVERSE SUBJECT) UTF-8 ALL"), HasSubstr("* SORT 4 1 3 2\r\n"));
  EXPECT_THAT(c.cmd("c SORT (SUBJECT REVERSE SIZE) US-ASCII ALL"), HasSubstr("* SORT 2 1 3 4\r\n"));
  EXPECT_THAT(c.cmd("d SORT (SIZE) UTF-8 ALL"), HasSubstr("* SORT 3 2 1 4\r\n"));  // 83, 102, 122, 144 octets
  EXPECT_THAT(c.cmd("e SORT (FROM) UTF-8 ALL"), HasSubstr("* SORT 3 2 1 4\r\n"));
  EXPECT_THAT(c.cmd("f SORT (TO SIZE) UTF-8 ALL"), HasSubstr("* SORT 3 2 4 1\r\n"));
  // 09:00 -0200 is 11:00 UTC, after 10:00 UTC; message 3 has no Date: its internal date
  // (the delivery time: now) is used.
  EXPECT_THAT(c.cmd("g SORT (DATE) UTF-8 ALL"), HasSubstr("* SORT 4 1 2 3\r\n"));
  EXPECT_THAT(c.cmd("h SORT (ARRIVAL) UTF-8 ALL"), HasSubstr("h OK"));
  EXPECT_THAT(c.cmd("i SORT (CC REVERSE SIZE) UTF-8 ALL"), HasSubstr("* SORT 4 1 2 3\r\n"));
  EXPECT_THAT(c.cmd("j SORT (SIZE) UTF-8 LARGER 110"), HasSubstr("* SORT 1 4\r\n"));
  EXPECT_THAT(c.cmd("k UID SORT (REVERSE SIZE) UTF-8 2:4"), HasSubstr("* SORT 4 2 3\r\n"));
  EXPECT_THAT(c.cmd("l SORT (SIZE) KOI8-R ALL"), HasSubstr("l NO [BADCHARSET"));
  EXPECT_THAT(c.cmd("m SORT (SIZE) ALL"), HasSubstr("m BAD"));
  EXPECT_THAT(c.cmd("n SORT (BOGUS) UTF-8 ALL"), HasSubstr("n BAD"));
  EXPECT_THAT(c.cmd("o SORT () UTF-8 ALL"), HasSubstr("o BAD"));
  std::string many = "p SORT (";
  for (int i = 0; i < 17; ++i) many += i ? " SIZE" : "SIZE";
  EXPECT_THAT(c.cmd(many + ") UTF-8 ALL"), HasSubstr("p BAD"));
}

TEST_F(SortTest, NotInAuthenticatedState) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a SORT (SIZE) UTF-8 ALL"), HasSubstr("a BAD"));
}

// THREAD=ORDEREDSUBJECT (RFC 5256 §2.1): threads by base subject, each led by its earliest
// message, ordered by that message's sent date; "(a)", "(a b)", "(a (b)(c))".
TEST_F(SortTest, ThreadOrderedSubject) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("cap CAPABILITY"), HasSubstr(" THREAD=ORDEREDSUBJECT"));
  c.cmd("s SELECT INBOX");
  // Base subjects: 1 "B" (1 Mar 10:00Z), 2 "A" (11:00Z), 3 "B" (no Date: now), 4 "ä" (28 Feb).
  EXPECT_THAT(c.cmd("a THREAD ORDEREDSUBJECT UTF-8 ALL"),
              HasSubstr("* THREAD (4)(1 3)(2)\r\na OK"));
  EXPECT_THAT(c.cmd("b UID THREAD orderedsubject US-ASCII 1:3"),
              HasSubstr("* THREAD (1 3)(2)\r\n"));
  EXPECT_THAT(c.cmd("c THREAD ORDEREDSUBJECT UTF-8 LARGER 100000"), HasSubstr("* THREAD\r\nc OK"));
  // REFERENCES (RFC 5256 §2.2): no References headers here, so step 5 groups the roots by base
  // subject: 1 and 3 ("B", neither a reply) become children of a new dummy.
  EXPECT_THAT(c.cmd("cap2 CAPABILITY"), HasSubstr(" THREAD=REFERENCES"));
  EXPECT_THAT(c.cmd("d THREAD REFERENCES UTF-8 ALL"), HasSubstr("* THREAD (4)((1)(3))(2)\r\nd OK"));
  EXPECT_THAT(c.cmd("e THREAD ORDEREDSUBJECT ALL"), HasSubstr("e BAD"));
  // Three in one thread: the earliest is the parent of the others.
  std::string r = c.raw(
      "f APPEND INBOX {56+}\r\nSubject: Re: a\r\nDate: Wed, 1 Jan 2020 00:00:00 +0000\r\n\r\n\r\n",
      "f");
  EXPECT_THAT(r, HasSubstr("f OK"));
  c.raw("g APPEND INBOX {14+}\r\nSubject: a\r\n\r\n\r\n", "g");
  c.cmd("n NOOP");
  EXPECT_THAT(c.cmd("h THREAD ORDEREDSUBJECT UTF-8 ALL"),
              HasSubstr("* THREAD (5 (2)(6))(4)(1 3)\r\n"));
}

}  // namespace
}  // namespace mb::imap::test
