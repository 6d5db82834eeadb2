// File: tests/unit/protocols/pop3/command_test.cpp
#include "protocols/pop3/command.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mb::pop3 {
namespace {

using Kind = LineReader::Event::Kind;

// Feeds `input` to a LineReader `chunk` octets at a time, as the session does (keeping the
// unconsumed rest), and returns what came out: lines, or "<too long>".
std::vector<std::string> split(const std::string& input, std::size_t chunk, std::size_t max = kMaxCommandLine) {
  LineReader r(max);
  std::vector<std::string> out;
  std::string buf;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    buf.append(input.substr(i, chunk));
    for (;;) {
      auto ev = r.next(buf);
      if (ev.kind == Kind::line) out.emplace_back(ev.line);
      if (ev.kind == Kind::too_long) out.emplace_back("<too long>");
      buf.erase(0, ev.consumed);
      if (ev.kind == Kind::need_more && ev.consumed == 0) break;
    }
    EXPECT_LT(buf.size(), max) << "reader kept more than one line's limit";
  }
  return out;
}

TEST(Pop3LineReader, SplitsCrlfAndBareLf) {
  auto lines = split("USER a\r\nPASS b c\nNOOP\r\n", 100);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "USER a");
  EXPECT_EQ(lines[1], "PASS b c");
  EXPECT_EQ(lines[2], "NOOP");
}

TEST(Pop3LineReader, SameLinesAtEveryChunkSize) {
  const std::string input = "CAPA\r\nUSER alice\r\n" + std::string(300, 'x') + "\r\nNOOP\r\n\r\nQUIT\r\n";
  const auto expected = split(input, input.size());
  ASSERT_EQ(expected.size(), 6u);
  EXPECT_EQ(expected[2], "<too long>");
  EXPECT_EQ(expected[3], "NOOP");
  EXPECT_EQ(expected[4], "");
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) EXPECT_EQ(split(input, chunk), expected) << chunk;
}

TEST(Pop3LineReader, LimitIs255OctetsIncludingCrlf) {
  // RFC 2449 §4: 255 octets maximum including CRLF.
  const std::string ok_line(253, 'a');
  const std::string long_line(254, 'a');
  EXPECT_EQ(split(ok_line + "\r\n", 1000), std::vector<std::string>{ok_line});
  EXPECT_EQ(split(long_line + "\r\n", 1000), std::vector<std::string>{"<too long>"});
  EXPECT_EQ(split(long_line + "\n", 1000), std::vector<std::string>{"<too long>"});
}

TEST(Pop3LineReader, OverlongLineWithoutEndIsReportedOnceAndDiscarded) {
  LineReader r;
  std::string big(1000, 'z');
  auto ev = r.next(big);
  EXPECT_EQ(ev.kind, Kind::too_long);
  EXPECT_EQ(ev.consumed, big.size());
  EXPECT_TRUE(r.discarding());
  ev = r.next(big);
  EXPECT_EQ(ev.kind, Kind::need_more);
  EXPECT_EQ(ev.consumed, big.size());
  ev = r.next("zz\r\nNOOP\r\n");
  EXPECT_EQ(ev.kind, Kind::need_more);
  EXPECT_EQ(ev.consumed, 4u);
  ev = r.next("NOOP\r\n");
  EXPECT_EQ(ev.kind, Kind::line);
  EXPECT_EQ(ev.line, "NOOP");
}

TEST(Pop3Parser, KeywordsAreCaseInsensitive) {
  const std::pair<const char*, Verb> table[] = {
      {"user", Verb::user}, {"PASS", Verb::pass}, {"Apop", Verb::apop}, {"auth", Verb::auth},
      {"stls", Verb::stls}, {"CAPA", Verb::capa}, {"quit", Verb::quit}, {"stat", Verb::stat},
      {"LiSt", Verb::list}, {"retr", Verb::retr}, {"dele", Verb::dele}, {"noop", Verb::noop},
      {"rset", Verb::rset}, {"top", Verb::top},   {"UIDL", Verb::uidl}, {"XTND", Verb::unknown},
      {"TOPS", Verb::unknown}, {"TOQ", Verb::unknown}};
  for (const auto& [kw, verb] : table) {
    auto c = parse_command(kw);
    ASSERT_TRUE(c) << kw;
    EXPECT_EQ(c->verb, verb) << kw;
    EXPECT_EQ(c->argc, 0u);
  }
}

TEST(Pop3Parser, Arguments) {
  auto c = parse_command("TOP 1 10");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->argc, 2u);
  EXPECT_EQ(c->args[0], "1");
  EXPECT_EQ(c->args[1], "10");
  c = parse_command("PASS my secret  pw");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rest, "my secret  pw");
  EXPECT_EQ(c->argc, 3u);
  c = parse_command("LIST 1 2 3 4 5");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->argc, 5u);
  c = parse_command("NOOP ");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->argc, 0u);
}

TEST(Pop3Parser, BadKeywords) {
  EXPECT_EQ(parse_command("").error(), ParseError::empty);
  EXPECT_EQ(parse_command("AB").error(), ParseError::bad_keyword);
  EXPECT_EQ(parse_command("ABCDE").error(), ParseError::bad_keyword);
  EXPECT_EQ(parse_command(" USER a").error(), ParseError::bad_keyword);
  EXPECT_EQ(parse_command("US\x01R").error(), ParseError::bad_keyword);
  EXPECT_EQ(parse_command("\xC3\xA9TAT").error(), ParseError::bad_keyword);
}

TEST(Pop3Parser, Numbers) {
  EXPECT_EQ(parse_number("1"), 1u);
  EXPECT_EQ(parse_number("4294967295"), 4294967295u);
  EXPECT_FALSE(parse_number("4294967296"));
  EXPECT_FALSE(parse_number("0"));
  EXPECT_EQ(parse_number("0", true), 0u);
  EXPECT_FALSE(parse_number("-1"));
  EXPECT_FALSE(parse_number("+1"));
  EXPECT_FALSE(parse_number("1a"));
  EXPECT_FALSE(parse_number(""));
  EXPECT_FALSE(parse_number("00000000001"));
}

}  // namespace
}  // namespace mb::pop3
