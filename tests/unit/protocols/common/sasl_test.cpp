// File: tests/unit/protocols/common/sasl_test.cpp
#include "protocols/common/sasl.hpp"

#include <gtest/gtest.h>

#include <string>

#include "protocols/common/base64.hpp"

namespace mb::proto::sasl {
namespace {

using Kind = Step::Kind;
using namespace std::string_literals;

TEST(Sasl, MechanismNamesAreCaseInsensitive) {
  EXPECT_EQ(parse_mechanism("PLAIN"), Mechanism::plain);
  EXPECT_EQ(parse_mechanism("plain"), Mechanism::plain);
  EXPECT_EQ(parse_mechanism("Login"), Mechanism::login);
  EXPECT_FALSE(parse_mechanism("CRAM-MD5"));
  EXPECT_FALSE(parse_mechanism(""));
  EXPECT_FALSE(SaslServer::create("GSSAPI"));
  EXPECT_EQ(mechanism_name(Mechanism::login), "LOGIN");
}

TEST(Sasl, PlainWithInitialResponse) {
  auto s = SaslServer::create("PLAIN");
  ASSERT_TRUE(s);
  Step st = s->start(base64_encode("\0alice\0secret"s));
  ASSERT_EQ(st.kind, Kind::done);
  EXPECT_EQ(st.credentials.user, "alice");
  EXPECT_EQ(st.credentials.password, "secret");
  EXPECT_EQ(st.credentials.authzid, "");
  EXPECT_TRUE(s->finished());
}

TEST(Sasl, PlainWithoutInitialResponseSendsEmptyChallenge) {
  SaslServer s(Mechanism::plain);
  Step st = s.start(std::nullopt);
  ASSERT_EQ(st.kind, Kind::challenge);
  EXPECT_EQ(st.challenge_b64, "");
  st = s.respond(base64_encode("alice\0alice\0pw with spaces"s));
  ASSERT_EQ(st.kind, Kind::done);
  EXPECT_EQ(st.credentials.authzid, "alice");
  EXPECT_EQ(st.credentials.password, "pw with spaces");
}

TEST(Sasl, PlainRejectsForeignAuthzid) {
  SaslServer s(Mechanism::plain);
  Step st = s.start(base64_encode("admin\0alice\0pw"s));
  EXPECT_EQ(st.kind, Kind::failed);
  EXPECT_FALSE(st.error.empty());
}

TEST(Sasl, PlainRejectsMalformedMessages) {
  for (const std::string& bad : {"alice"s, "\0alice"s, "\0\0pw"s, "\0alice\0"s, "\0a\0b\0c"s,
                                 "\0"s + std::string(256, 'u') + "\0pw"s,
                                 "\0u\0"s + std::string(256, 'p')}) {
    SaslServer s(Mechanism::plain);
    EXPECT_EQ(s.start_decoded(std::string_view(bad)).kind, Kind::failed);
  }
}

TEST(Sasl, EqualsSignIsAnEmptyInitialResponse) {
  SaslServer plain(Mechanism::plain);
  EXPECT_EQ(plain.start("=").kind, Kind::failed);  // empty PLAIN message is malformed
  SaslServer login(Mechanism::login);
  EXPECT_EQ(login.start("=").kind, Kind::failed);  // empty user name
}

TEST(Sasl, BadBase64Fails) {
  SaslServer s(Mechanism::plain);
  EXPECT_EQ(s.start("not base64!").kind, Kind::failed);
  SaslServer t(Mechanism::plain);
  ASSERT_EQ(t.start(std::nullopt).kind, Kind::challenge);
  EXPECT_EQ(t.respond("AAA=BBBB").kind, Kind::failed);
}

TEST(Sasl, TooLongResponseFails) {
  SaslServer s(Mechanism::plain);
  ASSERT_EQ(s.start(std::nullopt).kind, Kind::challenge);
  EXPECT_EQ(s.respond(std::string(kMaxResponse + 4, 'A')).kind, Kind::failed);
}

TEST(Sasl, StarCancels) {
  SaslServer s(Mechanism::login);
  ASSERT_EQ(s.start(std::nullopt).kind, Kind::challenge);
  EXPECT_EQ(s.respond("*").kind, Kind::cancelled);
  EXPECT_TRUE(s.finished());
  EXPECT_EQ(s.respond("YQ==").kind, Kind::failed);  // nothing in progress any more
}

TEST(Sasl, LoginTwoSteps) {
  SaslServer s(Mechanism::login);
  Step st = s.start(std::nullopt);
  ASSERT_EQ(st.kind, Kind::challenge);
  EXPECT_EQ(*base64_decode(st.challenge_b64), "Username:");
  st = s.respond(base64_encode("bob"));
  ASSERT_EQ(st.kind, Kind::challenge);
  EXPECT_EQ(*base64_decode(st.challenge_b64), "Password:");
  st = s.respond(base64_encode("hunter2"));
  ASSERT_EQ(st.kind, Kind::done);
  EXPECT_EQ(st.credentials.user, "bob");
  EXPECT_EQ(st.credentials.password, "hunter2");
}

TEST(Sasl, LoginInitialResponseIsTheUserName) {
  SaslServer s(Mechanism::login);
  Step st = s.start(base64_encode("bob"));
  ASSERT_EQ(st.kind, Kind::challenge);
  EXPECT_EQ(*base64_decode(st.challenge_b64), "Password:");
  st = s.respond_decoded("pw");
  ASSERT_EQ(st.kind, Kind::done);
  EXPECT_EQ(st.credentials.user, "bob");
}

TEST(Sasl, LoginRejectsEmptyPassword) {
  SaslServer s(Mechanism::login);
  ASSERT_EQ(s.start_decoded(std::string_view("bob")).kind, Kind::challenge);
  EXPECT_EQ(s.respond("=").kind, Kind::failed);  // "=" is not valid base64 of 4n chars
  SaslServer t(Mechanism::login);
  ASSERT_EQ(t.start_decoded(std::string_view("bob")).kind, Kind::challenge);
  EXPECT_EQ(t.respond("").kind, Kind::failed);   // empty line = empty password
}

TEST(Sasl, RespondBeforeStartFails) {
  SaslServer s(Mechanism::plain);
  EXPECT_EQ(s.respond("AGEAYg==").kind, Kind::failed);
}

}  // namespace
}  // namespace mb::proto::sasl
