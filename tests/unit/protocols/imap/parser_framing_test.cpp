// File: tests/unit/protocols/imap/parser_framing_test.cpp
//
// Framing: lines, literals (synchronizing and LITERAL+), pipelining, byte-at-a-time and
// chunk-size sweeps (1..512) that must give identical events, continuation handling,
// AUTHENTICATE raw lines, IDLE DONE, STARTTLS input discard.
#include <gtest/gtest.h>

#include "parser_test_util.hpp"

namespace mb::imap::test {
namespace {

// A session-like transcript exercising every framing path; literals are accepted.
const std::string kTranscript =
    "a1 CAPABILITY\r\n"
    "a2 LOGIN {4}\r\nuser {6+}\r\nsecret\r\n"
    "a3 SELECT \"INBOX\"\r\n"
    "a4 APPEND Drafts (\\Seen $Forwarded) \" 1-Feb-2024 10:20:30 +0100\" {21}\r\n"
    "Subject: hi\r\n\r\nbody\r\n\r\n"
    "a5 UID FETCH 1:*,4:2 (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n"
    "a6 SEARCH CHARSET UTF-8 OR (FROM {3}\r\nbob SINCE 1-Jan-2020) NOT DELETED\r\n"
    "bogus\r\n"
    "a7 STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n"
    "a8 APPEND INBOX {5+}\r\nhello\r\n"
    "a9 IDLE\r\n"
    "a10 NOOP\n"
    "a11 LOGOUT\r\n";

std::vector<std::string> expected_transcript() { return run(kTranscript, 0); }

TEST(ImapParserFraming, TranscriptParsesAsExpected) {
  auto ev = expected_transcript();
  ASSERT_EQ(ev.size(), 15u);
  EXPECT_EQ(ev[0], "CMD a1 CAPABILITY");
  EXPECT_EQ(ev[1], "CONT a2 4");
  EXPECT_EQ(ev[2], "CMD a2 LOGIN user=user pass=secret");
  EXPECT_EQ(ev[3], "CMD a3 SELECT mbox=INBOX wire=INBOX");
  EXPECT_EQ(ev[4], "CONT a4 21 msg");
  EXPECT_EQ(ev[5],
            "CMD a4 APPEND mbox=Drafts flag=\\Seen flag=$Forwarded date=1706779230 size=21 "
            "msg=Subject: hi\r\n\r\nbody\r\n");
  EXPECT_EQ(ev[6].rfind("CMD a5 UID FETCH set=1:0,4:2 att=1[] att=10.peek[HEADER.FIELDS (From To)]<0.100>", 0), 0u)
      << ev[6];
  EXPECT_EQ(ev[7], "CONT a6 3");
  EXPECT_EQ(ev[8].rfind("CMD a6 SEARCH charset=UTF-8 ", 0), 0u) << ev[8];
  EXPECT_NE(ev[8].find("t=bob"), std::string::npos);
  EXPECT_EQ(ev[9].rfind("ERR tag=bogus kind=2", 0), 0u) << ev[9];
  EXPECT_EQ(ev[10], "CMD a7 STORE set=1:3 mode=1 silent flag=\\Deleted");
  EXPECT_EQ(ev[11], "CMD a8 APPEND mbox=INBOX size=5 msg=hello");
  EXPECT_EQ(ev[12], "CMD a9 IDLE");
  EXPECT_EQ(ev[13], "CMD a10 NOOP");
  EXPECT_EQ(ev[14], "CMD a11 LOGOUT");
}

TEST(ImapParserFraming, ByteAtATimeIsIdentical) {
  EXPECT_EQ(run(kTranscript, 1), expected_transcript());
}

TEST(ImapParserFraming, EveryChunkSizeFrom1To512IsIdentical) {
  const auto want = expected_transcript();
  for (std::size_t chunk = 1; chunk <= 512; ++chunk)
    ASSERT_EQ(run(kTranscript, chunk), want) << "chunk size " << chunk;
}

TEST(ImapParserFraming, PipelinedCommandsInOneFeed) {
  auto ev = run("a NOOP\r\nb NOOP\r\nc CHECK\r\n");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2], "CMD c CHECK");
}

TEST(ImapParserFraming, NeedMoreUntilLineEnds) {
  Parser p;
  p.feed("a NOO");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  p.feed("P\r");
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  p.feed("\n");
  EXPECT_TRUE(std::holds_alternative<Command>(p.next()));
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(ImapParserFraming, ContinuationComesBeforeAnyLiteralByte) {
  Parser p;
  p.feed("t APPEND INBOX {5}\r\nhel");  // an eager client: bytes after {5} already here
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<NeedContinuation>(ev));
  const auto& nc = std::get<NeedContinuation>(ev);
  EXPECT_EQ(nc.tag, "t");
  EXPECT_EQ(nc.command, CommandName::append);
  EXPECT_EQ(nc.size, 5u);
  EXPECT_TRUE(nc.append_message);
  EXPECT_EQ(p.buffered(), 3u);  // "hel" not consumed yet
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  p.feed("lo\r\n");
  ParseEvent cmd = p.next();
  ASSERT_TRUE(std::holds_alternative<Command>(cmd));
  EXPECT_EQ(std::get<Command>(cmd).get<AppendArgs>().message, "hello");
}

TEST(ImapParserFraming, RejectedLiteralDropsCommandAndResumes) {
  Parser p;
  p.feed("t APPEND INBOX {5}\r\n");
  ASSERT_TRUE(std::holds_alternative<NeedContinuation>(p.next()));
  p.reject_literal();
  p.feed("u NOOP\r\n");
  EXPECT_EQ(describe(p.next()), "CMD u NOOP");
}

TEST(ImapParserFraming, MailboxLiteralInAppendUsesSmallLimit) {
  auto ev = run("t APPEND {5}\r\nDraft {3}\r\nabc\r\n");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0], "CONT t 5");
  EXPECT_EQ(ev[1], "CONT t 3 msg");
  EXPECT_EQ(ev[2], "CMD t APPEND mbox=Draft size=3 msg=abc");
}

TEST(ImapParserFraming, LiteralMayContainAnyOctetIncludingNulAndCrlf) {
  std::string msg("a\0b\r\nc\xff", 7);
  Parser p;
  auto ev = run(p, "t APPEND INBOX {7+}\r\n" + msg + "\r\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], "CMD t APPEND mbox=INBOX size=7 msg=" + msg);
}

TEST(ImapParserFraming, ZeroLengthLiterals) {
  auto ev = run("t LOGIN {0}\r\n {0+}\r\n\r\n");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1], "CMD t LOGIN user= pass=");
}

TEST(ImapParserFraming, BareLfAccepted) {
  EXPECT_EQ(run("a NOOP\n"), std::vector<std::string>{"CMD a NOOP"});
}

TEST(ImapParserFraming, AuthenticateRawLines) {
  Parser p;
  p.feed("a AUTHENTICATE LOGIN\r\n");
  EXPECT_EQ(describe(p.next()), "CMD a AUTHENTICATE mech=LOGIN ir=<none>");
  p.expect_raw_line();
  p.feed("dXNlcg==\r\n");
  EXPECT_EQ(describe(p.next()), "RAW dXNlcg==");
  p.expect_raw_line();
  p.feed("*\r\nb NOOP\r\n");  // "*" cancels (RFC 3501 §6.2.2); the session decides
  EXPECT_EQ(describe(p.next()), "RAW *");
  EXPECT_EQ(describe(p.next()), "CMD b NOOP");
}

TEST(ImapParserFraming, IdleDoneAndNotDone) {
  Parser p;
  p.feed("a IDLE\r\n");
  EXPECT_EQ(describe(p.next()), "CMD a IDLE");
  p.expect_done();
  p.feed("done\r\n");
  EXPECT_EQ(describe(p.next()), "DONE");
  p.feed("b IDLE\r\n");
  EXPECT_EQ(describe(p.next()), "CMD b IDLE");
  p.expect_done();
  p.feed("c NOOP\r\nd NOOP\r\n");
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev));
  EXPECT_EQ(std::get<ParseError>(ev).kind, ParseErrorKind::expected_done);
  EXPECT_FALSE(std::get<ParseError>(ev).fatal);
  EXPECT_EQ(describe(p.next()), "CMD d NOOP");
}

TEST(ImapParserFraming, DiscardInputAfterStarttls) {
  Parser p;
  p.feed("a STARTTLS\r\nb LOGIN injected x\r\n");
  EXPECT_EQ(describe(p.next()), "CMD a STARTTLS");
  p.discard_input();  // RFC 3501 §6.2.1: plaintext injection
  EXPECT_EQ(p.buffered(), 0u);
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  p.feed("c NOOP\r\n");
  EXPECT_EQ(describe(p.next()), "CMD c NOOP");
}

TEST(ImapParserFraming, LargeAppendIsReadIntoOneString) {
  const std::size_t n = 3 * 1024 * 1024;
  std::string msg(n, 'x');
  Parser p;
  p.feed("t APPEND INBOX {" + std::to_string(n) + "}\r\n");
  ASSERT_TRUE(std::holds_alternative<NeedContinuation>(p.next()));
  for (std::size_t off = 0; off < n; off += 65536) {
    p.feed(std::string_view(msg).substr(off, 65536));
    ASSERT_TRUE(std::holds_alternative<NeedMore>(p.next()));
    EXPECT_LE(p.buffered(), 65536u);  // input is moved on into the message, not kept
  }
  p.feed("\r\n");
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<Command>(ev));
  const auto& a = std::get<Command>(ev).get<AppendArgs>();
  EXPECT_EQ(a.size, n);
  EXPECT_EQ(a.message.size(), n);
  EXPECT_LT(a.message.capacity(), n + n / 2);  // reserved to size, not grown by doubling
  EXPECT_FALSE(a.non_sync);
}

// MULTIAPPEND (RFC 3502): several messages, each with its own flags and date, every one
// announced as an APPEND message literal (continuation "msg"), split at any byte.
TEST(ImapParserFraming, MultiAppendMessages) {
  const std::string input =
      "t APPEND Drafts (\\Seen) {3}\r\none (\\Draft $Work) \"17-Jul-1996 02:44:25 -0700\" {3}\r\ntwo"
      " {5+}\r\nthree\r\n";
  for (std::size_t chunk : {0u, 1u, 7u}) {
    Parser p;
    std::vector<std::string> ev = run(p, input, chunk);
    ASSERT_EQ(ev.size(), 3u) << chunk;
    EXPECT_EQ(ev[0], "CONT t 3 msg");
    EXPECT_EQ(ev[1], "CONT t 3 msg");
  }
  Command c = one(input);
  const auto& a = c.get<AppendArgs>();
  EXPECT_EQ(a.message, "one");
  EXPECT_EQ(a.flags, std::vector<std::string>{"\\Seen"});
  ASSERT_EQ(a.more.size(), 2u);
  EXPECT_EQ(a.more[0].message, "two");
  EXPECT_EQ(a.more[0].flags, (std::vector<std::string>{"\\Draft", "$Work"}));
  ASSERT_TRUE(a.more[0].date.has_value());
  EXPECT_EQ(a.more[0].date->to_unix(), 837596665);
  EXPECT_EQ(a.more[1].message, "three");
  EXPECT_TRUE(a.more[1].flags.empty());
  EXPECT_EQ(one("t APPEND x {1}\r\na\r\n").get<AppendArgs>().more.size(), 0u);
  EXPECT_EQ(error_of("t APPEND x {1}\r\na (\\Seen)\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("t APPEND x {1}\r\na \r\n").kind, ParseErrorKind::syntax);
}

// The messages of one APPEND share max_append_literal, and their count is capped.
TEST(ImapParserFraming, MultiAppendLimits) {
  ParserLimits limits;
  limits.max_append_literal = 10;
  EXPECT_EQ(run("t APPEND x {6}\r\nabcdef {4}\r\nabcd\r\n", 0, limits),
            (std::vector<std::string>{"CONT t 6 msg", "CONT t 4 msg",
                                      "CMD t APPEND mbox=x size=6 msg=abcdef more=abcd"}));
  ParseError e = error_of("t APPEND x {6}\r\nabcdef {5}\r\n", limits);
  EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big);
  EXPECT_FALSE(e.fatal);  // synchronizing: the client sends nothing more
  e = error_of("t APPEND x {6}\r\nabcdef {5+}\r\nabcde\r\n", limits);
  EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big);
  EXPECT_TRUE(e.fatal);
  std::string many = "t APPEND x";
  for (std::size_t i = 0; i <= kMaxAppendMessages; ++i) many += " {1+}\r\na";
  many += "\r\n";
  EXPECT_EQ(error_of(many).kind, ParseErrorKind::too_many);
}

}  // namespace
}  // namespace mb::imap::test
