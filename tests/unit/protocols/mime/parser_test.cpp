// File: tests/unit/protocols/mime/parser_test.cpp
//
// Parser behaviour beyond the Dovecot corpus: exact ranges and counts, limits that degrade
// instead of failing, bare-LF offsets, corrupt cache entries.
#include <gtest/gtest.h>

#include <string>

#include "protocols/imap/render/render.hpp"
#include "protocols/imap/render/section.hpp"
#include "protocols/mime/message_structure.hpp"

namespace mb::mime {
namespace {

TEST(Parser, SimpleMessageRanges) {
  std::string m = "Subject: x\r\nFrom: a@b\r\n\r\nline1\r\nline2\r\n";
  MessageStructure s = parse_message(m);
  EXPECT_EQ(s.size, m.size());
  EXPECT_EQ(s.root.header, (Range{0, 25}));
  EXPECT_EQ(s.root.body, (Range{25, 14}));
  EXPECT_EQ(s.root.body_lines, 2u);
  EXPECT_FALSE(s.degraded);
}

TEST(Parser, BareLfCountsAsCrlf) {
  std::string lf = "Subject: x\n\nab\ncd\n";
  MessageStructure s = parse_message(lf);
  EXPECT_EQ(s.size, lf.size() + 4);
  EXPECT_EQ(s.root.header, (Range{0, 14}));  // "Subject: x\r\n\r\n"
  EXPECT_EQ(s.root.body, (Range{14, 8}));    // "ab\r\ncd\r\n"
  EXPECT_EQ(s.root.body_lines, 2u);
}

TEST(Parser, MultipartChildRangesExcludeDelimiterCrlf) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "pre\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\nepi\r\n";
  MessageStructure s = parse_message(m);
  ASSERT_EQ(s.root.children.size(), 1u);
  const BodyPart& c = s.root.children[0];
  EXPECT_EQ(m.substr(c.header.offset, c.header.size), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(m.substr(c.body.offset, c.body.size), "hello");
  EXPECT_EQ(c.body_lines, 0u);
  EXPECT_EQ(s.root.body.end(), m.size());
}

std::string nested_multiparts(int depth) {
  std::string m = "Content-Type: multipart/mixed; boundary=b0\r\n\r\n";
  for (int i = 1; i < depth; ++i) {
    m += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=b" +
         std::to_string(i) + "\r\n\r\n";
  }
  m += "--b" + std::to_string(depth - 1) + "\r\n\r\nleaf\r\n";
  return m;
}

TEST(Parser, DepthLimitDegradesToText) {
  ParseLimits limits;
  limits.max_depth = 10;
  MessageStructure s = parse_message(nested_multiparts(50), limits);
  EXPECT_TRUE(s.degraded);
  int depth = 0;
  const BodyPart* p = &s.root;
  while (!p->children.empty()) {
    p = &p->children[0];
    ++depth;
  }
  EXPECT_EQ(depth, 10);
  EXPECT_EQ(p->type, "text");
  // Renderings stay valid IMAP.
  std::string bs = imap::render::body_structure(s, true);
  EXPECT_EQ(std::count(bs.begin(), bs.end(), '('), std::count(bs.begin(), bs.end(), ')'));
}

TEST(Parser, DeepNestingWithinDefaultLimitIsParsed) {
  MessageStructure s = parse_message(nested_multiparts(80));
  EXPECT_FALSE(s.degraded);
}

TEST(Parser, PartCountLimit) {
  std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 100; ++i) m += "--b\r\n\r\nx\r\n";
  m += "--b--\r\n";
  ParseLimits limits;
  limits.max_parts = 20;
  MessageStructure s = parse_message(m, limits);
  EXPECT_TRUE(s.degraded);
  EXPECT_EQ(s.root.children.size(), 19u);  // root + 19 children = 20 parts
  EXPECT_EQ(s.root.body.end(), m.size());
}

TEST(Parser, HugeHeaderIsBounded) {
  std::string m = "X-Long: " + std::string(300000, 'a') + "\r\nSubject: late\r\n\r\nbody";
  MessageStructure s = parse_message(m);
  EXPECT_TRUE(s.degraded);
  EXPECT_EQ(s.root.body.size, 4u);
}

TEST(Parser, MessageRfc822Embedded) {
  std::string m =
      "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n";
  MessageStructure s = parse_message(m);
  ASSERT_EQ(s.root.children.size(), 1u);
  const BodyPart& inner = s.root.children[0];
  ASSERT_TRUE(inner.envelope.has_value());
  EXPECT_EQ(inner.envelope->subject, "inner");
  EXPECT_EQ(inner.header.offset, s.root.body.offset);
  EXPECT_EQ(inner.body.end(), m.size());
}

TEST(Serialize, RejectsCorruptAndUnknownVersion) {
  MessageStructure s = parse_message("Subject: a\r\n\r\nb\r\n");
  std::string blob = serialize(s);
  EXPECT_TRUE(deserialize(blob).has_value());
  EXPECT_FALSE(deserialize("").has_value());
  std::string bad = blob;
  bad[0] = 99;
  EXPECT_FALSE(deserialize(bad).has_value());
  for (std::size_t n = 1; n < blob.size(); ++n) {
    EXPECT_FALSE(deserialize(blob.substr(0, n)).has_value()) << n;
  }
  EXPECT_FALSE(deserialize(blob + "x").has_value());
}

// peek_renderings() gives the memoised ENVELOPE / BODY / BODYSTRUCTURE of a cache entry
// without building the tree: the same text render:: gives, nullopt when not memoised,
// and nullopt (never a read past the end) on a truncated or foreign entry.
TEST(Serialize, PeekRenderingsWithoutTheTree) {
  MessageStructure s = parse_message(
      "Subject: peek\r\nFrom: A <a@b.example>\r\nContent-Type: multipart/mixed; boundary=x\r\n"
      "\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n");
  EXPECT_FALSE(peek_renderings(serialize(s)).has_value());  // not memoised
  imap::render::memoize(s);
  std::string blob = serialize(s);
  auto m = peek_renderings(blob);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->envelope, imap::render::envelope(*s.root.envelope));
  EXPECT_EQ(m->body, imap::render::body_structure(s.root, false));
  EXPECT_EQ(m->bodystructure, imap::render::body_structure(s.root, true));
  EXPECT_NE(m->envelope.find("\"peek\""), std::string_view::npos);
  EXPECT_FALSE(peek_renderings("").has_value());
  std::string bad = blob;
  bad[0] = 99;
  EXPECT_FALSE(peek_renderings(bad).has_value());
  std::size_t renderings_end =
      static_cast<std::size_t>(m->bodystructure.data() + m->bodystructure.size() - blob.data());
  for (std::size_t n = 1; n < renderings_end; ++n) {
    EXPECT_FALSE(peek_renderings(blob.substr(0, n)).has_value()) << n;
  }
}

TEST(Section, FilterHeaderFields) {
  std::string h = "From: a@b\r\nSubject: one\r\n two\r\nTo: c@d\r\n\r\n";
  std::vector<std::string> f = {"subject", "x-none"};
  EXPECT_EQ(imap::render::filter_header_fields(h, f, false), "Subject: one\r\n two\r\n\r\n");
  EXPECT_EQ(imap::render::filter_header_fields(h, f, true), "From: a@b\r\nTo: c@d\r\n\r\n");
  std::vector<std::string> none = {"x-none"};
  EXPECT_EQ(imap::render::filter_header_fields(h, none, false), "\r\n");
}

TEST(Section, NonexistentPartsResolveToNothing) {
  MessageStructure s = parse_message("Subject: a\r\n\r\nb\r\n");
  imap::render::SectionSpec spec;
  spec.part = {2};
  EXPECT_FALSE(imap::render::resolve_section(s, spec).has_value());
  spec.part = {1, 1};
  EXPECT_FALSE(imap::render::resolve_section(s, spec).has_value());
  spec.part = {0};
  EXPECT_FALSE(imap::render::resolve_section(s, spec).has_value());
  spec.part = {1};
  auto r = imap::render::resolve_section(s, spec);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->range, (Range{14, 3}));
}

}  // namespace
}  // namespace mb::mime

namespace mb::mime {
namespace {

TEST(Memoize, RenderingsSurviveTheCacheAndMatch) {
  std::string m =
      "From: A <a@b.c>\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
      "--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n";
  MessageStructure s = parse_message(m);
  const std::string env = imap::render::envelope(s);
  const std::string body = imap::render::body_structure(s, false);
  const std::string bs = imap::render::body_structure(s, true);
  imap::render::memoize(s);
  EXPECT_EQ(s.envelope_imap, env);
  EXPECT_EQ(s.body_imap, body);
  EXPECT_EQ(s.bodystructure_imap, bs);
  auto back = deserialize(serialize(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(imap::render::envelope(*back), env);
  EXPECT_EQ(imap::render::body_structure(*back, false), body);
  EXPECT_EQ(imap::render::body_structure(*back, true), bs);
}

}  // namespace
}  // namespace mb::mime

namespace mb::mime {
namespace {

TEST(Envelope, NulInHeaderBecomesLiteralWithout0) {
  std::string m("Subject: a\0b\r\n\r\n", 16);
  MessageStructure s = parse_message(m);
  std::string env = imap::render::envelope(s);
  EXPECT_EQ(env.find('\0'), std::string::npos);
  EXPECT_NE(env.find("{3}\r\na\x80" "b"), std::string::npos) << env;
}

TEST(Envelope, GroupsQuotingAndDefaults) {
  std::string m =
      "From: \"Joe \\\"Q\\\"\" <joe@x.test>\r\nTo: Team: a@b.c;\r\n"
      "Subject: plain\r\nMessage-ID: <m@x>\r\n\r\n";
  MessageStructure s = parse_message(m);
  EXPECT_EQ(imap::render::envelope(s),
            "(NIL \"plain\" (({7}\r\nJoe \"Q\" NIL \"joe\" \"x.test\")) "
            "(({7}\r\nJoe \"Q\" NIL \"joe\" \"x.test\")) (({7}\r\nJoe \"Q\" NIL \"joe\" \"x.test\")) "
            "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"b.c\")(NIL NIL NIL NIL)) NIL NIL NIL \"<m@x>\")");
}

}  // namespace
}  // namespace mb::mime

namespace mb::mime {
namespace {

// 60 nested message/rfc822 levels around a 200 KB text body: every level's line count must
// be exact (the parser switches to a block index after the first levels).
TEST(Parser, NestedMessagesLineCountsExact) {
  std::string body;
  for (int i = 0; i < 5000; ++i) body += "line of text number " + std::to_string(i) + "\r\n";
  std::string m = "Subject: leaf\r\n\r\n" + body;
  for (int i = 0; i < 60; ++i) m = "Content-Type: message/rfc822\r\nX-Level: " + std::to_string(i) + "\r\n\r\n" + m;
  MessageStructure s = parse_message(m);
  ASSERT_FALSE(s.degraded);
  const BodyPart* p = &s.root;
  int levels = 0;
  while (p != nullptr) {
    std::string_view b = std::string_view(m).substr(p->body.offset, p->body.size);
    EXPECT_EQ(p->body_lines, static_cast<std::uint64_t>(std::count(b.begin(), b.end(), '\n')))
        << "level " << levels;
    p = p->children.empty() ? nullptr : &p->children[0];
    ++levels;
  }
  EXPECT_EQ(levels, 61);  // 60 message/rfc822 levels (the root is one) + the leaf
}

}  // namespace
}  // namespace mb::mime
