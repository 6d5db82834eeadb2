// File: tests/unit/protocols/pop3/expire_test.cpp
//
// RFC 2449 §6.7 EXPIRE as advertised and enforced at QUIT (Settings::expire_days), and the
// RFC 1939 §3 autologout timer (Settings::transaction_timeout) once logged in.
#include <gtest/gtest.h>

#include "tests/unit/protocols/common/counting_events.hpp"

#include <chrono>

#include "session_harness.hpp"

namespace mb::pop3::test {
namespace {

const std::string kMsg = "Subject: x\r\n\r\nbody\r\n";  // 20 octets

std::int64_t days_ago(int days) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() -
         std::int64_t{days} * 86400;
}

std::string capa_expire_line(Pop3Harness& h) {
  const std::string capa = h.send("CAPA\r\n");
  const auto at = capa.find("EXPIRE");
  return at == std::string::npos ? "" : capa.substr(at, capa.find("\r\n", at) - at);
}

TEST(Pop3Expire, NeverIsAdvertisedAndDeletesNothingUndeleted) {
  Pop3Harness h;
  h.inbox()->add(kMsg, store::kSeen, 0, days_ago(4000));
  h.start();
  EXPECT_EQ(capa_expire_line(h), "EXPIRE NEVER");
  h.login();
  h.send("RETR 1\r\n");
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  EXPECT_EQ(h.inbox()->messages().size(), 1u);
}

TEST(Pop3Expire, ZeroDeletesWhatThisSessionRetrievedAtQuit) {
  Pop3Harness h;
  h.settings.expire_days = 0;
  h.inbox()->add(kMsg);                    // 1: RETR
  h.inbox()->add(kMsg);                    // 2: TOP only
  h.inbox()->add(kMsg, store::kSeen);      // 3: read over IMAP before, not retrieved now
  h.inbox()->add(kMsg, store::kSeen);      // 4: already \Seen, RETR now
  h.start();
  EXPECT_EQ(capa_expire_line(h), "EXPIRE 0");
  h.login();
  EXPECT_EQ(capa_expire_line(h), "EXPIRE 0");
  h.send("RETR 1\r\nTOP 2 0\r\nRETR 4\r\n");
  EXPECT_EQ(h.send("RETR 9\r\n"), "-ERR There's no message 9.\r\n");
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 4 80\r\n");  // implicit only when UPDATE starts
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  std::vector<store::Uid> left;
  for (const auto& m : h.inbox()->messages()) left.push_back(m.uid);
  EXPECT_EQ(left, (std::vector<store::Uid>{2, 3}));
}

TEST(Pop3Expire, ZeroDeletesNothingWithoutQuitOrAfterRset) {
  Pop3Harness h;
  h.settings.expire_days = 0;
  h.inbox()->add(kMsg);
  h.start();
  h.login();
  h.send("RETR 1\r\n");
  h.session->on_closed();  // dropped: RFC 1939 §6, no UPDATE state
  h.run();
  EXPECT_EQ(h.inbox()->messages().size(), 1u);
  EXPECT_EQ(h.inbox()->expunge_calls, 0);
}

TEST(Pop3Expire, FailedRetrDoesNotCountAsRetrieved) {
  Pop3Harness h;
  h.settings.expire_days = 0;
  h.inbox()->add(kMsg);
  h.inbox()->add(kMsg);
  h.start();
  h.login();
  h.inbox()->remove_now(2);  // expunged by another session: RETR 2 answers -ERR
  EXPECT_EQ(h.send("RETR 2\r\n"), "-ERR Message was expunged by another session.\r\n");
  h.send("QUIT\r\n");
  EXPECT_EQ(h.inbox()->messages().size(), 1u);
  EXPECT_EQ(h.inbox()->expunge_calls, 0);
}

TEST(Pop3Expire, DaysExpireReadMailDeliveredLongAgoOnly) {
  Pop3Harness h;
  h.settings.expire_days = 30;
  h.settings.seen_on_retr = SeenOnRetr::never;  // retrieval in this session still counts
  h.inbox()->add(kMsg, store::kSeen, 0, days_ago(40));  // 1: read, old        -> expired
  h.inbox()->add(kMsg, 0, 0, days_ago(40));             // 2: unread, old      -> kept
  h.inbox()->add(kMsg, store::kSeen, 0, days_ago(1));   // 3: read, recent     -> kept
  h.inbox()->add(kMsg, 0, 0, days_ago(40));             // 4: RETR now, old    -> expired
  h.inbox()->add(kMsg, 0, 0, days_ago(29));             // 5: RETR now, recent -> kept
  h.start();
  EXPECT_EQ(capa_expire_line(h), "EXPIRE 30");
  h.login();
  h.send("RETR 4\r\nRETR 5\r\n");
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  std::vector<store::Uid> left;
  for (const auto& m : h.inbox()->messages()) left.push_back(m.uid);
  EXPECT_EQ(left, (std::vector<store::Uid>{2, 3, 5}));
}

TEST(Pop3Expire, ImplicitDeletesFollowDeleteMode) {
  Pop3Harness h;
  h.settings.expire_days = 0;
  h.settings.delete_mode = DeleteMode::keyword;
  h.inbox()->add(kMsg);
  h.start();
  h.login();
  h.send("RETR 1\r\n");
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  ASSERT_EQ(h.inbox()->messages().size(), 1u);  // kept for IMAP, hidden from POP3
  EXPECT_EQ(h.inbox()->keywords(), std::vector<std::string>{"$POP3Deleted"});
  EXPECT_EQ(h.inbox()->find(1)->keywords, 1u);
}

TEST(Pop3Autologout, TransactionTimeoutAppliesAfterLogin) {
  Pop3Harness h;
  h.settings.authorization_timeout = std::chrono::seconds(45);
  h.settings.transaction_timeout = std::chrono::seconds(900);
  h.start();
  EXPECT_EQ(h.sink.idle_timeout, std::chrono::seconds(45));
  EXPECT_EQ(h.login(), "+OK Logged in.\r\n");
  EXPECT_EQ(h.sink.idle_timeout, std::chrono::seconds(900));
  h.session->on_timeout();
  EXPECT_EQ(h.sink.take(), "-ERR Disconnected for inactivity.\r\n");
  EXPECT_TRUE(h.sink.closed);
}

}  // namespace
}  // namespace mb::pop3::test

namespace mb::pop3::test {
namespace {

// SessionEvents::protocol_error: unknown commands, wrong state and over-long lines are
// reported; failed logins and out-of-range message numbers are not.
using proto::test::CountingEvents;

TEST(Pop3Events, ProtocolErrorsAreReported) {
  CountingEvents events;
  Pop3Harness h;
  h.settings.events = &events;
  h.inbox()->add(kMsg);
  h.start();
  h.send("STAT\r\n");                                // wrong state
  h.send("XYZZY\r\n");                               // unknown
  h.send(std::string(300, 'A') + "\r\n");           // over 255 octets
  EXPECT_EQ(events.protocol_errors, 3);
  h.send("USER alice\r\nPASS wrong\r\n");            // a failed login is not one
  EXPECT_EQ(events.protocol_errors, 3);
  h.login();
  h.send("RETR 7\r\n");                              // no such message: not one either
  h.send("USER bob\r\n");                            // wrong state again
  EXPECT_EQ(events.protocol_errors, 4);
  EXPECT_EQ(events.last_protocol, "pop3");
}

}  // namespace
}  // namespace mb::pop3::test
