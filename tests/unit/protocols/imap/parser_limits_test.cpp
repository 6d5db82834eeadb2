// File: tests/unit/protocols/imap/parser_limits_test.cpp
//
// One test per limit (parser.hpp ParserLimits) and the recovery after each error:
// line length, literal size (APPEND and others, synchronizing and LITERAL+), command size,
// nesting, list and set lengths.
#include <gtest/gtest.h>

#include "parser_test_util.hpp"

namespace mb::imap::test {
namespace {

ParserLimits small() {
  ParserLimits l;
  l.max_line = 100;
  l.max_literal = 50;
  l.max_append_literal = 1000;
  l.max_command = 400;
  l.max_depth = 4;
  l.max_items = 20;
  return l;
}

TEST(ImapParserLimits, DefaultsMatchTheBrief) {
  ParserLimits l;
  EXPECT_EQ(l.max_line, 64u * 1024);
  EXPECT_EQ(l.max_literal, 64u * 1024);
  EXPECT_EQ(l.max_append_literal, 64u * 1024 * 1024);
}

TEST(ImapParserLimits, LineAtTheLimitIsAccepted) {
  std::string line = "a LOGIN u " + std::string(100 - 10, 'p');
  ASSERT_EQ(line.size(), 100u);
  auto ev = run(line + "\r\n", 7, small());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].rfind("CMD a LOGIN", 0), 0u);
}

TEST(ImapParserLimits, OverlongCompleteLineIsBadAndDropped) {
  std::string line = "a LOGIN u " + std::string(91, 'p');
  auto ev = run(line + "\r\nb NOOP\r\n", 0, small());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].rfind("ERR tag=a kind=3 ", 0), 0u) << ev[0];
  EXPECT_EQ(ev[1], "CMD b NOOP");
}

TEST(ImapParserLimits, OverlongLineIsReportedBeforeItEndsAndTheRestDiscarded) {
  Parser p(small());
  p.feed("a1 LOGIN " + std::string(150, 'x'));
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev)) << describe(ev);
  EXPECT_EQ(std::get<ParseError>(ev).kind, ParseErrorKind::line_too_long);
  EXPECT_EQ(std::get<ParseError>(ev).tag, "a1");
  EXPECT_FALSE(std::get<ParseError>(ev).fatal);
  EXPECT_EQ(p.buffered(), 0u);  // nothing kept
  for (int i = 0; i < 100; ++i) {
    p.feed(std::string(1000, 'y'));  // 100 KB more of the same line: nothing buffered
    ASSERT_TRUE(std::holds_alternative<NeedMore>(p.next()));
    ASSERT_EQ(p.buffered(), 0u);
  }
  p.feed("zz\r\nb NOOP\r\n");
  EXPECT_EQ(describe(p.next()), "CMD b NOOP");
}

TEST(ImapParserLimits, OverlongLineEndingInLiteralPlusSkipsTheLiteral) {
  auto ev = run("a LOGIN " + std::string(200, 'x') + " {5+}\r\nb NOO\r\nc NOOP\r\n", 1, small());
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].rfind("ERR tag=a kind=3", 0), 0u);
  EXPECT_EQ(ev[1], "CMD c NOOP");
}

TEST(ImapParserLimits, SyncLiteralTooBigIsRefusedBeforeContinuation) {
  Parser p(small());
  p.feed("a LOGIN {51}\r\n");
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev)) << describe(ev);
  const auto& e = std::get<ParseError>(ev);
  EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big);
  EXPECT_EQ(e.command, CommandName::login);
  EXPECT_EQ(e.literal_size, 51u);
  EXPECT_FALSE(e.fatal);  // the client sends nothing without "+"
  p.feed("b NOOP\r\n");
  EXPECT_EQ(describe(p.next()), "CMD b NOOP");
  EXPECT_EQ(run("a LOGIN {50}\r\n" + std::string(50, 'u') + " p\r\n", 3, small()).back().rfind("CMD a LOGIN", 0), 0u);
}

TEST(ImapParserLimits, AppendMessageHasItsOwnLimitAndAnswersTooBig) {
  auto ok = run("a APPEND INBOX {1000}\r\n" + std::string(1000, 'm') + "\r\n", 64, small());
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[0], "CONT a 1000 msg");
  ParseError e = error_of("a APPEND INBOX (\\Seen) {1001}\r\n", small());
  EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big);  // session: NO [TOOBIG]
  EXPECT_EQ(e.command, CommandName::append);
  EXPECT_EQ(e.literal_size, 1001u);
  EXPECT_FALSE(e.fatal);
  // The mailbox-name literal of APPEND is an ordinary literal.
  EXPECT_EQ(error_of("a APPEND {51}\r\n", small()).kind, ParseErrorKind::literal_too_big);
}

TEST(ImapParserLimits, LiteralPlusTooBigIsFatalAndDiscarded) {
  Parser p(small());
  p.feed("a APPEND INBOX {5000+}\r\nabc");
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev)) << describe(ev);
  const auto& e = std::get<ParseError>(ev);
  EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big);
  EXPECT_TRUE(e.fatal);
  EXPECT_EQ(e.literal_size, 5000u);
  EXPECT_EQ(p.discard_remaining(), 5000u);
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  EXPECT_EQ(p.discard_remaining(), 4997u);
  p.feed(std::string(4000, 'x'));
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  EXPECT_EQ(p.discard_remaining(), 997u);
  EXPECT_EQ(p.buffered(), 0u);
  p.feed("b NOOP\r\n");  // dead after a fatal error: nothing more is parsed
  EXPECT_TRUE(std::holds_alternative<NeedMore>(p.next()));
  EXPECT_EQ(error_of("a LOGIN {51+}\r\n", small()).fatal, true);
}

TEST(ImapParserLimits, AbsurdLiteralSizes) {
  for (const char* size : {"99999999999999999999999", "18446744073709551615", "67108865"}) {
    ParseError e = error_of(std::string("a APPEND INBOX {") + size + "}\r\n");
    EXPECT_EQ(e.kind, ParseErrorKind::literal_too_big) << size;
    EXPECT_FALSE(e.fatal);
  }
  EXPECT_TRUE(std::holds_alternative<NeedContinuation>(
      [] { Parser p; p.feed("a APPEND INBOX {67108864}\r\n"); return p.next(); }()));
}

TEST(ImapParserLimits, CommandSizeCountsLinesAndLiterals) {
  // 10 literals of 50 octets exceed max_command (400) though each is within max_literal.
  std::string cmd = "a SEARCH";
  std::string input;
  for (int i = 0; i < 10; ++i) {
    input += cmd + " TEXT {50+}\r\n" + std::string(50, 'q');
    cmd.clear();
  }
  input += "\r\nb NOOP\r\n";
  auto ev = run(input, 0, small());
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].rfind("ERR tag=a kind=4 fatal", 0), 0u) << ev[0];
}

TEST(ImapParserLimits, SyncCommandTooLongIsNotFatal) {
  // Synchronizing literals: the client waits for "+", so refusing the 7th keeps the stream in
  // step and the next command parses.
  std::string input = "a SEARCH TEXT {50}\r\n";
  for (int i = 0; i < 6; ++i) input += std::string(50, 'x') + " TEXT {50}\r\n";
  input += "b NOOP\r\n";
  auto ev = run(input, 0, small());
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[ev.size() - 2].rfind("ERR tag=a kind=4 lit=50", 0), 0u) << ev[ev.size() - 2];
  EXPECT_EQ(ev.back(), "CMD b NOOP");
}

TEST(ImapParserLimits, ListNestingAndLength) {
  EXPECT_EQ(error_of("a SEARCH ((((ALL))))\r\n", small()).kind, ParseErrorKind::too_deep);
  std::string flags;
  for (int i = 0; i < 21; ++i) flags += (i ? " " : "") + std::string("$k") + std::to_string(i);
  ParserLimits wide = small();
  wide.max_line = 1000;
  EXPECT_EQ(error_of("a STORE 1 +FLAGS (" + flags + ")\r\n", wide).kind, ParseErrorKind::too_many);
  std::string set = "1";
  for (int i = 2; i <= 21; ++i) set += "," + std::to_string(i);
  EXPECT_EQ(error_of("a FETCH " + set + " UID\r\n", wide).kind, ParseErrorKind::too_many);
  EXPECT_EQ(error_of("a FETCH 1 BODY[1.2.3.4.5]\r\n", small()).kind, ParseErrorKind::too_deep);
}

TEST(ImapParserLimits, RawLineAndDoneLimits) {
  Parser p(small());
  p.expect_raw_line();
  p.feed(std::string(300, 'A'));
  ParseEvent ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev));
  EXPECT_EQ(std::get<ParseError>(ev).kind, ParseErrorKind::line_too_long);
  p.feed("AAAA\r\nb NOOP\r\n");
  EXPECT_EQ(describe(p.next()), "CMD b NOOP");
  p.expect_done();
  p.feed(std::string(300, 'D'));
  ev = p.next();
  ASSERT_TRUE(std::holds_alternative<ParseError>(ev));
  EXPECT_EQ(std::get<ParseError>(ev).kind, ParseErrorKind::expected_done);
}

TEST(ImapParserLimits, EveryChunkSizeGivesTheSameErrors) {
  const std::string input = "a LOGIN " + std::string(150, 'x') + "\r\nb LOGIN {51}\r\nc APPEND x {2000}\r\n" +
                            "d FETCH 1 BODY[1.2.3.4.5]\r\ne LOGIN {3+}\r\nabc def\r\nf NOOP\r\n";
  const auto want = run(input, 0, small());
  ASSERT_EQ(want.size(), 6u);
  for (std::size_t chunk = 1; chunk <= 512; ++chunk) ASSERT_EQ(run(input, chunk, small()), want) << chunk;
}

}  // namespace
}  // namespace mb::imap::test
