// File: tests/unit/protocols/imap/session/session_basic_test.cpp
//
// Not-authenticated state, login, state checks, bad input and the any-state commands.
#include "tests/unit/protocols/common/counting_events.hpp"
#include "tests/unit/protocols/imap/session/session_fixture.hpp"

namespace mb::imap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST_F(ImapSessionTest, GreetingAdvertisesCapabilitiesAndLoginPolicy) {
  Client& c = connect();
  std::string g = c.sink->take();
  EXPECT_THAT(g, StartsWith("* OK [CAPABILITY IMAP4rev1 "));
  EXPECT_THAT(g, HasSubstr("AUTH=PLAIN"));
  EXPECT_THAT(g, HasSubstr("STARTTLS"));
  EXPECT_THAT(g, HasSubstr("SASL-IR"));
  EXPECT_THAT(g, Not(HasSubstr("LOGINDISABLED")));
  EXPECT_EQ(c.sink->idle_timeout, std::chrono::seconds(60));
}

// SessionEvents::protocol_error (metrics errors_total{kind="protocol"}): every BAD counts,
// from the parser or the state checks; NO answers and failed logins do not.
TEST_F(ImapSessionTest, ProtocolErrorsAreReported) {
  proto::test::CountingEvents events;
  Settings s;
  s.events = &events;
  Client& c = connect(s);
  c.sink->take();
  EXPECT_THAT(c.cmd("a FROBNICATE"), HasSubstr("a BAD"));
  EXPECT_THAT(c.cmd("b SELECT INBOX"), HasSubstr("b BAD"));
  EXPECT_THAT(c.cmd("c LOGIN alice wrong"), HasSubstr("c NO"));
  EXPECT_EQ(events.protocol_errors, 2);
  EXPECT_THAT(c.cmd("d FETCH"), HasSubstr("d BAD"));
  EXPECT_EQ(events.protocol_errors, 3);
  EXPECT_EQ(events.last_protocol, "imap");
}

TEST_F(ImapSessionTest, LoginDisabledWithoutTlsOnRemotePeer) {
  Client& c = connect();
  c.sink->loopback = false;
  c.sink->take();
  std::string r = c.cmd("a CAPABILITY");
  EXPECT_THAT(r, HasSubstr("LOGINDISABLED"));
  EXPECT_THAT(r, Not(HasSubstr("AUTH=PLAIN")));
  r = c.cmd("b LOGIN alice secret");
  EXPECT_THAT(r, HasSubstr("b NO [PRIVACYREQUIRED]"));
  r = c.cmd("c AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==");
  EXPECT_THAT(r, HasSubstr("c NO [PRIVACYREQUIRED]"));
  // Once TLS is active the same peer may log in.
  c.sink->tls = true;
  r = c.cmd("d CAPABILITY");
  EXPECT_THAT(r, Not(HasSubstr("STARTTLS")));
  EXPECT_THAT(r, HasSubstr("AUTH=PLAIN"));
  EXPECT_THAT(c.cmd("e LOGIN alice secret"), HasSubstr("e OK"));
}

TEST_F(ImapSessionTest, PlaintextAlwaysAllowsRemoteLogin) {
  Settings s;
  s.plaintext = PlaintextPolicy::always;
  Client& c = connect(s);
  c.sink->loopback = false;
  c.sink->take();
  EXPECT_THAT(c.cmd("a LOGIN alice secret"), HasSubstr("a OK"));
}

TEST_F(ImapSessionTest, PlaintextNeverRefusesLoopbackLogin) {
  Settings s;
  s.plaintext = PlaintextPolicy::never;
  Client& c = connect(s);
  c.sink->take();
  EXPECT_THAT(c.cmd("a LOGIN alice secret"), HasSubstr("a NO [PRIVACYREQUIRED]"));
}

TEST_F(ImapSessionTest, LoginSuccessAndFailure) {
  Client& c = connect();
  c.sink->take();
  std::string r = c.cmd("a1 LOGIN alice wrong");
  EXPECT_THAT(r, HasSubstr("a1 NO [AUTHENTICATIONFAILED]"));
  r = c.cmd("a2 LOGIN nosuchuser secret");
  EXPECT_THAT(r, HasSubstr("a2 NO [AUTHENTICATIONFAILED]"));
  r = c.cmd("a3 LOGIN alice secret");
  EXPECT_THAT(r, HasSubstr("a3 OK [CAPABILITY IMAP4rev1"));
  EXPECT_THAT(r, HasSubstr("UIDPLUS"));
  EXPECT_EQ(c.sink->user, "alice");
  EXPECT_EQ(c.sink->idle_timeout, std::chrono::seconds(30 * 60));
  EXPECT_FALSE(c.sink->paused);
  r = c.cmd("a4 LOGIN alice secret");
  EXPECT_THAT(r, HasSubstr("a4 BAD"));
  r = c.cmd("a5 CAPABILITY");
  EXPECT_THAT(r, HasSubstr("MOVE"));
  EXPECT_THAT(r, HasSubstr("SPECIAL-USE"));
  EXPECT_THAT(r, Not(HasSubstr("STARTTLS")));
}

TEST_F(ImapSessionTest, LoginWithQuotedAndLiteralArguments) {
  Client& c = connect();
  c.sink->take();
  std::string r = c.feed("x LOGIN \"alice\" {6}\r\n", "+ ");
  EXPECT_THAT(r, StartsWith("+ "));
  c.session->on_data("secret\r\n");
  r = c.wait_for("x OK");
  EXPECT_THAT(r, HasSubstr("x OK"));
}

TEST_F(ImapSessionTest, AuthenticatePlainWithInitialResponse) {
  Client& c = connect();
  c.sink->take();
  // base64("\0alice\0secret")
  EXPECT_THAT(c.cmd("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA=="), HasSubstr("a OK"));
}

TEST_F(ImapSessionTest, AuthenticatePlainWithContinuation) {
  Client& c = connect();
  c.sink->take();
  std::string r = c.feed("a AUTHENTICATE PLAIN\r\n", "+");
  EXPECT_THAT(r, StartsWith("+"));
  r = c.feed("AGFsaWNlAHdyb25n\r\n", "a NO");
  EXPECT_THAT(r, HasSubstr("a NO [AUTHENTICATIONFAILED]"));
}

TEST_F(ImapSessionTest, AuthenticateLoginTwoSteps) {
  Client& c = connect();
  c.sink->take();
  std::string r = c.feed("a AUTHENTICATE LOGIN\r\n", "+ ");
  EXPECT_THAT(r, HasSubstr("+ VXNlcm5hbWU6"));  // "Username:"
  r = c.feed("YWxpY2U=\r\n", "+ ");
  EXPECT_THAT(r, HasSubstr("+ UGFzc3dvcmQ6"));  // "Password:"
  r = c.feed("c2VjcmV0\r\n", "a OK");
  EXPECT_THAT(r, HasSubstr("a OK"));
}

TEST_F(ImapSessionTest, AuthenticateCancelAndUnknownMechanism) {
  Client& c = connect();
  c.sink->take();
  c.feed("a AUTHENTICATE PLAIN\r\n", "+");
  EXPECT_THAT(c.feed("*\r\n", "a BAD"), HasSubstr("a BAD"));
  EXPECT_THAT(c.cmd("b AUTHENTICATE CRAM-MD5"), HasSubstr("b NO"));
  EXPECT_THAT(c.cmd("c NOOP"), HasSubstr("c OK"));
}

TEST_F(ImapSessionTest, CommandsInTheWrongState) {
  Client& c = connect();
  c.sink->take();
  EXPECT_THAT(c.cmd("a SELECT INBOX"), HasSubstr("a BAD"));
  EXPECT_THAT(c.cmd("b FETCH 1 FLAGS"), HasSubstr("b BAD"));
  EXPECT_THAT(c.cmd("c LIST \"\" *"), HasSubstr("c BAD"));
  c.login();
  EXPECT_THAT(c.cmd("d FETCH 1 FLAGS"), HasSubstr("d BAD No mailbox selected"));
  EXPECT_THAT(c.cmd("e EXPUNGE"), HasSubstr("e BAD"));
  EXPECT_THAT(c.cmd("f CLOSE"), HasSubstr("f BAD"));
  EXPECT_THAT(c.cmd("g STARTTLS"), HasSubstr("g BAD"));
  EXPECT_THAT(c.cmd("h AUTHENTICATE PLAIN"), HasSubstr("h BAD"));
}

TEST_F(ImapSessionTest, UnknownCommandAndSyntaxErrorsAreBad) {
  Client& c = connect();
  c.sink->take();
  EXPECT_THAT(c.cmd("a FROBNICATE"), HasSubstr("a BAD"));
  EXPECT_THAT(c.cmd("b LOGIN"), HasSubstr("b BAD"));
  std::string r = c.feed("\r\n", "BAD");
  EXPECT_THAT(r, HasSubstr("BAD"));
  EXPECT_THAT(c.cmd("c NOOP"), HasSubstr("c OK"));
}

TEST_F(ImapSessionTest, OverlongLineIsRefusedAndSessionContinues) {
  Settings s;
  s.max_line_size = 1024;
  Client& c = connect(s);
  c.sink->take();
  std::string big = "a NOOP " + std::string(4000, 'x') + "\r\n";
  std::string r = c.feed(big, "BAD");
  EXPECT_THAT(r, HasSubstr("BAD"));
  EXPECT_THAT(c.cmd("b NOOP"), HasSubstr("b OK"));
}

TEST_F(ImapSessionTest, TooBigLiteralIsRefusedBeforeAnyByte) {
  Client& c = connect();
  c.login();
  std::string r = c.feed("a LOGIN {100000}\r\n", "BAD");
  EXPECT_THAT(r, HasSubstr("a BAD"));
  EXPECT_THAT(r, Not(HasSubstr("+ ")));
  r = c.feed("b APPEND INBOX {999999999}\r\n", "b NO");
  EXPECT_THAT(r, HasSubstr("b NO [TOOBIG]"));
  EXPECT_THAT(c.cmd("c NOOP"), HasSubstr("c OK"));
}

TEST_F(ImapSessionTest, TooBigNonSyncLiteralIsDrainedThenClosed) {
  Client& c = connect();
  c.sink->take();
  // RFC 7888 §4: the client is already sending the octets; answer, read them, then close.
  std::string r = c.feed("a LOGIN alice {70000+}\r\n", "BYE");
  EXPECT_THAT(r, HasSubstr("a BAD"));
  EXPECT_THAT(r, HasSubstr("* BYE"));
  EXPECT_FALSE(c.sink->closed);
  c.session->on_data(std::string(69999, 'x'));
  EXPECT_FALSE(c.sink->closed);
  c.session->on_data("x\r\n");
  EXPECT_TRUE(c.sink->closed);
}

TEST_F(ImapSessionTest, NoopLogoutAndIdAndNamespaceAndEnable) {
  Client& c = connect();
  c.sink->take();
  EXPECT_THAT(c.cmd("a NOOP"), HasSubstr("a OK"));
  std::string r = c.cmd("b ID (\"name\" \"test\")");
  EXPECT_THAT(r, HasSubstr("* ID (\"name\" \"mailbridge\""));
  EXPECT_THAT(r, HasSubstr("b OK"));
  c.login();
  r = c.cmd("c NAMESPACE");
  EXPECT_THAT(r, HasSubstr("* NAMESPACE ((\"\" \"/\")) NIL NIL"));
  r = c.cmd("d ENABLE CONDSTORE");
  EXPECT_THAT(r, HasSubstr("* ENABLED"));
  EXPECT_THAT(r, HasSubstr("d OK"));
  r = c.cmd("e LOGOUT");
  EXPECT_THAT(r, HasSubstr("* BYE"));
  EXPECT_THAT(r, HasSubstr("e OK"));
  EXPECT_TRUE(c.sink->closed);
}

TEST_F(ImapSessionTest, StartTlsDiscardsPipelinedInputAndKeepsState) {
  Client& c = connect();
  c.sink->loopback = false;
  c.sink->take();
  // The injected command after STARTTLS must not run (RFC 3501 §6.2.1).
  c.session->on_data("a STARTTLS\r\nb LOGIN alice secret\r\n");
  settle();
  std::string r = c.sink->take();
  EXPECT_THAT(r, HasSubstr("a OK"));
  EXPECT_THAT(r, Not(HasSubstr("b ")));
  EXPECT_TRUE(c.sink->tls_requested);
  c.sink->tls = true;
  c.session->on_tls_ready();
  r = c.cmd("c CAPABILITY");
  EXPECT_THAT(r, Not(HasSubstr("STARTTLS")));
  EXPECT_THAT(c.cmd("d LOGIN alice secret"), HasSubstr("d OK"));
}

TEST_F(ImapSessionTest, ShutdownAndTimeoutSayBye) {
  Client& c = connect();
  c.sink->take();
  c.session->on_timeout();
  EXPECT_THAT(c.sink->take(), HasSubstr("* BYE"));
  Client& d = connect();
  d.sink->take();
  d.session->on_shutdown();
  EXPECT_THAT(d.sink->take(), HasSubstr("* BYE"));
  EXPECT_TRUE(d.sink->closed);
}

TEST_F(ImapSessionTest, PipelinedCommandsAnsweredInOrder) {
  Client& c = connect();
  c.sink->take();
  c.session->on_data("a NOOP\r\nb LOGIN alice secret\r\nc NOOP\r\nd CAPABILITY\r\n");
  run_until([&] { return has_tagged(c.sink->output, "d"); });
  std::string r = c.sink->take();
  auto pa = r.find("a OK");
  auto pb = r.find("b OK");
  auto pc = r.find("c OK");
  auto pd = r.find("d OK");
  ASSERT_NE(pd, std::string::npos) << r;
  EXPECT_LT(pa, pb);
  EXPECT_LT(pb, pc);
  EXPECT_LT(pc, pd);
}

TEST_F(ImapSessionTest, ByteAtATimeInput) {
  Client& c = connect();
  c.sink->take();
  std::string input = "a LOGIN alice {6}\r\nsecret\r\nb NOOP\r\n";
  for (char ch : input) {
    c.session->on_data(std::string_view(&ch, 1));
    settle();
  }
  run_until([&] { return has_tagged(c.sink->output, "b"); });
  std::string r = c.sink->take();
  EXPECT_THAT(r, HasSubstr("a OK"));
  EXPECT_THAT(r, HasSubstr("b OK"));
}

TEST_F(ImapSessionTest, ClosedSessionIgnoresLateCompletions) {
  Client& c = connect();
  c.sink->take();
  c.session->on_data("a LOGIN alice secret\r\n");
  c.session->on_closed();
  c.sink->closed = true;
  settle();
  EXPECT_EQ(c.sink->output.find("a OK"), std::string::npos);
}

// Settings::events: what the gateway's metrics see (sessions, TLS, logins, command names
// from a fixed set, each command reported once when its tagged response goes out).
class CountingEvents final : public proto::SessionEvents {
 public:
  void session_started(std::string_view protocol, bool tls) override {
    log += "start:" + std::string(protocol) + (tls ? ":tls" : "") + "\n";
  }
  void session_ended(std::string_view protocol) override {
    log += "end:" + std::string(protocol) + "\n";
  }
  void tls_upgraded(std::string_view protocol) override {
    log += "tls:" + std::string(protocol) + "\n";
  }
  void login(std::string_view protocol, std::string_view result) override {
    log += "login:" + std::string(protocol) + ":" + std::string(result) + "\n";
  }
  void command_done(std::string_view protocol, std::string_view command,
                    std::chrono::steady_clock::duration elapsed) override {
    EXPECT_GE(elapsed.count(), 0);
    log += "cmd:" + std::string(protocol) + ":" + std::string(command) + "\n";
  }
  std::string log;
};

TEST_F(ImapSessionTest, ReportsSessionEventsThroughSettings) {
  CountingEvents events;
  Settings settings;
  settings.events = &events;
  Client& c = connect(settings);
  c.sink->take();
  EXPECT_EQ(events.log, "start:imap\n");
  events.log.clear();
  c.cmd("a STARTTLS");
  c.session->on_tls_ready();
  c.cmd("b LOGIN alice wrong");
  c.cmd("c LOGIN alice secret");
  c.cmd("d SELECT INBOX");
  c.cmd("e UID FETCH 1:* FLAGS");
  c.cmd("f FROBNICATE");
  c.cmd("g NOOP");
  c.session->on_closed();
  c.session->on_closed();
  EXPECT_EQ(events.log,
            "cmd:imap:STARTTLS\ntls:imap\n"
            "login:imap:failed\ncmd:imap:LOGIN\n"
            "login:imap:ok\ncmd:imap:LOGIN\n"
            "cmd:imap:SELECT\ncmd:imap:UID FETCH\ncmd:imap:UNKNOWN\ncmd:imap:NOOP\n"
            "end:imap\n");
}

}  // namespace
}  // namespace mb::imap::test
