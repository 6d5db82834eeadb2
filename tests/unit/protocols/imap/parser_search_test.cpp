// File: tests/unit/protocols/imap/parser_search_test.cpp
//
// SEARCH (RFC 3501 §6.4.4): every key, operands, AND lists, OR, NOT, nesting, CHARSET.
#include <gtest/gtest.h>

#include "parser_test_util.hpp"

namespace mb::imap::test {
namespace {

SearchArgs search(std::string_view keys) {
  Command c = one("s SEARCH " + std::string(keys) + "\r\n");
  if (c.name != CommandName::search) return {};
  return c.get<SearchArgs>();
}

// The single top-level key of "SEARCH <keys>".
SearchKey key(std::string_view keys) {
  SearchArgs a = search(keys);
  EXPECT_EQ(a.key.op, SearchOp::all_of);
  EXPECT_EQ(a.key.children.size(), 1u) << keys;
  return a.key.children.empty() ? SearchKey{} : a.key.children[0];
}

TEST(ImapParserSearch, FlagKeysWithoutOperand) {
  const std::vector<std::pair<std::string, SearchOp>> keys = {
      {"ALL", SearchOp::all},           {"ANSWERED", SearchOp::answered},
      {"DELETED", SearchOp::deleted},   {"DRAFT", SearchOp::draft},
      {"FLAGGED", SearchOp::flagged},   {"NEW", SearchOp::new_},
      {"OLD", SearchOp::old},           {"RECENT", SearchOp::recent},
      {"SEEN", SearchOp::seen},         {"UNANSWERED", SearchOp::unanswered},
      {"UNDELETED", SearchOp::undeleted}, {"UNDRAFT", SearchOp::undraft},
      {"UNFLAGGED", SearchOp::unflagged}, {"UNSEEN", SearchOp::unseen}};
  for (const auto& [name, op] : keys) {
    EXPECT_EQ(key(name).op, op) << name;
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(key(lower).op, op) << lower;
  }
}

TEST(ImapParserSearch, StringKeys) {
  const std::vector<std::pair<std::string, SearchOp>> keys = {
      {"BCC", SearchOp::bcc},         {"BODY", SearchOp::body}, {"CC", SearchOp::cc},
      {"FROM", SearchOp::from},       {"SUBJECT", SearchOp::subject},
      {"TEXT", SearchOp::text},       {"TO", SearchOp::to}};
  for (const auto& [name, op] : keys) {
    SearchKey k = key(name + " \"hello world\"");
    EXPECT_EQ(k.op, op) << name;
    EXPECT_EQ(k.text, "hello world");
    EXPECT_EQ(key(name + " atom").text, "atom");
    EXPECT_EQ(key(name + " {3}\r\nx y").text, "x y");
    EXPECT_EQ(error_of("s SEARCH " + name + "\r\n").kind, ParseErrorKind::syntax) << name;
  }
}

TEST(ImapParserSearch, HeaderKeywordSizeUid) {
  SearchKey h = key("HEADER Message-ID \"<x@y>\"");
  EXPECT_EQ(h.op, SearchOp::header);
  EXPECT_EQ(h.header_name, "Message-ID");
  EXPECT_EQ(h.text, "<x@y>");
  EXPECT_EQ(key("HEADER X-Spam \"\"").text, "");
  EXPECT_EQ(key("KEYWORD $Forwarded").text, "$Forwarded");
  EXPECT_EQ(key("UNKEYWORD \\Seen").op, SearchOp::unkeyword);
  EXPECT_EQ(key("LARGER 10000").number, 10000u);
  EXPECT_EQ(key("SMALLER 5000000000").number, 5000000000u);
  SearchKey u = key("UID 1:5,7,9:*");
  EXPECT_EQ(u.op, SearchOp::uid);
  EXPECT_EQ(u.set.ranges.size(), 3u);
  EXPECT_EQ(error_of("s SEARCH LARGER x\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH KEYWORD (x)\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH HEADER Subject\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH UID 0\r\n").kind, ParseErrorKind::syntax);
}

TEST(ImapParserSearch, DateKeys) {
  const std::vector<std::pair<std::string, SearchOp>> keys = {
      {"BEFORE", SearchOp::before},         {"ON", SearchOp::on},
      {"SINCE", SearchOp::since},           {"SENTBEFORE", SearchOp::sentbefore},
      {"SENTON", SearchOp::senton},         {"SENTSINCE", SearchOp::sentsince}};
  for (const auto& [name, op] : keys) {
    SearchKey k = key(name + " 1-Feb-1994");
    EXPECT_EQ(k.op, op) << name;
    EXPECT_EQ(k.date, (Date{1994, 2, 1}));
    EXPECT_EQ(key(name + " \"29-feb-2024\"").date, (Date{2024, 2, 29}));
    EXPECT_EQ(error_of("s SEARCH " + name + " 29-Feb-2023\r\n").kind, ParseErrorKind::syntax);
    EXPECT_EQ(error_of("s SEARCH " + name + " 1-Fbr-2023\r\n").kind, ParseErrorKind::syntax);
    EXPECT_EQ(error_of("s SEARCH " + name + " 2023-01-01\r\n").kind, ParseErrorKind::syntax);
  }
  EXPECT_EQ((Date{1970, 1, 2}).to_days(), 1);
  EXPECT_EQ((Date{2000, 3, 1}).to_days(), 11017);
}

TEST(ImapParserSearch, SequenceSetKey) {
  SearchKey k = key("2:4,*");
  EXPECT_EQ(k.op, SearchOp::seqset);
  EXPECT_EQ(k.set.ranges, (std::vector<SeqRange>{{2, 4}, {0, 0}}));
}

TEST(ImapParserSearch, ImplicitAndOrNotAndLists) {
  SearchArgs a = search("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  ASSERT_EQ(a.key.children.size(), 3u);
  EXPECT_EQ(a.key.children[2].op, SearchOp::not_);
  ASSERT_EQ(a.key.children[2].children.size(), 1u);
  EXPECT_EQ(a.key.children[2].children[0].op, SearchOp::from);

  SearchKey o = key("OR (SEEN FLAGGED) NOT OR 1 UID 2");
  EXPECT_EQ(o.op, SearchOp::or_);
  ASSERT_EQ(o.children.size(), 2u);
  EXPECT_EQ(o.children[0].op, SearchOp::all_of);
  EXPECT_EQ(o.children[0].children.size(), 2u);
  EXPECT_EQ(o.children[1].op, SearchOp::not_);
  EXPECT_EQ(o.children[1].children[0].op, SearchOp::or_);
  EXPECT_EQ(o.children[1].children[0].children[1].op, SearchOp::uid);

  EXPECT_EQ(key("((((ALL))))").children[0].children[0].children[0].children[0].op, SearchOp::all);
  EXPECT_EQ(error_of("s SEARCH OR SEEN\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH NOT\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH (SEEN\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH ()\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH SEEN)\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH SEEN  DELETED\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH BOGUS\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH SEENX\r\n").kind, ParseErrorKind::syntax);
}

TEST(ImapParserSearch, Charset) {
  SearchArgs a = search("CHARSET utf-8 SUBJECT {5}\r\n\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(a.charset, "UTF-8");
  EXPECT_EQ(a.key.children[0].text, "\xc3\xa9t\xc3\xa9");
  EXPECT_FALSE(search("ALL").charset.has_value());
  EXPECT_EQ(search("CHARSET \"ISO-8859-1\" ALL").charset, "ISO-8859-1");  // session: BADCHARSET
  EXPECT_EQ(error_of("s SEARCH CHARSET\r\n").kind, ParseErrorKind::syntax);
  EXPECT_EQ(error_of("s SEARCH CHARSET UTF-8\r\n").kind, ParseErrorKind::syntax);
}

TEST(ImapParserSearch, UidSearch) {
  Command c = one("s UID SEARCH 1:* UNDELETED\r\n");
  EXPECT_TRUE(c.uid);
  EXPECT_EQ(c.get<SearchArgs>().key.children.size(), 2u);
}

TEST(ImapParserSearch, NestingLimit) {
  ParserLimits limits;
  limits.max_depth = 8;
  std::string deep(7, '(');
  deep += "ALL" + std::string(7, ')');
  EXPECT_TRUE(std::holds_alternative<Command>(first("s SEARCH " + deep + "\r\n", limits)));
  std::string deeper(8, '(');
  deeper += "ALL" + std::string(8, ')');
  EXPECT_EQ(error_of("s SEARCH " + deeper + "\r\n", limits).kind, ParseErrorKind::too_deep);
  std::string nots;
  for (int i = 0; i < 8; ++i) nots += "NOT ";
  EXPECT_EQ(error_of("s SEARCH " + nots + "ALL\r\n", limits).kind, ParseErrorKind::too_deep);
  // The default limit stops a stack-exhausting key well inside a 64 KB line.
  std::string bomb(20000, '(');
  EXPECT_EQ(error_of("s SEARCH " + bomb + "\r\n").kind, ParseErrorKind::too_deep);
}

TEST(ImapParserSearch, KeyCountLimit) {
  ParserLimits limits;
  limits.max_items = 10;
  std::string keys;
  for (int i = 0; i < 10; ++i) keys += " SEEN";
  EXPECT_TRUE(std::holds_alternative<Command>(first("s SEARCH" + keys + "\r\n", limits)));
  EXPECT_EQ(error_of("s SEARCH" + keys + " SEEN\r\n", limits).kind, ParseErrorKind::too_many);
}

// RFC 4731 ESEARCH: RETURN (...) before CHARSET and the keys; "RETURN ()" means ALL.
TEST(ImapParserSearch, ReturnOptions) {
  SearchArgs a = search("RETURN (MIN max Count) UNSEEN");
  EXPECT_TRUE(a.extended);
  EXPECT_EQ(a.returns, kReturnMin | kReturnMax | kReturnCount);
  ASSERT_EQ(a.key.children.size(), 1u);
  EXPECT_EQ(a.key.children[0].op, SearchOp::unseen);
  a = search("RETURN () ALL");
  EXPECT_TRUE(a.extended);
  EXPECT_EQ(a.returns, kReturnAll);
  a = search("RETURN (SAVE) CHARSET UTF-8 FROM x");
  EXPECT_EQ(a.returns, kReturnSave);
  EXPECT_EQ(a.charset, "UTF-8");
  a = search("ALL");
  EXPECT_FALSE(a.extended);
  EXPECT_EQ(a.returns, 0);
  EXPECT_EQ(one("u UID SEARCH RETURN (ALL) 1:*\r\n").get<SearchArgs>().returns, kReturnAll);
  for (const char* bad : {"s SEARCH RETURN (BOGUS) ALL\r\n", "s SEARCH RETURN MIN ALL\r\n",
                          "s SEARCH RETURN (MIN ALL\r\n", "s SEARCH RETURN (MIN)ALL\r\n",
                          "s SEARCH RETURN (MIN  MAX) ALL\r\n"})
    EXPECT_EQ(error_of(bad).kind, ParseErrorKind::syntax) << bad;
  // A bounded option list: more than 8 options is refused.
  EXPECT_EQ(error_of("s SEARCH RETURN (MIN MIN MIN MIN MIN MIN MIN MIN MIN) ALL\r\n").kind,
            ParseErrorKind::too_many);
}

// RFC 5182 SEARCHRES: "$" as a search key, a UID operand and any command's sequence set.
TEST(ImapParserSearch, SavedResultReference) {
  SearchKey k = key("$");
  EXPECT_EQ(k.op, SearchOp::seqset);
  EXPECT_TRUE(k.set.saved);
  EXPECT_TRUE(k.set.ranges.empty());
  k = key("UID $");
  EXPECT_EQ(k.op, SearchOp::uid);
  EXPECT_TRUE(k.set.saved);
  EXPECT_TRUE(one("f FETCH $ FLAGS\r\n").get<FetchArgs>().set.saved);
  EXPECT_TRUE(one("f UID STORE $ +FLAGS (\\Seen)\r\n").get<StoreArgs>().set.saved);
  EXPECT_TRUE(one("f UID COPY $ Trash\r\n").get<CopyArgs>().set.saved);
  EXPECT_FALSE(one("f FETCH 1:* FLAGS\r\n").get<FetchArgs>().set.saved);
  for (const char* bad : {"f FETCH $1 FLAGS\r\n", "f FETCH $,1 FLAGS\r\n", "f FETCH 1,$ FLAGS\r\n",
                          "f FETCH $:3 FLAGS\r\n"})
    EXPECT_EQ(error_of(bad).kind, ParseErrorKind::syntax) << bad;
}

// RFC 5256 SORT: criteria list (REVERSE, every key), mandatory charset, search keys.
TEST(ImapParserSearch, SortCommand) {
  Command c = one("s UID SORT (REVERSE date subject) utf-8 UNSEEN 1:5\r\n");
  EXPECT_EQ(c.name, CommandName::sort);
  EXPECT_TRUE(c.uid);
  const auto& a = c.get<SortArgs>();
  ASSERT_EQ(a.keys.size(), 2u);
  EXPECT_EQ(a.keys[0], (SortKey{SortCriterion::date, true}));
  EXPECT_EQ(a.keys[1], (SortKey{SortCriterion::subject, false}));
  EXPECT_EQ(a.search.charset, "UTF-8");
  ASSERT_EQ(a.search.key.children.size(), 2u);
  EXPECT_EQ(a.search.key.children[1].op, SearchOp::seqset);
  Command all = one("s SORT (ARRIVAL CC FROM SIZE TO) US-ASCII ALL\r\n");
  EXPECT_EQ(all.get<SortArgs>().keys.size(), 5u);
  for (const char* bad : {"s SORT SIZE UTF-8 ALL\r\n", "s SORT (SIZE) ALL\r\n",
                          "s SORT () UTF-8 ALL\r\n", "s SORT (REVERSE) UTF-8 ALL\r\n",
                          "s SORT (SIZE) UTF-8\r\n", "s SORT (SIZE)UTF-8 ALL\r\n"})
    EXPECT_EQ(error_of(bad).kind, ParseErrorKind::syntax) << bad;
  std::string many = "s SORT (";
  for (int i = 0; i < 17; ++i) many += i ? " SIZE" : "SIZE";
  EXPECT_EQ(error_of(many + ") UTF-8 ALL\r\n").kind, ParseErrorKind::too_many);
  // The search keys keep their nesting limit.
  std::string deep(40, '(');
  EXPECT_EQ(error_of("s SORT (SIZE) UTF-8 " + deep + "ALL" + std::string(40, ')') + "\r\n").kind,
            ParseErrorKind::too_deep);
}

// RFC 5256 THREAD: ORDEREDSUBJECT and REFERENCES are offered; charset and search keys as SORT.
TEST(ImapParserSearch, ThreadCommand) {
  Command c = one("t UID THREAD orderedsubject UTF-8 SEEN\r\n");
  EXPECT_EQ(c.name, CommandName::thread);
  EXPECT_TRUE(c.uid);
  EXPECT_TRUE(c.get<SortArgs>().thread);
  EXPECT_TRUE(c.get<SortArgs>().keys.empty());
  EXPECT_EQ(c.get<SortArgs>().search.charset, "UTF-8");
  EXPECT_FALSE(c.get<SortArgs>().references);
  EXPECT_TRUE(one("t THREAD references UTF-8 ALL\r\n").get<SortArgs>().references);
  for (const char* bad : {"t THREAD REFS UTF-8 ALL\r\n", "t THREAD ORDEREDSUBJECT ALL\r\n",
                          "t THREAD (ORDEREDSUBJECT) UTF-8 ALL\r\n", "t THREAD\r\n"})
    EXPECT_EQ(error_of(bad).kind, ParseErrorKind::syntax) << bad;
}

}  // namespace
}  // namespace mb::imap::test
