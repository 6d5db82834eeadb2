// Name validation, path templates, modified UTF-7, uidlist and file-name parsing.
#include <gtest/gtest.h>

#include "gateway/store/mailbox_name.hpp"
#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/maildir_user.hpp"
#include "gateway/store/maildir/mutf7.hpp"
#include "gateway/store/maildir/uidlist.hpp"
#include "gateway/store/registry.hpp"

namespace mb::store {
namespace {

TEST(MailboxName, NormalisesInbox) {
  EXPECT_EQ(*normalize_mailbox_name("inbox"), "INBOX");
  EXPECT_EQ(*normalize_mailbox_name("InBox/Sub"), "INBOX/Sub");
  EXPECT_EQ(*normalize_mailbox_name("Work/Inbox"), "Work/Inbox");
  EXPECT_EQ(*normalize_mailbox_name("Café"), "Café");
}

TEST(MailboxName, RefusesEachUnsafeForm) {
  struct Case {
    std::string name;
    const char* why;
  };
  for (const auto& c : std::vector<Case>{{"..", "'..'"},
                                         {"a/..", "'..'"},
                                         {".", "'.'"},
                                         {"/etc", "start with '/'"},
                                         {"~user", "'~'"},
                                         {std::string("a\0b", 3), "control"},
                                         {"a\tb", "control"},
                                         {"a\x7f", "control"},
                                         {".x", "starts with '.'"},
                                         {"a.b", "hierarchy separator"},
                                         {"", "empty"},
                                         {"a//b", "empty component"},
                                         {"a/", "empty component"},
                                         {std::string(256, 'x'), "component is too long"},
                                         {std::string(200, 'x') + "/" + std::string(200, 'x') + "/" +
                                              std::string(200, 'x') + "/" + std::string(200, 'x') + "/" +
                                              std::string(200, 'x') + "/" + std::string(200, 'x'),
                                          "too long"},
                                         {"\xc3\x28", "UTF-8"}}) {
    auto r = normalize_mailbox_name(c.name);
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().kind, ErrorKind::bad_name);
    EXPECT_NE(r.error().public_text.find(c.why), std::string::npos) << r.error().public_text;
  }
  EXPECT_TRUE(normalize_mailbox_name(std::string(255, 'x')));
}

TEST(UserPath, ExpandsTemplate) {
  EXPECT_EQ(*expand_user_path("/srv/%d/%n/Maildir", "bob@example.org", ""), "/srv/example.org/bob/Maildir");
  EXPECT_EQ(*expand_user_path("/srv/%u", "bob", ""), "/srv/bob");
  EXPECT_EQ(*expand_user_path("/srv/%%u", "bob", ""), "/srv/%u");
  EXPECT_EQ(*expand_user_path("", "bob", "/home/bob"), "/home/bob/Maildir");
  EXPECT_FALSE(expand_user_path("", "bob", ""));
  EXPECT_FALSE(expand_user_path("/srv/%u", "../x", ""));
  EXPECT_FALSE(expand_user_path("/srv/%u", "a/b", ""));
  EXPECT_FALSE(expand_user_path("rel/%u", "bob", ""));
}

TEST(Registry, RefusesUnknownDriverAndRelativePath) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  StoreSettings s;
  s.driver = "mbox";
  auto r = make_storage(s, &loop);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("store.driver"), std::string::npos);
  s.driver = "maildir";
  s.path_template = "relative/%u";
  EXPECT_FALSE(make_storage(s, &loop));
  s.path_template = "/srv/%u";
  EXPECT_TRUE(make_storage(s, &loop));
  uv_loop_close(&loop);
}

TEST(Mutf7, RoundTrips) {
  using maildir::mutf7_decode;
  using maildir::mutf7_encode;
  EXPECT_EQ(mutf7_encode("Café"), "Caf&AOk-");
  EXPECT_EQ(mutf7_encode("a&b"), "a&-b");
  EXPECT_EQ(mutf7_encode("日本語"), "&ZeVnLIqe-");
  EXPECT_EQ(*mutf7_decode("&ZeVnLIqe-"), "日本語");
  EXPECT_EQ(*mutf7_decode("Caf&AOk-"), "Café");
  EXPECT_EQ(*mutf7_decode("a&-b"), "a&b");
  EXPECT_EQ(*mutf7_decode(mutf7_encode("😀 x")), "😀 x");
  EXPECT_FALSE(mutf7_decode("&AGE-"));  // encoded ASCII is not allowed
  EXPECT_FALSE(mutf7_decode("&ZeV"));
  EXPECT_FALSE(mutf7_decode("a\x01"));
}

TEST(UidList, ParsesDovecotV3AndCourier) {
  auto v3 = maildir::parse_uidlist("3 V17 N9 Gabc\n2 :one,S=5,W=6\n5 W44 S40 :two\n");
  ASSERT_TRUE(v3);
  EXPECT_EQ(v3->uidvalidity, 17u);
  EXPECT_EQ(v3->next_uid, 9u);
  EXPECT_EQ(v3->guid, "abc");
  ASSERT_EQ(v3->entries.size(), 2u);
  EXPECT_EQ(v3->entries[1].uid, 5u);
  EXPECT_EQ(v3->entries[1].base, "two");
  EXPECT_EQ(*v3->entries[1].wire_size, 44u);
  auto c = maildir::parse_uidlist("1 99 10\n3 a.b.c\n7 d\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->uidvalidity, 99u);
  EXPECT_EQ(c->entries[1].base, "d");
  EXPECT_FALSE(maildir::parse_uidlist("3 V1 N2\n5 :a\n4 :b\n"));  // not ascending
  EXPECT_FALSE(maildir::parse_uidlist("3 N2\n"));                 // no UIDVALIDITY
  // A torn last line (an append cut short) is ignored and reported, as Dovecot's reader does.
  auto torn = maildir::parse_uidlist("3 V1 N2\n1 :a\n2 :b");
  ASSERT_TRUE(torn);
  EXPECT_TRUE(torn->torn);
  ASSERT_EQ(torn->entries.size(), 1u);
  EXPECT_EQ(torn->next_uid, 2u);
  EXPECT_FALSE(maildir::parse_uidlist("3 V1 N2\n1 :a\n")->torn);
  EXPECT_FALSE(maildir::parse_uidlist("2 V1 N2\n"));              // unknown version
  // next UID below the highest listed is raised.
  EXPECT_EQ(maildir::parse_uidlist("3 V1 N2\n8 :a\n")->next_uid, 9u);
}

TEST(FileName, ParsesFlagsKeywordsAndSizes) {
  auto p = maildir::parse_file_name("1.M2P3.host,S=117,W=124:2,FRSab");
  EXPECT_EQ(p.base, "1.M2P3.host,S=117,W=124");
  EXPECT_EQ(p.flags, kFlagged | kAnswered | kSeen);
  EXPECT_EQ(p.keyword_letters, 3u);
  EXPECT_EQ(*p.file_size, 117u);
  EXPECT_EQ(*p.wire_size, 124u);
  EXPECT_EQ(maildir::info_suffix(kSeen | kDraft | kDeleted | kFlagged | kAnswered, 5u), ":2,DFRSTac");
  EXPECT_EQ(*maildir::delivery_usecs("1700000000.M42P1.h"), 1700000000000042u);
  EXPECT_FALSE(maildir::delivery_usecs("abc"));
}

TEST(Subscriptions, ReadsDovecotAndCourierForms) {
  EXPECT_EQ(maildir::parse_subscriptions("V\t2\n\nINBOX\nWork\tProjects\n"),
            (std::vector<std::string>{"INBOX", "Work/Projects"}));
  EXPECT_EQ(maildir::parse_subscriptions("INBOX\nINBOX.Sent\nINBOX.A.B\n"),
            (std::vector<std::string>{"INBOX", "Sent", "A/B"}));
}

}  // namespace
}  // namespace mb::store
