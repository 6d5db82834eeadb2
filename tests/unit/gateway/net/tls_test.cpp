// TLS tests: self-signed generation, context loading errors, implicit TLS, STARTTLS,
// garbage handshakes and certificate reload, with an mbedTLS client on a real socket.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gateway/net/self_signed.hpp"
#include "gateway/net/tls_context.hpp"
#include "tests/unit/gateway/net/test_support.hpp"

namespace mb::net::test {
namespace {

namespace fs = std::filesystem;

class NetTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("tls");
    ASSERT_FALSE(dir_.empty());
    auto r1 = generate_self_signed((dir_ / "a.crt").string(), (dir_ / "a.key").string(), "alpha");
    ASSERT_TRUE(r1) << r1.error();
    auto r2 = generate_self_signed((dir_ / "b.crt").string(), (dir_ / "b.key").string(), "beta");
    ASSERT_TRUE(r2) << r2.error();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const char* name) { return (dir_ / name).string(); }
  static std::shared_ptr<TlsContext> load(const char* cert, const char* key) {
    auto r = TlsContext::load(path(cert), path(key));
    EXPECT_TRUE(r) << (r ? "" : r.error());
    return r ? *r : nullptr;
  }
  static fs::path dir_;
};
fs::path NetTls::dir_;

TEST_F(NetTls, SelfSignedFilesHaveTheRightModesAndLoad) {
  struct stat st{};
  ASSERT_EQ(::stat(path("a.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path("a.crt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // No temporary files left behind.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos);
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  ASSERT_EQ(mbedtls_x509_crt_parse_file(&crt, path("a.crt").c_str()), 0);
  char buf[256];
  mbedtls_x509_dn_gets(buf, sizeof buf, &crt.subject);
  EXPECT_NE(std::string(buf).find("CN=alpha"), std::string::npos);
  // Valid for about ten years.
  EXPECT_GE(crt.valid_to.year - crt.valid_from.year, 10);
  // The SAN carries localhost (what the test clients verify).
  std::uint32_t flags = 0;
  EXPECT_EQ(mbedtls_x509_crt_verify(&crt, &crt, nullptr, "localhost", &flags, nullptr, nullptr), 0);
  EXPECT_EQ(flags, 0u);
  mbedtls_x509_crt_free(&crt);
  EXPECT_NE(load("a.crt", "a.key"), nullptr);
}

TEST_F(NetTls, LoadErrorsNameTheFileAndReason) {
  auto missing = TlsContext::load(path("nope.crt"), path("a.key"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("nope.crt"), std::string::npos);
  EXPECT_NE(missing.error().find("No such file"), std::string::npos);

  auto mismatch = TlsContext::load(path("a.crt"), path("b.key"));
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("does not match"), std::string::npos);

  std::ofstream(path("junk.pem")) << "not a certificate\n";
  auto junk = TlsContext::load(path("junk.pem"), path("a.key"));
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().find("junk.pem"), std::string::npos);
}

TEST_F(NetTls, ImplicitTlsRoundTrip) {
  Observed obs;
  Harness h;
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imaps", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    TlsClient client(path("a.crt"));
    client.attach(connect_to(port));
    ASSERT_EQ(client.handshake(), 0);
    EXPECT_NE(client.peer_subject().find("CN=alpha"), std::string::npos);
    EXPECT_EQ(client.read_line(), "HELLO");
    ASSERT_TRUE(client.write("secret line\r\n"));
    EXPECT_EQ(client.read_line(), "secret line");
    // A line bigger than one TLS record crosses record boundaries.
    std::string big(40000, 'z');
    ASSERT_TRUE(client.write(big + "\r\n"));
    EXPECT_EQ(client.read_line(), big);
    ASSERT_TRUE(client.write("QUIT\r\n"));
    EXPECT_EQ(client.read_line(), "BYE");
    EXPECT_EQ(client.read_line(), "<EOF>");
  });
  EXPECT_TRUE(obs.last_is_tls);
  EXPECT_EQ(obs.closed, 1);
  NetStats s = h.server().stats("imaps");
  EXPECT_EQ(s.tls_handshakes, 1u);
  EXPECT_EQ(s.tls_failures, 0u);
}

TEST_F(NetTls, StartTlsUpgradesInPlaceAndDropsPipelinedPlaintext) {
  Observed obs;
  Harness h;
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    // "INJECTED" rides in the same segment as STARTTLS: it must never be executed.
    ASSERT_TRUE(write_all(fd, "STARTTLS\r\nINJECTED\r\n"));
    ASSERT_EQ(read_line(fd), "OK begin TLS");
    TlsClient client(path("a.crt"));
    client.attach(fd);
    ASSERT_EQ(client.handshake(), 0);
    EXPECT_EQ(client.read_line(), "TLS READY");
    ASSERT_TRUE(client.write("after\r\n"));
    EXPECT_EQ(client.read_line(), "after");
  });
  EXPECT_EQ(obs.tls_ready, 1);
  EXPECT_EQ(h.server().stats("imap").tls_handshakes, 1u);
}

TEST_F(NetTls, PausedTlsSessionGetsTheRestOfTheChunkAfterResume) {
  Observed obs;
  Harness h;
  h.server().set_tls_context(load("a.crt", "a.key"));
  proto::SessionSink* sink = nullptr;
  ASSERT_TRUE(h.server().add_listener(
      "127.0.0.1:0", {"imaps", true, [&](proto::SessionSink& s) -> proto::SessionPtr {
                        sink = &s;
                        return std::make_unique<EchoSession>(s, obs);
                      }}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    TlsClient client(path("a.crt"));
    int fd = connect_to(port);
    client.attach(fd);
    ASSERT_EQ(client.handshake(), 0);
    ASSERT_EQ(client.read_line(), "HELLO");
    // Several records, most likely read by the server in one chunk: the session pauses
    // after the first; the rest must wait, then arrive complete and in order.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
    ASSERT_TRUE(client.write("PAUSE\r\n"));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(client.write("r" + std::to_string(i) + "\r\n"));
    int zero = 0;
    ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero);
    EXPECT_EQ(client.read_line(), "PAUSED");
    h.on_loop([&] { sink->resume_reading(); });
    for (int i = 0; i < 20; ++i) EXPECT_EQ(client.read_line(), "r" + std::to_string(i));
  });
  EXPECT_EQ(obs.closed, 1);
}

TEST_F(NetTls, GarbageHandshakeClosesOnlyThatConnection) {
  Observed obs;
  Harness h;
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"pop3s", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    TlsClient good(path("a.crt"));
    good.attach(connect_to(port));
    ASSERT_EQ(good.handshake(), 0);
    EXPECT_EQ(good.read_line(), "HELLO");

    int bad = connect_to(port);
    ASSERT_TRUE(write_all(bad, std::string("GET / HTTP/1.0\r\n\r\n") + std::string(300, '\x16')));
    EXPECT_TRUE(reads_eof(bad));
    ::close(bad);

    ASSERT_TRUE(good.write("still fine\r\n"));
    EXPECT_EQ(good.read_line(), "still fine");
  });
  NetStats s = h.server().stats("pop3s");
  EXPECT_EQ(s.tls_failures, 1u);
  EXPECT_EQ(s.tls_handshakes, 1u);
  EXPECT_EQ(obs.started, 1);  // the garbage connection never reached its session's start
}

TEST_F(NetTls, ManyRandomGarbageHandshakesNeverDisturbAGoodConnection) {
  Observed obs;
  ServerLimits limits;
  limits.tls_handshake_timeout = std::chrono::seconds(1);
  Harness h(limits);
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imaps", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    TlsClient good(path("a.crt"));
    good.attach(connect_to(port));
    ASSERT_EQ(good.handshake(), 0);
    ASSERT_EQ(good.read_line(), "HELLO");
    std::uint32_t seed = 12345;
    for (int i = 0; i < 40; ++i) {
      std::string junk;
      // Half start like a TLS handshake record so the parser gets past the first byte.
      if (i % 2 == 0) junk = std::string("\x16\x03\x03", 3);
      for (int j = 0; j < 50 + i * 37; ++j) {
        seed = seed * 1103515245u + 12345u;
        junk += static_cast<char>(seed >> 24);
      }
      int fd = connect_to(port);
      write_all(fd, junk);
      EXPECT_TRUE(reads_eof(fd)) << i;  // closed by the server: failure or handshake timeout
      ::close(fd);
    }
    ASSERT_TRUE(good.write("survived\r\n"));
    EXPECT_EQ(good.read_line(), "survived");
  });
  EXPECT_EQ(obs.started, 1);
  EXPECT_EQ(h.server().stats("imaps").tls_handshakes, 1u);
  EXPECT_EQ(h.server().stats("imaps").tls_failures, 40u);
}

TEST_F(NetTls, HandshakeTimeoutClosesSilentClient) {
  Observed obs;
  ServerLimits limits;
  limits.tls_handshake_timeout = std::chrono::seconds(1);
  Harness h(limits);
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imaps", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);  // never says anything
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_EQ(h.server().stats("imaps").tls_failures, 1u);
  EXPECT_EQ(obs.started, 0);
}

TEST_F(NetTls, ReloadKeepsOpenConnectionWhileNewOnesUseTheNewCertificate) {
  Observed obs;
  Harness h;
  h.server().set_tls_context(load("a.crt", "a.key"));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imaps", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  auto ctx_b = load("b.crt", "b.key");
  h.run([&] {
    TlsClient old_client(path("a.crt"));
    old_client.attach(connect_to(port));
    ASSERT_EQ(old_client.handshake(), 0);
    EXPECT_EQ(old_client.read_line(), "HELLO");

    h.on_loop([&] { h.server().set_tls_context(ctx_b); });  // SIGHUP

    TlsClient new_client(path("b.crt"));
    new_client.attach(connect_to(port));
    ASSERT_EQ(new_client.handshake(), 0);
    EXPECT_NE(new_client.peer_subject().find("CN=beta"), std::string::npos);
    EXPECT_EQ(new_client.read_line(), "HELLO");

    ASSERT_TRUE(old_client.write("old works\r\n"));
    EXPECT_EQ(old_client.read_line(), "old works");
    EXPECT_NE(old_client.peer_subject().find("CN=alpha"), std::string::npos);
    ASSERT_TRUE(new_client.write("new works\r\n"));
    EXPECT_EQ(new_client.read_line(), "new works");
  });
  EXPECT_EQ(h.server().stats("imaps").tls_handshakes, 2u);
}

TEST_F(NetTls, ImplicitTlsWithoutCertificateRefuses) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imaps", true, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_EQ(h.server().stats("imaps").refused, 1u);
}

}  // namespace
}  // namespace mb::net::test
