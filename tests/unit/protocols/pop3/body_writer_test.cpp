// File: tests/unit/protocols/pop3/body_writer_test.cpp
#include "protocols/pop3/body_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mb::pop3 {
namespace {

std::string render(const std::string& msg, std::size_t chunk, std::optional<std::uint32_t> lines = std::nullopt) {
  BodyWriter w(lines);
  std::string out;
  for (std::size_t i = 0; i < msg.size(); i += chunk) {
    if (w.feed(std::string_view(msg).substr(i, chunk), out)) break;
  }
  w.finish(out);
  return out;
}

void expect_all_chunkings(const std::string& msg, const std::string& expected,
                          std::optional<std::uint32_t> lines = std::nullopt) {
  for (std::size_t chunk = 1; chunk <= msg.size() + 1; ++chunk) {
    EXPECT_EQ(render(msg, chunk, lines), expected) << "chunk " << chunk;
  }
}

TEST(BodyWriter, DotStuffingAcrossChunkBoundaries) {
  expect_all_chunkings("Subject: x\r\n\r\n.hidden\r\n..two\r\nmid.dot\r\n.\r\n",
                       "Subject: x\r\n\r\n..hidden\r\n...two\r\nmid.dot\r\n..\r\n.\r\n");
}

TEST(BodyWriter, LeadingDotOnFirstLine) {
  expect_all_chunkings(".x\r\n", "..x\r\n.\r\n");
}

TEST(BodyWriter, FinalLineWithoutLineEndIsTerminated) {
  expect_all_chunkings("A: b\r\n\r\nno newline", "A: b\r\n\r\nno newline\r\n.\r\n");
  expect_all_chunkings("A: b\r\n\r\nlone cr\r", "A: b\r\n\r\nlone cr\r\n.\r\n");
}

TEST(BodyWriter, EmptyMessage) { EXPECT_EQ(render("", 1), ".\r\n"); }

TEST(BodyWriter, BareLfBecomesCrlf) {
  expect_all_chunkings("A: b\n\n.dot\nx\r\n", "A: b\r\n\r\n..dot\r\nx\r\n.\r\n");
}

TEST(BodyWriter, EightBitPassesUnchanged) {
  std::string body = "A: b\r\n\r\n";
  for (int c = 128; c < 256; ++c) body.push_back(static_cast<char>(c));
  body += "\r\n";
  expect_all_chunkings(body, body + ".\r\n");
}

TEST(BodyWriter, TopSendsHeaderBlankLineAndNLines) {
  const std::string msg = "H1: a\r\nH2: b\r\n\r\nl1\r\n.l2\r\nl3\r\n";
  expect_all_chunkings(msg, "H1: a\r\nH2: b\r\n\r\n.\r\n", 0u);
  expect_all_chunkings(msg, "H1: a\r\nH2: b\r\n\r\nl1\r\n.\r\n", 1u);
  expect_all_chunkings(msg, "H1: a\r\nH2: b\r\n\r\nl1\r\n..l2\r\n.\r\n", 2u);
  expect_all_chunkings(msg, "H1: a\r\nH2: b\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n", 3u);
  expect_all_chunkings(msg, "H1: a\r\nH2: b\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n", 100u);
}

TEST(BodyWriter, TopOfHeaderOnlyMessageSendsItAll) {
  expect_all_chunkings("H1: a\r\nH2: b\r\n", "H1: a\r\nH2: b\r\n.\r\n", 0u);
}

TEST(BodyWriter, TopStopsEarly) {
  BodyWriter w(1u);
  std::string out;
  EXPECT_TRUE(w.feed("A: b\r\n\r\none\r\ntwo\r\n", out));
  EXPECT_TRUE(w.done());
  w.finish(out);
  EXPECT_EQ(out, "A: b\r\n\r\none\r\n.\r\n");
}

}  // namespace
}  // namespace mb::pop3

namespace mb::pop3 {
namespace {

// What the store's read_now() writes for RETR with line escape kStuffByte: the wire octets
// with a '.' put in front of every line that starts with one.
std::string store_stuffed(const std::string& wire) {
  std::string out;
  bool start = true;
  for (char c : wire) {
    if (start && c == BodyWriter::kStuffByte) out.push_back(c);
    out.push_back(c);
    start = c == '\n';
  }
  return out;
}

// RETR's fused path: the first `split` wire octets come stuffed from the store (wrote() keeps
// the writer in step), the rest through feed() (the thread-pool fallback), then finish(char*).
// Whatever the split, the bytes equal feed() all the way.
TEST(BodyWriter, FusedPathWroteAndRawFinishMatchFeed) {
  for (std::string wire : {std::string("A: b\r\n\r\n.x\r\n..\r\nend"), std::string(".\r\n.\r\n"),
                           std::string("A: b\r\n\r\nlone cr\r"), std::string("x\r\n"), std::string()}) {
    const std::string expected = render(wire, wire.size() + 1);
    for (std::size_t split = 0; split <= wire.size(); ++split) {
      BodyWriter w;
      std::string out = store_stuffed(wire.substr(0, split));
      if (!out.empty()) w.wrote(out.back());
      w.feed(std::string_view(wire).substr(split), out);
      char tail[BodyWriter::kMaxFinish];
      std::size_t n = w.finish(tail);
      ASSERT_LE(n, BodyWriter::kMaxFinish);
      out.append(tail, n);
      EXPECT_EQ(out, expected) << "split " << split << " of " << wire.size();
    }
  }
}

// passes_unchanged() says "no stuffing needed" exactly when feed() would copy the wire
// octets unchanged: a dot at a line start anywhere (vector steps, the scalar tail, the
// first octet after a chunk that ended a line) is seen; dots elsewhere are not.
TEST(BodyWriter, PassesUnchangedExactlyWhenFeedChangesNothing) {
  std::string base;
  for (int i = 0; i < 40; ++i) base += "line number " + std::to_string(i) + " with a mid.dot\r\n";
  for (std::size_t at = 0; at <= base.size(); ++at) {
    if (at < base.size() && base[at] == '\n') continue;  // "\r.\n" is no wire form (bare LF)
    for (bool after_line_end : {true, false}) {
      BodyWriter w;
      if (!after_line_end) w.wrote('x');
      std::string chunk = base;
      const bool line_start = at == 0 ? after_line_end : base[at - 1] == '\n';
      if (at < chunk.size()) chunk.insert(at, 1, '.');
      std::string out;
      BodyWriter ref = w;
      ref.feed(chunk, out);
      EXPECT_EQ(w.passes_unchanged(chunk), out == chunk) << at << " " << after_line_end;
      EXPECT_EQ(w.passes_unchanged(chunk), !(line_start && at < base.size())) << at;
    }
  }
  BodyWriter w;
  EXPECT_TRUE(w.passes_unchanged(""));
  w.wrote('\n');
  EXPECT_FALSE(w.passes_unchanged(".x"));
  w.wrote('\r');  // CR | LF split across chunks: the LF starts the next one
  EXPECT_FALSE(w.passes_unchanged("\n.x"));
  EXPECT_TRUE(w.passes_unchanged("\nx."));
}

}  // namespace
}  // namespace mb::pop3
