// File: tests/unit/protocols/imap/parser_utf7_seqset_test.cpp
//
// Modified UTF-7 (RFC 3501 §5.1.3), sequence sets (RFC 3501 §9) and date parsing.
#include <gtest/gtest.h>

#include "protocols/imap/datetime_parse.hpp"
#include "protocols/imap/seqset.hpp"
#include "protocols/imap/utf7.hpp"

namespace mb::imap {
namespace {

TEST(ImapUtf7, RfcExamplesRoundTrip) {
  // RFC 3501 §5.1.3: "~peter/mail/&U,BTFw-/&ZeVnLIqe-" is "~peter/mail/台北/日本語".
  const std::string utf8 = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
  EXPECT_EQ(utf7_encode(utf8), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(utf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), utf8);
  EXPECT_EQ(utf7_encode("A&B"), "A&-B");
  EXPECT_EQ(utf7_decode("A&-B"), "A&B");
  EXPECT_EQ(utf7_encode("Entw\xc3\xbcrfe"), "Entw&APw-rfe");
  EXPECT_EQ(utf7_encode(""), "");
  EXPECT_EQ(utf7_decode(""), "");
}

TEST(ImapUtf7, AstralPlaneUsesSurrogatePairs) {
  const std::string smile = "\xf0\x9f\x98\x80";  // U+1F600
  auto wire = utf7_encode("x" + smile + "y");
  ASSERT_TRUE(wire.has_value());
  EXPECT_EQ(*wire, "x&2D3eAA-y");
  EXPECT_EQ(utf7_decode(*wire), "x" + smile + "y");
}

TEST(ImapUtf7, ControlCharactersAreShifted) {
  EXPECT_EQ(utf7_encode(std::string("a\tb")), "a&AAk-b");
  EXPECT_EQ(utf7_decode("a&AAk-b"), std::string("a\tb"));
}

TEST(ImapUtf7, DecodeRejectsNonCanonicalAndBroken) {
  for (const char* bad : {
           "&",              // unterminated
           "&U,BTFw",        // unterminated shift
           "&-&",            // trailing '&'
           "&AGE-",          // 'a' (printable ASCII) inside a shift
           "&ACY-",          // '&' inside a shift
           "&U,BTFw-&ZeVnLIqe-",  // two adjacent shifts: must be one
           "&U,BTF-",        // non-zero padding bits
           "&U,BTFw=-",      // '=' is not in the alphabet
           "&U/BTFw-",       // '/' is not in the modified alphabet
           "&2D0-",          // lone high surrogate
           "&3gA-",          // lone low surrogate
           "&2D3YPQ-",       // high surrogate followed by a high surrogate
           "a\x7f",          // DEL
           "\xc3\xa9",       // raw 8-bit
           "tab\there",      // raw control
       }) {
    EXPECT_FALSE(utf7_decode(bad).has_value()) << bad;
  }
}

TEST(ImapUtf7, EncodeRejectsIllFormedUtf8) {
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
                          "\xc3", "\xe6\x97", "\x80"}) {
    EXPECT_FALSE(utf7_encode(bad).has_value()) << bad;
  }
}

TEST(ImapUtf7, EveryBmpCodePointRoundTrips) {
  for (std::uint32_t cp = 1; cp < 0x10000; ++cp) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else if (cp < 0x800) {
      utf8 += static_cast<char>(0xc0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      utf8 += static_cast<char>(0xe0 | (cp >> 12));
      utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      utf8 += static_cast<char>(0x80 | (cp & 0x3f));
    }
    auto wire = utf7_encode("a" + utf8 + "b");
    ASSERT_TRUE(wire.has_value()) << cp;
    ASSERT_EQ(utf7_decode(*wire), "a" + utf8 + "b") << cp;
  }
}

TEST(ImapSeqSet, Parses) {
  auto s = parse_sequence_set("1,3:5,*,7:*,9:2", 100);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->ranges, (std::vector<SeqRange>{{1, 1}, {3, 5}, {0, 0}, {7, 0}, {9, 2}}));
  EXPECT_TRUE(s->has_star());
  EXPECT_FALSE(parse_sequence_set("1:2", 100)->has_star());
  EXPECT_EQ(parse_sequence_set("4294967295", 100)->ranges[0].first, 4294967295u);
}

TEST(ImapSeqSet, Rejects) {
  for (const char* bad : {"", "0", "1:0", "01", "1,", ",1", "1::2", "1:", "a", "-1", "4294967296",
                          "$", "1,,2", "*:*:*", "1 2"}) {
    EXPECT_FALSE(parse_sequence_set(bad, 100).has_value()) << bad;
  }
  EXPECT_FALSE(parse_sequence_set("1,2,3", 2).has_value());
  EXPECT_TRUE(parse_sequence_set("1,2", 2).has_value());
}

TEST(ImapSeqSet, ResolveAndContains) {
  auto s = *parse_sequence_set("9:7,1,2,*,3:4", 100);
  EXPECT_EQ(s.resolve(20), (std::vector<SeqRange>{{1, 4}, {7, 9}, {20, 20}}));
  EXPECT_TRUE(s.contains(8, 20));
  EXPECT_TRUE(s.contains(20, 20));
  EXPECT_FALSE(s.contains(5, 20));
  EXPECT_FALSE(s.contains(19, 20));
  // "*" in an empty mailbox stands for 0 (RFC 3501 §6.4.8 "UID range of 559:*").
  auto r = *parse_sequence_set("5:*", 100);
  EXPECT_EQ(r.resolve(3), (std::vector<SeqRange>{{3, 5}}));
  EXPECT_EQ(r.resolve(0), (std::vector<SeqRange>{{0, 5}}));
  auto big = *parse_sequence_set("4294967295,1:4294967294", 100);
  EXPECT_EQ(big.resolve(10), (std::vector<SeqRange>{{1, 4294967295u}}));
}

TEST(ImapDate, DateAndDateTime) {
  EXPECT_EQ(parse_date("1-Jan-2000"), (Date{2000, 1, 1}));
  EXPECT_EQ(parse_date("31-dec-1999"), (Date{1999, 12, 31}));
  EXPECT_FALSE(parse_date("31-Apr-2000"));
  EXPECT_FALSE(parse_date("29-Feb-1900"));
  EXPECT_TRUE(parse_date("29-Feb-2000"));
  EXPECT_FALSE(parse_date("1-Jan-99"));
  EXPECT_FALSE(parse_date("001-Jan-2000"));
  EXPECT_FALSE(parse_date("1-Jan-2000 "));
  auto dt = parse_date_time(" 9-Nov-2026 23:59:60 +1400");
  ASSERT_TRUE(dt);
  EXPECT_EQ(dt->date, (Date{2026, 11, 9}));
  EXPECT_EQ(dt->zone_minutes, 14 * 60);
  EXPECT_EQ(parse_date_time("01-Jan-1970 00:00:00 +0000")->to_unix(), 0);
  EXPECT_EQ(parse_date_time("01-Jan-1970 00:00:00 -0130")->to_unix(), 5400);
  EXPECT_FALSE(parse_date_time("01-Jan-1970 24:00:00 +0000"));
  EXPECT_FALSE(parse_date_time("01-Jan-1970 00:00:00"));
  EXPECT_FALSE(parse_date_time("01-Jan-1970 00:00:00 0000"));
  EXPECT_FALSE(parse_date_time("01-Jan-1970 0:00:00 +0000"));
  EXPECT_FALSE(parse_date_time("01-Jan-1970 00:00:00 +00000"));
}

}  // namespace
}  // namespace mb::imap
