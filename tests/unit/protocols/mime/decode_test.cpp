// File: tests/unit/protocols/mime/decode_test.cpp
//
// SEARCH helpers: RFC 2047 words, charsets, transfer encodings, case folding, dates,
// addresses, RFC 2231 parameter values.
#include <gtest/gtest.h>

#include "protocols/mime/decode.hpp"
#include "protocols/mime/message_structure.hpp"

namespace mb::mime {
namespace {

TEST(Decode, EncodedWords) {
  EXPECT_EQ(decode_header_value("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "Andr\xc3\xa9 Pirard");
  EXPECT_EQ(decode_header_value("=?UTF-8?B?U3BlY2lhbCBvZmZlciDigJQgNTAlIG9mZg==?="),
            "Special offer \xe2\x80\x94 50% off");
  // Whitespace between adjacent encoded words is dropped (RFC 2047 §6.2).
  EXPECT_EQ(decode_header_value("=?ISO-8859-1?Q?a?=\r\n  =?ISO-8859-2?Q?b?="), "ab");
  EXPECT_EQ(decode_header_value("=?US-ASCII?Q?Keith_Moore?="), "Keith Moore");
  EXPECT_EQ(decode_header_value("plain =?bogus"), "plain =?bogus");
  EXPECT_EQ(decode_header_value("Gr\xc3\xbc\xc3\x9f" "e"), "Gr\xc3\xbc\xc3\x9f" "e");
  EXPECT_EQ(decode_header_value("bad \xff byte"), "bad \xef\xbf\xbd byte");
}

TEST(Decode, Charsets) {
  EXPECT_EQ(to_utf8("caf\xe9", "iso-8859-1"), "caf\xc3\xa9");
  EXPECT_EQ(to_utf8("\x80", "windows-1252"), "\xe2\x82\xac");
  EXPECT_EQ(to_utf8("\xa4", "ISO-8859-15"), "\xe2\x82\xac");  // via iconv
  EXPECT_EQ(to_utf8("\xb1", "iso-8859-2"), "\xc4\x85");
  EXPECT_EQ(to_utf8("abc", "x-unknown-charset"), "abc");
}

TEST(Decode, TransferEncodings) {
  EXPECT_EQ(decode_quoted_printable("a=3Db=\r\nc =E9"), "a=bc \xe9");
  EXPECT_EQ(decode_base64("aGVs\r\nbG8="), "hello");
  BodyPart p;
  p.encoding = "Quoted-Printable";
  p.params = {{"charset", "windows-1252"}};
  EXPECT_EQ(decode_body_text("Caf=E9 =93q=94", p), "Caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d");
}

TEST(Decode, CaseInsensitiveMatch) {
  EXPECT_TRUE(contains_icase("Hello World", "WORLD"));
  EXPECT_FALSE(contains_icase("Hello", "world"));
  EXPECT_TRUE(contains_icase("Gr\xc3\x9c\xc3\x9f" "e", "gr\xc3\xbc"));   // Ü / ü
  EXPECT_TRUE(contains_icase("\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", "\xd0\xbc\xd0\x9e"));
  EXPECT_TRUE(contains_icase("x", ""));
}

TEST(Decode, Dates) {
  auto d = parse_date("Mon, 2 Jan 2023 10:00:00 +0100");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->year, 2023);
  EXPECT_EQ(d->month, 1);
  EXPECT_EQ(d->day, 2);
  EXPECT_EQ(d->zone_minutes, 60);
  EXPECT_EQ(d->to_unix(), 1672650000);
  auto o = parse_date("Thursday, 10-Aug-23 10:00:00 EDT");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->year, 2023);
  EXPECT_EQ(o->month, 8);
  EXPECT_EQ(o->zone_minutes, -240);
  auto c = parse_date("3 Feb 99 08:15 -0500 (EST)");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->year, 1999);
  EXPECT_EQ(c->second, 0);
  EXPECT_FALSE(parse_date("yesterday"));
  EXPECT_FALSE(parse_date(""));
}

TEST(Decode, Addresses) {
  auto l = parse_address_list("A Group:Ed Jones <c@a.test>,joe@where.test;, x@y (Comment)");
  ASSERT_EQ(l.size(), 5u);
  EXPECT_TRUE(l[0].group_start);
  EXPECT_EQ(l[0].mailbox, "A Group");
  EXPECT_EQ(l[1].name, "Ed Jones");
  EXPECT_EQ(l[2].host, "where.test");
  EXPECT_TRUE(l[3].group_end);
  EXPECT_EQ(l[4].name, "Comment");
  EXPECT_EQ(addresses_for_search("=?ISO-8859-1?Q?Andr=E9?= <a@b.c>, d@e"),
            "Andr\xc3\xa9 <a@b.c>, d@e");
}

TEST(Decode, FindHeaderAndParams) {
  std::string h = "Subject: a\r\n b\r\nX: 1\r\nsubject: c\r\n\r\nSubject: body\r\n";
  auto v = find_header(h, "SUBJECT");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "a\r\n b");
  EXPECT_EQ(unfold(v[0]), "a b");
  EXPECT_EQ(v[1], "c");
  std::vector<Param> ps = {{"filename*", "utf-8''na%C3%AFve.txt"}, {"name", "x"}};
  EXPECT_EQ(param_value(ps, "filename"), "na\xc3\xafve.txt");
  EXPECT_EQ(param_value(ps, "NAME"), "x");
  EXPECT_FALSE(param_value(ps, "none"));
}

}  // namespace
}  // namespace mb::mime
