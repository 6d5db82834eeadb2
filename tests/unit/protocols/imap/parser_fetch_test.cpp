// File: tests/unit/protocols/imap/parser_fetch_test.cpp
//
// FETCH (RFC 3501 §6.4.5): macros, every attribute, sections, partials, BINARY (RFC 3516).
#include <gtest/gtest.h>

#include "parser_test_util.hpp"

namespace mb::imap::test {
namespace {

std::vector<FetchAtt> atts(std::string_view spec) {
  Command c = one("f FETCH 1:* " + std::string(spec) + "\r\n");
  if (c.name != CommandName::fetch) return {};
  return c.get<FetchArgs>().atts;
}

std::vector<FetchItem> items(std::string_view spec) {
  std::vector<FetchItem> out;
  for (const auto& a : atts(spec)) out.push_back(a.item);
  return out;
}

ParseErrorKind fetch_error(std::string_view spec) {
  return error_of("f FETCH 1 " + std::string(spec) + "\r\n").kind;
}

TEST(ImapParserFetch, Macros) {
  using I = FetchItem;
  EXPECT_EQ(items("ALL"), (std::vector<I>{I::flags, I::internaldate, I::rfc822_size, I::envelope}));
  EXPECT_EQ(items("fast"), (std::vector<I>{I::flags, I::internaldate, I::rfc822_size}));
  EXPECT_EQ(items("FULL"),
            (std::vector<I>{I::flags, I::internaldate, I::rfc822_size, I::envelope, I::body}));
  EXPECT_EQ(fetch_error("(ALL)"), ParseErrorKind::syntax);  // macros stand alone
  EXPECT_EQ(fetch_error("ALL FLAGS"), ParseErrorKind::syntax);
}

TEST(ImapParserFetch, SimpleAttributes) {
  using I = FetchItem;
  EXPECT_EQ(items("(ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT "
                  "BODY BODYSTRUCTURE UID)"),
            (std::vector<I>{I::envelope, I::flags, I::internaldate, I::rfc822, I::rfc822_header,
                            I::rfc822_size, I::rfc822_text, I::body, I::bodystructure, I::uid}));
  EXPECT_EQ(items("uid"), (std::vector<I>{I::uid}));
  EXPECT_EQ(items("(flags)"), (std::vector<I>{I::flags}));
  EXPECT_EQ(fetch_error("(FLAGS"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("()"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("(FLAGS  UID)"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("RFC822.BOGUS"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error(""), ParseErrorKind::syntax);
}

TEST(ImapParserFetch, BodySections) {
  auto a = atts("(BODY[] BODY.PEEK[HEADER] BODY[TEXT] BODY[1.2.3] BODY[2.MIME] BODY[3.HEADER] "
                "body.peek[4.TEXT]<10.20>)");
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0].item, FetchItem::body_section);
  EXPECT_FALSE(a[0].peek);
  EXPECT_EQ(a[0].spec, "");
  EXPECT_EQ(a[0].section.text, SectionText::none);
  EXPECT_TRUE(a[1].peek);
  EXPECT_EQ(a[1].section.text, SectionText::header);
  EXPECT_EQ(a[2].section.text, SectionText::text);
  EXPECT_EQ(a[3].section.part, (std::vector<std::uint32_t>{1, 2, 3}));
  EXPECT_EQ(a[3].spec, "1.2.3");
  EXPECT_EQ(a[4].section.text, SectionText::mime);
  EXPECT_EQ(a[4].spec, "2.MIME");
  EXPECT_EQ(a[5].spec, "3.HEADER");
  EXPECT_EQ(a[6].spec, "4.TEXT");
  ASSERT_TRUE(a[6].partial.has_value());
  EXPECT_EQ(a[6].partial->offset, 10u);
  EXPECT_EQ(a[6].partial->length, 20u);
  EXPECT_FALSE(a[0].partial.has_value());
}

TEST(ImapParserFetch, HeaderFields) {
  auto a = atts("(BODY.PEEK[HEADER.FIELDS (From \"To\" x-Priority)] BODY[1.HEADER.FIELDS.NOT (Received)])");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].section.text, SectionText::header_fields);
  EXPECT_EQ(a[0].section.fields, (std::vector<std::string>{"FROM", "TO", "X-PRIORITY"}));
  EXPECT_EQ(a[0].spec, "HEADER.FIELDS (From To x-Priority)");
  EXPECT_EQ(a[1].section.text, SectionText::header_fields_not);
  EXPECT_EQ(a[1].section.part, (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(a[1].spec, "1.HEADER.FIELDS.NOT (Received)");
  EXPECT_EQ(fetch_error("BODY[HEADER.FIELDS]"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BODY[HEADER.FIELDS ()]"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BODY[HEADER.FIELDS (a:b)]"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BODY[HEADER.FIELDS (From]"), ParseErrorKind::syntax);
}

TEST(ImapParserFetch, BadSections) {
  for (const char* bad : {"BODY[", "BODY[0]", "BODY[1.]", "BODY[MIME]", "BODY[1.2.BOGUS]",
                          "BODY[HEADERX]", "BODY.PEEK", "BODY[]<1>", "BODY[]<1.0>",
                          "BODY[]<a.1>", "BODY[]<1.2", "BODY[1HEADER]", "BODY[]x"}) {
    EXPECT_EQ(fetch_error(bad), ParseErrorKind::syntax) << bad;
  }
}

TEST(ImapParserFetch, Binary) {
  auto a = atts("(BINARY[1] BINARY.PEEK[1.2]<0.1024> BINARY.SIZE[3] BINARY[])");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].item, FetchItem::binary);
  EXPECT_FALSE(a[0].peek);
  EXPECT_TRUE(a[1].peek);
  EXPECT_EQ(a[1].section.part, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_TRUE(a[1].partial.has_value());
  EXPECT_EQ(a[2].item, FetchItem::binary_size);
  EXPECT_EQ(a[3].spec, "");
  EXPECT_EQ(fetch_error("BINARY[HEADER]"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BINARY[1.TEXT]"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BINARY.SIZE[1]<0.1>"), ParseErrorKind::syntax);
  EXPECT_EQ(fetch_error("BINARY"), ParseErrorKind::syntax);
}

TEST(ImapParserFetch, UidFetchAndSet) {
  Command c = one("f UID FETCH 4:2,10,* (UID FLAGS)\r\n");
  EXPECT_TRUE(c.uid);
  EXPECT_EQ(c.get<FetchArgs>().set.ranges, (std::vector<SeqRange>{{4, 2}, {10, 10}, {0, 0}}));
  EXPECT_EQ(error_of("f FETCH (FLAGS)\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("f FETCH 1,,2 FLAGS\r\n").kind, ParseErrorKind::syntax);
}

TEST(ImapParserFetch, AttributeCountLimit) {
  ParserLimits limits;
  limits.max_items = 4;
  EXPECT_TRUE(std::holds_alternative<Command>(first("f FETCH 1 (UID UID UID UID)\r\n", limits)));
  EXPECT_EQ(error_of("f FETCH 1 (UID UID UID UID UID)\r\n", limits).kind, ParseErrorKind::too_many);
}

}  // namespace
}  // namespace mb::imap::test
