// File: tests/unit/protocols/pop3/session_test.cpp
//
// POP3 session behaviour: every command in every state, errors, limits, policies. Store and
// auth are the in-memory seams of test_support.hpp; maildir_session_test.cpp repeats the
// essentials over the real Maildir store.
#include <gtest/gtest.h>

#include "protocols/pop3/session_impl.hpp"
#include "session_harness.hpp"

namespace mb::pop3::test {
namespace {

const std::string kMsg1 = "Subject: one\r\nFrom: a@b\r\n\r\nline1\r\n.dotted\r\nline3\r\n";
const std::string kMsg2 = "Subject: two\r\n\r\nbody\r\n";

class Pop3SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.inbox()->add(kMsg1);
    h.inbox()->add(kMsg2);
  }
  void TearDown() override { EXPECT_EQ(h.sink.sends_after_close, 0u) << "send() after close()"; }
  std::string logged_in() {
    h.start();
    return h.login();
  }
  Pop3Harness h;
};

TEST_F(Pop3SessionTest, GreetingAndQuitInAuthorization) {
  EXPECT_EQ(h.start(), "+OK mailbridge POP3 ready.\r\n");
  EXPECT_EQ(h.sink.idle_timeout, h.settings.authorization_timeout);
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  EXPECT_TRUE(h.sink.closed);
}

TEST_F(Pop3SessionTest, CapaInAuthorization) {
  h.settings.tls_available = true;
  h.settings.login_delay = std::chrono::seconds(30);
  h.start();
  EXPECT_EQ(h.send("CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
            "USER\r\nSASL PLAIN LOGIN\r\nSTLS\r\nEXPIRE NEVER\r\nLOGIN-DELAY 30\r\n"
            "IMPLEMENTATION mailbridge\r\n.\r\n");
}

TEST_F(Pop3SessionTest, CapaHidesPlaintextAuthAndStlsWhereNotAllowed) {
  h.settings.plaintext = Plaintext::loopback;
  h.settings.tls_available = true;
  h.sink.loopback = false;
  h.start();
  std::string capa = h.send("CAPA\r\n");
  EXPECT_EQ(capa.find("USER\r\n"), std::string::npos);
  EXPECT_EQ(capa.find("SASL"), std::string::npos);
  EXPECT_NE(capa.find("STLS\r\n"), std::string::npos);
  EXPECT_EQ(h.send("USER alice\r\n").substr(0, 11), "-ERR [AUTH]");
  EXPECT_EQ(h.send("AUTH PLAIN\r\n").substr(0, 11), "-ERR [AUTH]");
  // Once TLS is up: USER/SASL offered, STLS not.
  h.sink.tls = true;
  capa = h.send("CAPA\r\n");
  EXPECT_NE(capa.find("USER\r\n"), std::string::npos);
  EXPECT_EQ(capa.find("STLS"), std::string::npos);
}

TEST_F(Pop3SessionTest, PlaintextNeverRequiresTls) {
  h.settings.plaintext = Plaintext::never;
  h.start();
  EXPECT_EQ(h.send("USER alice\r\n").substr(0, 11), "-ERR [AUTH]");
  h.sink.tls = true;
  EXPECT_EQ(h.send("USER alice\r\n"), "+OK\r\n");
}

TEST_F(Pop3SessionTest, UserPassLogin) {
  h.start();
  EXPECT_EQ(h.send("USER alice\r\n"), "+OK\r\n");
  EXPECT_EQ(h.send("PASS secret\r\n"), "+OK Logged in.\r\n");
  EXPECT_EQ(h.sink.user, "alice");
  EXPECT_EQ(h.sink.idle_timeout, h.settings.transaction_timeout);
  EXPECT_FALSE(h.sink.paused);
  EXPECT_EQ(h.inbox()->rescans, 1);
}

TEST_F(Pop3SessionTest, PasswordMayContainSpaces) {
  h.inbox("bob")->add(kMsg2);
  h.start();
  EXPECT_EQ(h.login("bob", "pw with spaces"), "+OK Logged in.\r\n");
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 1 22\r\n");
}

TEST_F(Pop3SessionTest, WrongPasswordAndPassWithoutUser) {
  h.start();
  EXPECT_EQ(h.send("PASS secret\r\n"), "-ERR No username given.\r\n");
  EXPECT_EQ(h.login("alice", "wrong"), "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(h.send("USER alice\r\n"), "+OK\r\n");
  EXPECT_EQ(h.send("NOOP\r\n"), "-ERR Command not valid in this state.\r\n");
  EXPECT_EQ(h.send("PASS secret\r\n"), "-ERR No username given.\r\n");  // PASS must follow USER
  EXPECT_EQ(h.send("USER\r\n"), "-ERR No username given.\r\n");
  EXPECT_EQ(h.send("USER a b\r\n"), "-ERR Too many arguments.\r\n");
  EXPECT_EQ(h.send("USER alice\r\nPASS\r\n"), "+OK\r\n-ERR No password given.\r\n");
}

TEST_F(Pop3SessionTest, TemporaryAuthFailure) {
  h.auth.temp_failure = true;
  h.start();
  EXPECT_EQ(h.login(), "-ERR [SYS/TEMP] Temporary authentication failure.\r\n");
}

TEST_F(Pop3SessionTest, StoreFailureAtLoginIsSysTemp) {
  h.storage.fail_open = true;
  h.start();
  EXPECT_EQ(h.login(), "-ERR [SYS/TEMP] Cannot open the mailbox.\r\n");
  EXPECT_EQ(h.sink.user, "");
  h.storage.fail_open = false;
  EXPECT_EQ(h.login(), "+OK Logged in.\r\n");
}

TEST_F(Pop3SessionTest, TransactionCommandsBeforeLogin) {
  h.start();
  for (const char* c : {"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1", "UIDL"}) {
    EXPECT_EQ(h.send(std::string(c) + "\r\n"), "-ERR Command not valid in this state.\r\n") << c;
  }
}

TEST_F(Pop3SessionTest, AuthorizationCommandsAfterLogin) {
  logged_in();
  for (const char* c : {"USER alice", "PASS x", "APOP alice 0123", "AUTH PLAIN", "STLS"}) {
    EXPECT_EQ(h.send(std::string(c) + "\r\n"), "-ERR Command not valid in this state.\r\n") << c;
  }
}

TEST_F(Pop3SessionTest, CapaInTransaction) {
  logged_in();
  EXPECT_EQ(h.send("CAPA\r\n"),
            "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
            "EXPIRE NEVER\r\n.\r\n");
}

TEST_F(Pop3SessionTest, StatListUidl) {
  logged_in();
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 2 72\r\n");
  EXPECT_EQ(h.send("LIST\r\n"), "+OK 2 messages:\r\n1 50\r\n2 22\r\n.\r\n");
  EXPECT_EQ(h.send("LIST 2\r\n"), "+OK 2 22\r\n");
  EXPECT_EQ(h.send("UIDL\r\n"), "+OK\r\n1 000000015f00aa01\r\n2 000000025f00aa01\r\n.\r\n");
  EXPECT_EQ(h.send("UIDL 1\r\n"), "+OK 1 000000015f00aa01\r\n");
}

TEST_F(Pop3SessionTest, BadMessageNumbers) {
  logged_in();
  EXPECT_EQ(h.send("LIST 3\r\n"), "-ERR There's no message 3.\r\n");
  EXPECT_EQ(h.send("LIST 0\r\n"), "-ERR There's no message 0.\r\n");
  EXPECT_EQ(h.send("RETR -1\r\n"), "-ERR There's no message -1.\r\n");
  EXPECT_EQ(h.send("RETR x\r\n"), "-ERR There's no message x.\r\n");
  EXPECT_EQ(h.send("UIDL 99999999999\r\n"), "-ERR There's no message 99999999999.\r\n");
  EXPECT_EQ(h.send("DELE\r\n"), "-ERR Message number required.\r\n");
  EXPECT_EQ(h.send("RETR\r\n"), "-ERR Message number required.\r\n");
  EXPECT_EQ(h.send("RETR 1 2\r\n"), "-ERR Too many arguments.\r\n");
  EXPECT_EQ(h.send("LIST 1 2\r\n"), "-ERR Too many arguments.\r\n");
  EXPECT_EQ(h.send("NOOP\r\n"), "+OK\r\n");  // 10 errors in a row would close
  EXPECT_EQ(h.send("TOP 1\r\n"), "-ERR TOP needs a message number and a line count.\r\n");
  EXPECT_EQ(h.send("TOP 1 x\r\n"), "-ERR Invalid line count.\r\n");
  EXPECT_EQ(h.send("STAT 1\r\n"), "-ERR Too many arguments.\r\n");
  EXPECT_EQ(h.send("FOO\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_EQ(h.send("\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_FALSE(h.sink.closed);
}

TEST_F(Pop3SessionTest, RetrStuffsAndSetsSeenImmediately) {
  logged_in();
  EXPECT_EQ(h.send("RETR 1\r\n"),
            "+OK 50 octets\r\nSubject: one\r\nFrom: a@b\r\n\r\nline1\r\n..dotted\r\nline3\r\n.\r\n");
  EXPECT_NE(h.inbox()->find(1)->flags & store::kSeen, 0);
  EXPECT_EQ(h.inbox()->find(2)->flags & store::kSeen, 0);
}

// seen_on_retr = immediate stores \Seen behind the RETR: the next RETRs are answered while
// the first store runs, their UIDs go to the store together in the next one, a message
// retrieved twice is asked for once, and QUIT answers only once every store is done.
TEST_F(Pop3SessionTest, RetrDoesNotWaitForItsSeenAndLaterOnesAreStoredTogether) {
  h.inbox()->add(kMsg2);  // 3
  logged_in();
  h.inbox()->hold_flag_completions = true;
  const std::string out = h.send("RETR 1\r\nRETR 2\r\nRETR 1\r\nRETR 3\r\n");
  std::size_t answers = 0;
  for (std::size_t at = out.find("+OK "); at != std::string::npos; at = out.find("+OK ", at + 1)) ++answers;
  EXPECT_EQ(answers, 4u) << out;
  using Batches = std::vector<std::vector<store::Uid>>;
  EXPECT_EQ(h.inbox()->flag_batches, (Batches{{1}}));
  EXPECT_EQ(h.send("QUIT\r\n"), "");  // waits for the \Seen stores
  h.inbox()->hold_flag_completions = false;
  h.inbox()->release_held();
  h.run();
  EXPECT_EQ(h.sink.take(), "+OK Logging out.\r\n");
  EXPECT_EQ(h.inbox()->flag_batches, (Batches{{1}, {2, 3}}));
  for (store::Uid uid : {1u, 2u, 3u}) EXPECT_NE(h.inbox()->find(uid)->flags & store::kSeen, 0) << uid;
}

// A client that leaves without QUIT still gets \Seen on what it retrieved (RETR completed),
// including the UIDs that were waiting behind a store in flight.
TEST_F(Pop3SessionTest, SeenWaitingBehindAStoreIsStoredWhenTheClientDrops) {
  logged_in();
  h.inbox()->hold_flag_completions = true;
  h.send("RETR 1\r\nRETR 2\r\n");
  using Batches = std::vector<std::vector<store::Uid>>;
  EXPECT_EQ(h.inbox()->flag_batches, (Batches{{1}}));
  h.session->on_closed();
  EXPECT_EQ(h.inbox()->flag_batches, (Batches{{1}, {2}}));
  EXPECT_NE(h.inbox()->find(2)->flags & store::kSeen, 0);
  h.inbox()->release_held();
  h.run();  // the completion of a closed session's store is dropped, not run
}

TEST_F(Pop3SessionTest, TopNeverSetsSeen) {
  logged_in();
  EXPECT_EQ(h.send("TOP 1 1\r\n"), "+OK\r\nSubject: one\r\nFrom: a@b\r\n\r\nline1\r\n.\r\n");
  EXPECT_EQ(h.send("TOP 1 0\r\n"), "+OK\r\nSubject: one\r\nFrom: a@b\r\n\r\n.\r\n");
  EXPECT_EQ(h.inbox()->find(1)->flags & store::kSeen, 0);
  EXPECT_EQ(h.inbox()->flag_calls, 0);
}

TEST_F(Pop3SessionTest, SeenOnQuitAndNever) {
  h.settings.seen_on_retr = SeenOnRetr::quit;
  logged_in();
  h.send("RETR 1\r\nRETR 2\r\n");
  EXPECT_EQ(h.inbox()->flag_calls, 0);
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  EXPECT_NE(h.inbox()->find(1)->flags & store::kSeen, 0);
  EXPECT_NE(h.inbox()->find(2)->flags & store::kSeen, 0);

  Pop3Harness n;
  n.settings.seen_on_retr = SeenOnRetr::never;
  n.inbox()->add(kMsg1);
  n.start();
  n.login();
  n.send("RETR 1\r\nQUIT\r\n");
  EXPECT_EQ(n.inbox()->find(1)->flags & store::kSeen, 0);
  EXPECT_EQ(n.inbox()->flag_calls, 0);
}

TEST_F(Pop3SessionTest, DeleRsetAndQuitExpunges) {
  logged_in();
  EXPECT_EQ(h.send("DELE 1\r\n"), "+OK Marked to be deleted.\r\n");
  EXPECT_EQ(h.send("DELE 1\r\n"), "-ERR Message is deleted.\r\n");
  EXPECT_EQ(h.send("RETR 1\r\n"), "-ERR Message is deleted.\r\n");
  EXPECT_EQ(h.send("LIST 1\r\n"), "-ERR Message is deleted.\r\n");
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 1 22\r\n");
  EXPECT_EQ(h.send("LIST\r\n"), "+OK 1 messages:\r\n2 22\r\n.\r\n");
  EXPECT_EQ(h.send("RSET\r\n"), "+OK 2 messages.\r\n");
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 2 72\r\n");
  EXPECT_EQ(h.send("DELE 2\r\n"), "+OK Marked to be deleted.\r\n");
  EXPECT_EQ(h.inbox()->messages().size(), 2u);  // nothing deleted before QUIT
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  EXPECT_TRUE(h.sink.closed);
  ASSERT_EQ(h.inbox()->messages().size(), 1u);
  EXPECT_EQ(h.inbox()->messages()[0].uid, 1u);
}

TEST_F(Pop3SessionTest, DroppedConnectionDeletesNothing) {
  logged_in();
  h.send("DELE 1\r\nDELE 2\r\n");
  h.session->on_closed();
  h.run();
  EXPECT_EQ(h.inbox()->messages().size(), 2u);
  EXPECT_EQ(h.inbox()->expunge_calls, 0);
  EXPECT_TRUE(h.inbox()->observers.empty());
}

TEST_F(Pop3SessionTest, ShutdownDeletesNothing) {
  logged_in();
  h.send("DELE 1\r\n");
  h.session->on_shutdown();
  EXPECT_TRUE(h.sink.closed);
  EXPECT_EQ(h.sink.take(), "");
  h.session->on_closed();
  h.run();
  EXPECT_EQ(h.inbox()->messages().size(), 2u);
}

TEST_F(Pop3SessionTest, DeleteModeFlagAndKeyword) {
  h.settings.delete_mode = DeleteMode::flag;
  logged_in();
  h.send("DELE 1\r\n");
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
  ASSERT_EQ(h.inbox()->messages().size(), 2u);
  EXPECT_NE(h.inbox()->find(1)->flags & store::kDeleted, 0);
  // A later POP3 session does not see it.
  Pop3Harness again(h);
  again.start();
  again.login();
  EXPECT_EQ(again.send("STAT\r\n"), "+OK 1 22\r\n");

  Pop3Harness k;
  k.settings.delete_mode = DeleteMode::keyword;
  k.inbox()->add(kMsg1);
  k.inbox()->add(kMsg2);
  k.start();
  k.login();
  k.send("DELE 2\r\n");
  EXPECT_EQ(k.send("QUIT\r\n"), "+OK Logging out.\r\n");
  ASSERT_EQ(k.inbox()->messages().size(), 2u);
  ASSERT_EQ(k.inbox()->keywords().size(), 1u);
  EXPECT_EQ(k.inbox()->keywords()[0], "$POP3Deleted");
  EXPECT_EQ(k.inbox()->find(2)->keywords, 1u);
  Pop3Harness k2(k);
  k2.start();
  k2.login();
  EXPECT_EQ(k2.send("LIST\r\n"), "+OK 1 messages:\r\n1 50\r\n.\r\n");
}

TEST_F(Pop3SessionTest, QuitStoreFailureClaimsNothing) {
  logged_in();
  h.send("DELE 1\r\n");
  h.inbox()->fail_mutations = true;
  EXPECT_EQ(h.send("QUIT\r\n"), "-ERR [SYS/TEMP] Failed to delete messages, none deleted.\r\n");
  EXPECT_TRUE(h.sink.closed);
  EXPECT_EQ(h.inbox()->messages().size(), 2u);
}

TEST_F(Pop3SessionTest, MessageExpungedMeanwhile) {
  logged_in();
  h.inbox()->remove_now(1);  // e.g. an IMAP client expunged it
  EXPECT_EQ(h.send("RETR 1\r\n"), "-ERR Message was expunged by another session.\r\n");
  EXPECT_EQ(h.send("TOP 1 0\r\n"), "-ERR Message was expunged by another session.\r\n");
  EXPECT_EQ(h.send("DELE 1\r\n"), "-ERR Message was expunged by another session.\r\n");
  // Numbers stay stable; the session goes on.
  EXPECT_EQ(h.send("LIST\r\n"), "+OK 2 messages:\r\n1 50\r\n2 22\r\n.\r\n");
  EXPECT_EQ(h.send("RETR 2\r\n"), "+OK 22 octets\r\nSubject: two\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
}

TEST_F(Pop3SessionTest, NoopAndNewMailAppearsOnlyAtNextLogin) {
  logged_in();
  h.inbox()->add(kMsg2);
  EXPECT_EQ(h.send("NOOP\r\n"), "+OK\r\n");
  EXPECT_EQ(h.send("STAT\r\n"), "+OK 2 72\r\n");
}

TEST_F(Pop3SessionTest, TenErrorsInARowClose) {
  h.start();
  for (int i = 0; i < 9; ++i) EXPECT_EQ(h.send("XXXX\r\n"), "-ERR Unknown command.\r\n");
  EXPECT_FALSE(h.sink.closed);
  EXPECT_EQ(h.send("CAPA\r\n").substr(0, 3), "+OK");  // a success resets the count
  for (int i = 0; i < 9; ++i) h.send("XXXX\r\n");
  EXPECT_FALSE(h.sink.closed);
  h.send("XXXX\r\n");
  EXPECT_TRUE(h.sink.closed);
  EXPECT_EQ(h.send("CAPA\r\n"), "");  // nothing after close
}

TEST_F(Pop3SessionTest, LongLineAnswersErrAndIsDiscarded) {
  h.start();
  EXPECT_EQ(h.send("USER " + std::string(300, 'a') + "\r\nNOOP\r\n"),
            "-ERR Line too long.\r\n-ERR Command not valid in this state.\r\n");
  // An endless line is discarded without being buffered.
  for (int i = 0; i < 100; ++i) h.send(std::string(10000, 'b'));
  EXPECT_EQ(h.send("\r\nQUIT\r\n"), "+OK Logging out.\r\n");
}

TEST_F(Pop3SessionTest, AuthPlainWithInitialResponse) {
  h.start();
  EXPECT_EQ(h.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "+OK Logged in.\r\n");  // \0alice\0secret
}

TEST_F(Pop3SessionTest, AuthPlainWithEmptyChallenge) {
  h.start();
  EXPECT_EQ(h.send("AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(h.send("AGFsaWNlAHNlY3JldA==\r\n"), "+OK Logged in.\r\n");
}

TEST_F(Pop3SessionTest, AuthLoginAndCancel) {
  h.start();
  EXPECT_EQ(h.send("AUTH LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
  EXPECT_EQ(h.send("*\r\n"), "-ERR Authentication cancelled.\r\n");
  EXPECT_EQ(h.send("AUTH LOGIN YWxpY2U=\r\n"), "+ UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(h.send("c2VjcmV0\r\n"), "+OK Logged in.\r\n");
}

TEST_F(Pop3SessionTest, AuthErrors) {
  h.start();
  EXPECT_EQ(h.send("AUTH CRAM-MD5\r\n"), "-ERR Unsupported authentication mechanism.\r\n");
  EXPECT_EQ(h.send("AUTH PLAIN !!!!\r\n"), "-ERR Invalid base64 data\r\n");
  EXPECT_EQ(h.send("AUTH PLAIN\r\n"), "+ \r\n");
  EXPECT_EQ(h.send("AGFsaWNlAHdyb25n\r\n"), "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(h.send("AUTH PLAIN YWRtaW4AYWxpY2UAc2VjcmV0\r\n"),
            "-ERR Authorization identity must match the authentication identity\r\n");
  EXPECT_EQ(h.send("AUTH\r\n"), "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
}

TEST_F(Pop3SessionTest, ApopOfferedOnlyWhenEnabledAndAvailable) {
  h.start();
  EXPECT_EQ(h.send("APOP alice 00000000000000000000000000000000\r\n"), "-ERR APOP not available.\r\n");
  Pop3Harness a;
  a.settings.apop = true;
  a.auth.apop = true;
  a.settings.hostname = "mail.test";
  a.inbox()->add(kMsg1);
  const std::string greeting = a.start();
  const auto lt = greeting.find('<');
  ASSERT_NE(lt, std::string::npos);
  EXPECT_NE(greeting.find("@mail.test>\r\n"), std::string::npos);
  EXPECT_EQ(a.send("APOP alice xyz\r\n"), "-ERR Invalid APOP arguments.\r\n");
  EXPECT_EQ(a.send("APOP alice 0000000000000000000000000000000f\r\n"), "-ERR [AUTH] Authentication failed.\r\n");
  EXPECT_EQ(a.send("APOP alice 00000000000000000000000000000000\r\n"), "+OK Logged in.\r\n");
  EXPECT_EQ(a.auth.last_apop_timestamp, greeting.substr(lt, greeting.size() - 2 - lt));
}

TEST_F(Pop3SessionTest, StlsUpgradesAndDiscardsPipelinedInput) {
  h.settings.tls_available = true;
  h.start();
  EXPECT_EQ(h.send("USER alice\r\nSTLS\r\nPASS secret\r\n"), "+OK\r\n+OK Begin TLS negotiation now.\r\n");
  EXPECT_TRUE(h.sink.tls_requested);
  EXPECT_EQ(h.send("PASS secret\r\n"), "");  // ignored until the handshake completes
  h.sink.tls = true;
  h.session->on_tls_ready();
  EXPECT_EQ(h.send("PASS secret\r\n"), "-ERR No username given.\r\n");  // USER forgotten
  EXPECT_EQ(h.send("STLS\r\n"), "-ERR TLS is already active.\r\n");
  EXPECT_EQ(h.login(), "+OK Logged in.\r\n");
}

TEST_F(Pop3SessionTest, StlsNotAvailableWithoutCertificate) {
  h.start();
  EXPECT_EQ(h.send("STLS\r\n"), "-ERR STLS not available.\r\n");
}

TEST_F(Pop3SessionTest, InUseLockAndLoginDelay) {
  h.settings.lock_session = true;
  logged_in();
  Pop3Harness second(h);
  second.start();
  EXPECT_EQ(second.login(), "-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n");
  h.send("QUIT\r\n");
  h.session->on_closed();
  EXPECT_FALSE(h.locks.is_locked("alice"));
  EXPECT_EQ(second.login(), "+OK Logged in.\r\n");

  Pop3Harness d;
  d.settings.login_delay = std::chrono::seconds(3600);
  d.start();
  EXPECT_EQ(d.login(), "+OK Logged in.\r\n");
  Pop3Harness d2(d);
  d2.start();
  EXPECT_EQ(d2.login(), "-ERR [LOGIN-DELAY] Minimum time between logins not reached.\r\n");
}

TEST_F(Pop3SessionTest, TimeoutSaysGoodbye) {
  h.start();
  h.session->on_timeout();
  EXPECT_EQ(h.sink.take(), "-ERR Disconnected for inactivity.\r\n");
  EXPECT_TRUE(h.sink.closed);
}

TEST_F(Pop3SessionTest, CompletionsAfterCloseAreIgnored) {
  h.start();
  h.send("USER alice\r\n");
  h.session->on_data("PASS secret\r\n");  // verification pending
  h.session->on_closed();
  h.run();
  EXPECT_EQ(h.sink.take(), "");
  EXPECT_TRUE(h.inbox()->observers.empty());
  // And after destruction.
  Pop3Harness g;
  g.start();
  g.session->on_data("USER alice\r\nPASS secret\r\n");
  g.session.reset();
  g.run();
}

TEST_F(Pop3SessionTest, PausesReadingWhileBusy) {
  h.start();
  h.send("USER alice\r\n");
  h.session->on_data("PASS secret\r\nSTAT\r\n");
  EXPECT_TRUE(h.sink.paused);
  h.run();
  EXPECT_FALSE(h.sink.paused);
  EXPECT_EQ(h.sink.take(), "+OK Logged in.\r\n+OK 2 72\r\n");
}

TEST_F(Pop3SessionTest, BufferedInputIsBounded) {
  logged_in();
  h.session->on_data("RETR 1\r\n");  // busy: pipelined input is buffered
  h.session->on_data(std::string(kMaxBufferedInput + 1, 'x'));
  EXPECT_TRUE(h.sink.closed);
}

}  // namespace
}  // namespace mb::pop3::test
