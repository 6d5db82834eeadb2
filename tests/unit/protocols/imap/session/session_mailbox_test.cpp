// File: tests/unit/protocols/imap/session/session_mailbox_test.cpp
//
// Authenticated state: SELECT/EXAMINE, CREATE/DELETE/RENAME, SUBSCRIBE/LSUB, LIST with
// wildcards and attributes, STATUS, APPEND (APPENDUID, TRYCREATE), bad mailbox names.
#include "tests/unit/protocols/imap/session/session_fixture.hpp"

namespace mb::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kMessage =
    "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\n"
    "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.com>\r\n\r\nHello world\r\n";

std::string append_cmd(std::string_view tag, std::string_view mailbox, std::string_view msg,
                       std::string_view flags = "") {
  std::string s(tag);
  s += " APPEND ";
  s += mailbox;
  if (!flags.empty()) {
    s += " (";
    s += flags;
    s += ")";
  }
  s += " {" + std::to_string(msg.size()) + "+}\r\n";
  s += msg;
  s += "\r\n";
  return s;
}

TEST_F(ImapSessionTest, SelectEmptyInboxReportsEverything) {
  Client& c = connect();
  c.login();
  std::string r = c.cmd("a SELECT INBOX");
  EXPECT_THAT(r, HasSubstr("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"));
  EXPECT_THAT(r, HasSubstr("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]"));
  EXPECT_THAT(r, HasSubstr("* 0 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 0 RECENT"));
  EXPECT_THAT(r, HasSubstr("* OK [UIDVALIDITY "));
  EXPECT_THAT(r, HasSubstr("* OK [UIDNEXT 1]"));
  EXPECT_THAT(r, HasSubstr("a OK [READ-WRITE]"));
}

TEST_F(ImapSessionTest, SelectSeesDeliveredMailAsRecentAndUnseen) {
  deliver("alice", kMessage);
  deliver("alice", kMessage);
  Client& c = connect();
  c.login();
  std::string r = c.cmd("a SELECT inbox");
  EXPECT_THAT(r, HasSubstr("* 2 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 2 RECENT"));
  EXPECT_THAT(r, HasSubstr("* OK [UNSEEN 1]"));
  EXPECT_THAT(r, HasSubstr("* OK [UIDNEXT 3]"));
  // A second session does not get \Recent for the same messages (RFC 3501 §2.3.2).
  Client& d = connect();
  d.login();
  r = d.cmd("b EXAMINE INBOX");
  EXPECT_THAT(r, HasSubstr("* 2 EXISTS"));
  EXPECT_THAT(r, HasSubstr("* 0 RECENT"));
  EXPECT_THAT(r, HasSubstr("* OK [PERMANENTFLAGS ()]"));
  EXPECT_THAT(r, HasSubstr("b OK [READ-ONLY]"));
}

TEST_F(ImapSessionTest, SelectMissingMailboxFailsAndLeavesSelectedState) {
  Client& c = connect();
  c.login();
  c.cmd("a SELECT INBOX");
  std::string r = c.cmd("b SELECT nosuch");
  EXPECT_THAT(r, HasSubstr("b NO [NONEXISTENT]"));
  EXPECT_THAT(c.cmd("c FETCH 1 FLAGS"), HasSubstr("c BAD"));
}

TEST_F(ImapSessionTest, CreateListDeleteRename) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a CREATE Work/Projects"), HasSubstr("a OK"));
  EXPECT_THAT(c.cmd("b CREATE Work/Projects"), HasSubstr("b NO [ALREADYEXISTS]"));
  EXPECT_THAT(c.cmd("c CREATE Sent"), HasSubstr("c OK"));
  std::string r = c.cmd("d LIST \"\" *");
  EXPECT_THAT(r, HasSubstr("* LIST (\\HasNoChildren) \"/\" INBOX"));
  EXPECT_THAT(r, HasSubstr("* LIST (\\HasChildren) \"/\" Work"));
  EXPECT_THAT(r, HasSubstr("* LIST (\\HasNoChildren) \"/\" Work/Projects"));
  EXPECT_THAT(r, HasSubstr("\\Sent) \"/\" Sent"));
  r = c.cmd("e LIST \"\" %");
  EXPECT_THAT(r, HasSubstr("Work\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("Work/Projects")));
  r = c.cmd("f LIST Work/ %");
  EXPECT_THAT(r, HasSubstr("Work/Projects"));
  r = c.cmd("g LIST \"\" \"\"");
  EXPECT_THAT(r, HasSubstr("* LIST (\\Noselect) \"/\" \"\""));
  EXPECT_THAT(c.cmd("h RENAME Work/Projects Work/Done"), HasSubstr("h OK"));
  r = c.cmd("i LIST \"\" Work/*");
  EXPECT_THAT(r, HasSubstr("Work/Done"));
  EXPECT_THAT(r, Not(HasSubstr("Work/Projects")));
  EXPECT_THAT(c.cmd("j DELETE Work/Done"), HasSubstr("j OK"));
  EXPECT_THAT(c.cmd("k DELETE Work/Done"), HasSubstr("k NO [NONEXISTENT]"));
  EXPECT_THAT(c.cmd("l DELETE INBOX"), HasSubstr("l NO"));
}

TEST_F(ImapSessionTest, NonAsciiMailboxNamesRoundTripInModifiedUtf7) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a CREATE \"Entw&APw-rfe\""), HasSubstr("a OK"));
  EXPECT_THAT(c.cmd("b LIST \"\" Entw*"), HasSubstr("Entw&APw-rfe"));
  EXPECT_THAT(c.cmd("c SELECT \"Entw&APw-rfe\""), HasSubstr("c OK"));
  EXPECT_THAT(c.cmd("d CREATE \"bad&Jjo\""), HasSubstr("d BAD"));
  EXPECT_THAT(c.cmd("e CREATE \"caf\xc3\xa9\""), HasSubstr("e BAD"));
}

TEST_F(ImapSessionTest, MailboxNamesThatEscapeTheRootAreRefused) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a CREATE ../../etc"), HasSubstr("a NO"));
  EXPECT_THAT(c.cmd("b SELECT ../alice"), HasSubstr("b NO"));
  EXPECT_THAT(c.cmd("c CREATE a/../../b"), HasSubstr("c NO"));
  EXPECT_THAT(c.cmd("d NOOP"), HasSubstr("d OK"));
}

TEST_F(ImapSessionTest, SubscribeAndLsub) {
  Client& c = connect();
  c.login();
  c.cmd("a CREATE Lists");
  EXPECT_THAT(c.cmd("b SUBSCRIBE Lists"), HasSubstr("b OK"));
  std::string r = c.cmd("c LSUB \"\" *");
  EXPECT_THAT(r, HasSubstr("* LSUB () \"/\" Lists"));
  EXPECT_THAT(c.cmd("d UNSUBSCRIBE Lists"), HasSubstr("d OK"));
  r = c.cmd("e LSUB \"\" *");
  EXPECT_THAT(r, Not(HasSubstr("Lists")));
}

TEST_F(ImapSessionTest, LsubPercentReturnsNoselectParentOfSubscribedChild) {
  // RFC 3501 §6.3.9 (imaptest "subscribe"): '%' stops at "par", whose child is subscribed.
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a CREATE par/child"), HasSubstr("a OK"));
  EXPECT_THAT(c.cmd("b SUBSCRIBE par/child"), HasSubstr("b OK"));
  std::string r = c.cmd("c LSUB \"\" %");
  EXPECT_THAT(r, HasSubstr("* LSUB (\\Noselect) \"/\" par\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("par/child")));
  EXPECT_THAT(r, HasSubstr("c OK"));
  r = c.cmd("d LSUB \"\" *");
  EXPECT_THAT(r, HasSubstr("* LSUB () \"/\" par/child"));
  EXPECT_THAT(r, Not(HasSubstr("\\Noselect")));
  // A subscribed parent is listed as itself, once.
  EXPECT_THAT(c.cmd("e SUBSCRIBE par"), HasSubstr("e OK"));
  r = c.cmd("f LSUB \"\" %");
  EXPECT_THAT(r, HasSubstr("* LSUB () \"/\" par\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("\\Noselect")));
}

TEST_F(ImapSessionTest, StatusCountsMessages) {
  deliver("alice", kMessage);
  Client& c = connect();
  c.login();
  std::string r = c.cmd("a STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY RECENT)");
  EXPECT_THAT(r, HasSubstr("* STATUS INBOX (MESSAGES 1 UNSEEN 1 UIDNEXT 2 UIDVALIDITY "));
  EXPECT_THAT(r, HasSubstr("a OK"));
  EXPECT_THAT(c.cmd("b STATUS nosuch (MESSAGES)"), HasSubstr("b NO [NONEXISTENT]"));
}

TEST_F(ImapSessionTest, AppendReportsAppendUidAndTryCreate) {
  Client& c = connect();
  c.login();
  std::string r = c.raw(append_cmd("a", "INBOX", kMessage, "\\Seen $Work"), "a");
  EXPECT_THAT(r, HasSubstr("a OK [APPENDUID "));
  EXPECT_THAT(r, HasSubstr(" 1] Append completed"));
  r = c.raw(append_cmd("b", "Nosuch", kMessage), "b");
  EXPECT_THAT(r, HasSubstr("b NO [TRYCREATE]"));
  // Synchronizing literal with continuation.
  r = c.feed("c APPEND INBOX {" + std::to_string(kMessage.size()) + "}\r\n", "+ ");
  EXPECT_THAT(r, HasSubstr("+ "));
  r = c.feed(std::string(kMessage) + "\r\n", "c OK");
  EXPECT_THAT(r, HasSubstr(" 2] Append completed"));
  r = c.cmd("d SELECT INBOX");
  EXPECT_THAT(r, HasSubstr("* 2 EXISTS"));
  EXPECT_THAT(r, HasSubstr("$Work"));
}

TEST_F(ImapSessionTest, AppendToSelectedMailboxAnnouncesExists) {
  Client& c = connect();
  c.login();
  c.cmd("a SELECT INBOX");
  std::string r = c.raw(append_cmd("b", "INBOX", kMessage), "b");
  EXPECT_THAT(r, HasSubstr("* 1 EXISTS"));
}

TEST_F(ImapSessionTest, DotSeparatorPresentation) {
  Settings s;
  s.separator = '.';
  Client& c = connect(s);
  c.login();
  EXPECT_THAT(c.cmd("a CREATE Work.Projects"), HasSubstr("a OK"));
  std::string r = c.cmd("b LIST \"\" *");
  EXPECT_THAT(r, HasSubstr("\".\" Work.Projects"));
  EXPECT_THAT(c.cmd("c NAMESPACE"), HasSubstr("((\"\" \".\"))"));
  EXPECT_THAT(c.cmd("d CREATE a/b"), HasSubstr("d NO"));
}

// "1:*" and "*" mean "all messages" to clients even when there are none: every command that
// takes a set answers OK with no data in an empty mailbox, UID forms included; explicit
// sequence numbers that cannot exist stay BAD (RFC 9051 §9 seq-number, as Dovecot answers).
TEST_F(ImapSessionTest, StarSetsOnEmptyMailboxMatchNothing) {
  Client& c = connect();
  c.login();
  ASSERT_THAT(c.cmd("a CREATE Empty"), HasSubstr("a OK"));
  ASSERT_THAT(c.cmd("b SELECT Empty"), HasSubstr("* 0 EXISTS"));
  for (std::string_view line :
       {"f1 FETCH 1:* FLAGS", "f2 FETCH * (FLAGS UID)", "f3 UID FETCH 1:* FLAGS",
        "f4 UID FETCH * FLAGS", "f5 STORE 1:* +FLAGS (\\Seen)", "f6 UID STORE 1:* +FLAGS (\\Seen)",
        "f7 COPY 1:* INBOX", "f8 UID COPY 1:* INBOX", "f9 MOVE * INBOX", "f10 UID MOVE 1:* INBOX",
        "f11 UID EXPUNGE 1:*", "f12 FETCH 1:*,*:3 FLAGS"}) {
    std::string tag(line.substr(0, line.find(' ')));
    std::string r = c.cmd(line);
    EXPECT_THAT(r, HasSubstr(tag + " OK")) << line;
    EXPECT_THAT(r, Not(HasSubstr("FETCH ("))) << line;
  }
  std::string r = c.cmd("s1 SEARCH 1:*");
  EXPECT_THAT(r, HasSubstr("* SEARCH\r\ns1 OK"));
  r = c.cmd("s2 UID SEARCH UID *");
  EXPECT_THAT(r, HasSubstr("* SEARCH\r\ns2 OK"));
  EXPECT_THAT(c.cmd("g1 FETCH 1 FLAGS"), HasSubstr("g1 BAD"));
  EXPECT_THAT(c.cmd("g2 FETCH 2:3 FLAGS"), HasSubstr("g2 BAD"));
  EXPECT_THAT(c.cmd("g3 STORE 1,* +FLAGS (\\Seen)"), HasSubstr("g3 BAD"));
  EXPECT_THAT(c.cmd("g4 COPY 1 INBOX"), HasSubstr("g4 BAD"));
  // Once a message exists "1:*" means it, and "2" is still out of range.
  r = c.raw("n APPEND Empty {20+}\r\nSubject: x\r\n\r\nbody\r\n\r\n", "n");
  EXPECT_THAT(r, HasSubstr("* 1 EXISTS"));
  EXPECT_THAT(c.cmd("h1 FETCH 1:* UID"), HasSubstr("* 1 FETCH (UID 1)"));
  EXPECT_THAT(c.cmd("h2 FETCH 2 UID"), HasSubstr("h2 BAD"));
}

// imaptest "atoms": a LIST pattern that is not valid modified UTF-7 is matched as written
// (OK, nothing listed), while the same text as a mailbox name stays BAD (issue #5).
TEST_F(ImapSessionTest, ListPatternNotModifiedUtf7IsMatchedAsWritten) {
  Client& c = connect();
  c.login();
  std::string r = c.cmd("a LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*");
  EXPECT_THAT(r, HasSubstr("a OK"));
  EXPECT_THAT(r, Not(HasSubstr("* LIST")));
  EXPECT_THAT(c.cmd("b SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}"), HasSubstr("b NO"));
  EXPECT_THAT(c.cmd("c LIST \"\" \"caf\xc3\xa9*\""), HasSubstr("c BAD"));
}

// RFC 9051 §5.1.3 asks servers to check the modified UTF-7 of names being created; a name
// that is looked up and is not valid modified UTF-7 names no mailbox, so the command answers
// NO (as Dovecot does, imaptest "atoms"), while CREATE and RENAME's new name answer BAD, and
// 8-bit bytes are BAD everywhere.
TEST_F(ImapSessionTest, InvalidModifiedUtf7IsBadWhenCreatedAndNoWhenLookedUp) {
  deliver("alice", kMessage);
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("a SELECT INBOX"), HasSubstr("a OK"));
  std::string r = c.cmd("b SELECT \"bad&Jjo\"");
  EXPECT_THAT(r, HasSubstr("* OK [CLOSED]"));  // a failed SELECT deselects (RFC 3501 §6.3.1)
  EXPECT_THAT(r, HasSubstr("b NO "));
  EXPECT_THAT(c.cmd("c FETCH 1 FLAGS"), HasSubstr("c BAD"));
  EXPECT_THAT(c.cmd("d EXAMINE &AGE-"), HasSubstr("d NO "));
  EXPECT_THAT(c.cmd("e STATUS a&-& (MESSAGES)"), HasSubstr("e NO "));
  EXPECT_THAT(c.cmd("f DELETE bad&Jjo"), HasSubstr("f NO "));
  EXPECT_THAT(c.cmd("g SUBSCRIBE bad&Jjo"), HasSubstr("g NO "));
  EXPECT_THAT(c.cmd("h RENAME bad&Jjo Elsewhere"), HasSubstr("h NO "));
  EXPECT_THAT(c.cmd("i RENAME INBOX bad&Jjo"), HasSubstr("i BAD "));
  EXPECT_THAT(c.cmd("j CREATE bad&Jjo"), HasSubstr("j BAD "));
  EXPECT_THAT(c.cmd(append_cmd("k", "bad&Jjo", kMessage)), HasSubstr("k NO "));
  EXPECT_THAT(c.cmd("l SELECT INBOX"), HasSubstr("l OK"));
  EXPECT_THAT(c.cmd("m COPY 1 bad&Jjo"), HasSubstr("m NO "));
  EXPECT_THAT(c.cmd("n MOVE 1 bad&Jjo"), HasSubstr("n NO "));
  EXPECT_THAT(c.cmd("o SELECT \"caf\xc3\xa9\""), HasSubstr("o BAD "));
  // Nothing was created or moved by any of it.
  r = c.cmd("p LIST \"\" *");
  EXPECT_THAT(r, Not(HasSubstr("bad")));
  EXPECT_THAT(r, Not(HasSubstr("Elsewhere")));
  EXPECT_THAT(c.cmd("q STATUS INBOX (MESSAGES)"), HasSubstr("(MESSAGES 1)"));
}

// MULTIAPPEND (RFC 3502): all messages land, with their own flags, and APPENDUID names the
// UID set; when one fails (here the 27th new keyword exceeds the store's 26), the ones
// already appended are removed again: all or nothing.
TEST_F(ImapSessionTest, MultiAppendAllOrNothing) {
  Client& c = connect();
  c.login();
  EXPECT_THAT(c.cmd("cap CAPABILITY"), HasSubstr(" MULTIAPPEND"));
  ASSERT_THAT(c.cmd("a CREATE Box"), HasSubstr("a OK"));
  std::string r = c.raw(
      "b APPEND Box (\\Seen) {12+}\r\nSubject: 1\r\n (\\Flagged) {12+}\r\nSubject: 2\r\n"
      " {12+}\r\nSubject: 3\r\n\r\n", "b");
  EXPECT_THAT(r, HasSubstr("b OK [APPENDUID "));
  EXPECT_THAT(r, HasSubstr(" 1:3] Append completed"));
  EXPECT_THAT(c.cmd("c STATUS Box (MESSAGES)"), HasSubstr("(MESSAGES 3)"));
  c.cmd("d SELECT Box");
  r = c.cmd("e FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
  EXPECT_THAT(r, HasSubstr("* 1 FETCH (FLAGS (\\Seen \\Recent)"));
  EXPECT_THAT(r, HasSubstr("* 2 FETCH (FLAGS (\\Flagged \\Recent)"));
  EXPECT_THAT(r, HasSubstr("Subject: 3"));
  c.cmd("f UNSELECT");

  std::string keywords;
  for (int i = 0; i < 27; ++i) keywords += (i ? " k" : "k") + std::to_string(i);
  r = c.raw("g APPEND Box {12+}\r\nSubject: 4\r\n {12+}\r\nSubject: 5\r\n (" + keywords +
                ") {12+}\r\nSubject: 6\r\n\r\n",
            "g");
  EXPECT_THAT(r, HasSubstr("g NO [LIMIT]"));  // RFC 5530: a fixed limit, not quota
  EXPECT_THAT(r, Not(HasSubstr("APPENDUID")));
  EXPECT_THAT(c.cmd("h STATUS Box (MESSAGES)"), HasSubstr("(MESSAGES 3)"));
  // Into the selected mailbox: the session sees the new messages once, and after a failed
  // MULTIAPPEND nothing at all.
  c.cmd("i SELECT Box");
  r = c.raw("j APPEND Box {12+}\r\nSubject: 7\r\n {12+}\r\nSubject: 8\r\n\r\n", "j");
  EXPECT_THAT(r, HasSubstr("* 5 EXISTS"));
  EXPECT_THAT(r, HasSubstr("j OK [APPENDUID "));
  r = c.raw("k APPEND Box {12+}\r\nSubject: 9\r\n (" + keywords + ") {12+}\r\nSubject: 0\r\n\r\n",
            "k");
  EXPECT_THAT(r, HasSubstr("k NO"));
  EXPECT_THAT(r, Not(HasSubstr("EXISTS")));
  EXPECT_THAT(r, Not(HasSubstr("EXPUNGE")));
  EXPECT_THAT(c.cmd("l NOOP"), Not(HasSubstr("EXISTS")));
  EXPECT_THAT(c.cmd("m STATUS Box (MESSAGES)"), HasSubstr("(MESSAGES 5)"));
}

}  // namespace
}  // namespace mb::imap::test
