// Opening trees written by Dovecot (real fixture) and Courier (hand-written uiddb) keeps
// their UIDVALIDITY, UIDs, next UID, flags and keywords.
#include <gtest/gtest.h>

#include "gateway/store/maildir/uidlist.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

class ImportTest : public StoreFixture {
 protected:
  void copy_fixture(const std::string& name) {
    fs::create_directories(tmp_ + "/alice");
    fs::copy(std::string(MB_TEST_DATA_DIR) + "/store/" + name, root(), fs::copy_options::recursive);
  }
};

TEST_F(ImportTest, DovecotInboxKeepsUidvalidityUidsFlagsKeywords) {
  copy_fixture("dovecot-maildir");
  std::string before = read_file(root() + "/dovecot-uidlist");
  auto mb = open("INBOX");
  EXPECT_EQ(mb->uidvalidity(), 1795306782u);
  EXPECT_EQ(mb->uidnext(), 5u);
  ASSERT_EQ(mb->messages().size(), 3u);
  EXPECT_EQ(mb->messages()[0].uid, 2u);
  EXPECT_EQ(mb->messages()[1].uid, 3u);
  EXPECT_EQ(mb->messages()[2].uid, 4u);
  ASSERT_EQ(mb->keywords(), (std::vector<std::string>{"$Forwarded", "Junk"}));
  EXPECT_EQ(mb->find(2)->flags, kSeen);
  EXPECT_EQ(mb->find(2)->keywords, 3u);
  EXPECT_EQ(mb->find(3)->flags, kFlagged | kAnswered);
  EXPECT_EQ(mb->find(3)->keywords, 2u);
  EXPECT_EQ(mb->find(2)->size, 124u);  // ,W= from Dovecot's name
  std::string body = read_all(*mb, 4);
  EXPECT_EQ(body, "Subject: 4\r\n\r\nfour\r\n");
  EXPECT_EQ(body.size(), mb->find(4)->size);
  // Dovecot left the files in new/: moved to cur/, UIDs unchanged on reopen.
  EXPECT_TRUE(files_in(root() + "/new").empty());
  std::string after = read_file(root() + "/dovecot-uidlist");
  EXPECT_EQ(after.substr(0, after.find('\n')).substr(0, 16), "3 V1795306782 N5");
}

TEST_F(ImportTest, DovecotFolderAndListing) {
  copy_fixture("dovecot-maildir");
  auto wp = open("Work/Projects");
  EXPECT_EQ(wp->uidvalidity(), 1795306783u);
  ASSERT_EQ(wp->messages().size(), 1u);
  EXPECT_EQ(wp->messages()[0].uid, 1u);
  auto cafe = open("Café");
  EXPECT_EQ(cafe->uidvalidity(), 1795306784u);
  auto list = await<StoreResult<std::vector<MailboxEntry>>>(&loop_, [&](auto cb) { user_->list(cb); });
  ASSERT_TRUE(list);
  std::vector<std::string> names;
  for (const auto& e : *list) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Café", "Sent", "Work", "Work/Projects"}));
  for (const auto& e : *list) {
    if (e.name == "Work") {
      EXPECT_TRUE(e.noselect);
      EXPECT_TRUE(e.has_children);
    }
    if (e.name == "Work/Projects") {
      EXPECT_TRUE(e.subscribed);
    }
    if (e.name == "INBOX") {
      EXPECT_TRUE(e.subscribed);
    }
    if (e.name == "Sent") {
      EXPECT_EQ(e.special_use, SpecialUse::sent);
    }
    if (e.name == "Café") {
      EXPECT_FALSE(e.subscribed);
    }
  }
}

TEST_F(ImportTest, DovecotTreeAppendContinuesUids) {
  copy_fixture("dovecot-maildir");
  auto mb = open("INBOX");
  EXPECT_EQ(append(*mb, "Subject: 5\n\nfive\n"), 5u);
  // The record is appended as Dovecot appends (the header's N lags; readers take the last
  // record + 1), not by rewriting the file.
  std::string text = read_file(root() + "/dovecot-uidlist");
  EXPECT_EQ(text.rfind("3 V1795306782 ", 0), 0u);
  auto parsed = maildir::parse_uidlist(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->next_uid, 6u);
  ASSERT_FALSE(parsed->entries.empty());
  EXPECT_EQ(parsed->entries.back().uid, 5u);
}

TEST_F(ImportTest, CourierUiddbImported) {
  copy_fixture("courier-maildir");
  auto mb = open("INBOX");
  EXPECT_EQ(mb->uidvalidity(), 1234567890u);
  EXPECT_EQ(mb->uidnext(), 57u);
  ASSERT_EQ(mb->messages().size(), 3u);
  EXPECT_EQ(mb->messages()[0].uid, 41u);
  EXPECT_EQ(mb->messages()[1].uid, 42u);
  EXPECT_EQ(mb->messages()[2].uid, 56u);
  EXPECT_EQ(mb->find(56)->flags, kFlagged | kSeen);
  EXPECT_EQ(mb->find(41)->size, std::string("Subject: one\r\n\r\nfirst\r\n").size());
  // Our uidlist now carries the same map.
  std::string ul = read_file(root() + "/dovecot-uidlist");
  EXPECT_EQ(ul.substr(0, 17), "3 V1234567890 N57");
  EXPECT_NE(ul.find("42 W24 :1600000100.12346_1.mail.example.org,S=21\n"), std::string::npos);
  EXPECT_EQ(append(*mb, "x\n"), 57u);
}

}  // namespace
}  // namespace mb::store::test
