// Tests for gateway/health: real sockets on 127.0.0.1 port 0 with tiny listeners in threads
// (plain, and TLS through mbedTLS with a certificate made by the openssl CLI).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "gateway/health/greeting_probe.hpp"
#include "gateway/health/healthcheck.hpp"

namespace mb::health {
namespace {

using namespace std::chrono_literals;

void drain_until_eof(int fd) {
  char buf[256];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Accepts connections on 127.0.0.1:<ephemeral> in a thread and hands each to `serve`.
class TestListener {
 public:
  explicit TestListener(std::function<void(int)> serve) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TestListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  TestListener(const TestListener&) = delete;
  TestListener& operator=(const TestListener&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      serve_(client);
      ::close(client);
    }
  }

  std::function<void(int)> serve_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::function<void(int)> greet(std::string greeting) {
  return [greeting](int fd) {
    send_all(fd, greeting);
    drain_until_eof(fd);
  };
}

// A port nobody listens on: bind, read the port, close.
std::string closed_address() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// ----------------------------------------------------------------------------------------------
// TLS server side, for imaps/pop3s probes.

int fd_send(void* ctx, const unsigned char* buf, std::size_t len) {
  ssize_t n = ::send(*static_cast<int*>(ctx), buf, len, MSG_NOSIGNAL);
  return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : static_cast<int>(n);
}
int fd_recv(void* ctx, unsigned char* buf, std::size_t len) {
  ssize_t n = ::recv(*static_cast<int*>(ctx), buf, len, 0);
  if (n == 0) return MBEDTLS_ERR_NET_CONN_RESET;
  return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : static_cast<int>(n);
}

class TlsFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() /
           ("mb-health-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                      "-keyout '" + (dir_ / "key.pem").string() + "' -out '" +
                      (dir_ / "cert.pem").string() + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  // Serves one TLS connection: handshake, greeting, read until the client closes.
  static std::function<void(int)> tls_greet(std::string greeting) {
    return [greeting](int fd) {
      mbedtls_entropy_context entropy;
      mbedtls_ctr_drbg_context drbg;
      mbedtls_x509_crt crt;
      mbedtls_pk_context key;
      mbedtls_ssl_config conf;
      mbedtls_ssl_context ssl;
      mbedtls_entropy_init(&entropy);
      mbedtls_ctr_drbg_init(&drbg);
      mbedtls_x509_crt_init(&crt);
      mbedtls_pk_init(&key);
      mbedtls_ssl_config_init(&conf);
      mbedtls_ssl_init(&ssl);
      bool ok = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, nullptr, 0) == 0 &&
                mbedtls_x509_crt_parse_file(&crt, (dir_ / "cert.pem").c_str()) == 0 &&
                mbedtls_pk_parse_keyfile(&key, (dir_ / "key.pem").c_str(), nullptr) == 0 &&
                mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
                                            MBEDTLS_SSL_TRANSPORT_STREAM,
                                            MBEDTLS_SSL_PRESET_DEFAULT) == 0;
      if (ok) {
        mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
        ok = mbedtls_ssl_conf_own_cert(&conf, &crt, &key) == 0 && mbedtls_ssl_setup(&ssl, &conf) == 0;
      }
      EXPECT_TRUE(ok);
      int sock = fd;
      mbedtls_ssl_set_bio(&ssl, &sock, fd_send, fd_recv, nullptr);
      if (ok && mbedtls_ssl_handshake(&ssl) == 0) {
        mbedtls_ssl_write(&ssl, reinterpret_cast<const unsigned char*>(greeting.data()),
                          greeting.size());
        unsigned char buf[256];
        while (mbedtls_ssl_read(&ssl, buf, sizeof buf) > 0) {
        }
      }
      mbedtls_ssl_free(&ssl);
      mbedtls_ssl_config_free(&conf);
      mbedtls_pk_free(&key);
      mbedtls_x509_crt_free(&crt);
      mbedtls_ctr_drbg_free(&drbg);
      mbedtls_entropy_free(&entropy);
    };
  }

  static inline std::filesystem::path dir_;
};

// ----------------------------------------------------------------------------------------------

TEST(SplitHostPort, AcceptsV4V6AndRejectsMalformed) {
  std::string host;
  std::string port;
  ASSERT_TRUE(split_host_port("127.0.0.1:143", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, "143");
  ASSERT_TRUE(split_host_port("[::1]:993", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, "993");
  EXPECT_FALSE(split_host_port("::1:993", host, port));
  EXPECT_FALSE(split_host_port("127.0.0.1", host, port));
  EXPECT_FALSE(split_host_port("127.0.0.1:", host, port));
  EXPECT_FALSE(split_host_port("127.0.0.1:99999", host, port));
  EXPECT_FALSE(split_host_port("127.0.0.1:14x", host, port));
  EXPECT_FALSE(split_host_port("[::1]993", host, port));
  EXPECT_FALSE(split_host_port(":143", host, port));
}

TEST(ProbeGreeting, ImapOk) {
  TestListener l(greet("* OK [CAPABILITY IMAP4rev1] ready\r\n"));
  auto r = probe_greeting({Protocol::imap, false, l.address()}, 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "* OK [CAPABILITY IMAP4rev1] ready");
}

TEST(ProbeGreeting, Pop3OkSentByteByByte) {
  TestListener l([](int fd) {
    for (char c : std::string("+OK POP3 ready <1.2@x>\r\n")) send_all(fd, std::string_view(&c, 1));
    drain_until_eof(fd);
  });
  auto r = probe_greeting({Protocol::pop3, false, l.address()}, 5s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "+OK POP3 ready <1.2@x>");
}

TEST(ProbeGreeting, WrongGreetingFailsWithTheLine) {
  TestListener pop(greet("-ERR too busy\r\n"));
  auto r = probe_greeting({Protocol::pop3, false, pop.address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "unexpected greeting \"-ERR too busy\"");

  TestListener imap_bye(greet("* BYE shutting down\r\n"));
  r = probe_greeting({Protocol::imap, false, imap_bye.address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("* BYE"), std::string::npos);

  // A POP3 server on an IMAP port is not healthy.
  TestListener crossed(greet("+OK POP3\r\n"));
  EXPECT_FALSE(probe_greeting({Protocol::imap, false, crossed.address()}, 5s));
}

TEST(ProbeGreeting, RefusedConnection) {
  auto r = probe_greeting({Protocol::imap, false, closed_address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "connect: Connection refused");
}

TEST(ProbeGreeting, SilentServerTimesOut) {
  TestListener l([](int fd) { drain_until_eof(fd); });
  auto r = probe_greeting({Protocol::imap, false, l.address()}, 200ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "timed out waiting for the greeting");
}

TEST(ProbeGreeting, ClosedBeforeGreeting) {
  TestListener l([](int) {});
  auto r = probe_greeting({Protocol::pop3, false, l.address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "connection closed before the greeting");
}

TEST(ProbeGreeting, OverlongGreetingIsRefused) {
  TestListener l(greet("* OK " + std::string(10000, 'x')));
  auto r = probe_greeting({Protocol::imap, false, l.address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "greeting line too long");
}

TEST(ProbeGreeting, BadAddress) {
  auto r = probe_greeting({Protocol::imap, false, "localhost"}, 1s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("bad address"), std::string::npos);
}

TEST_F(TlsFixture, ImapsAndPop3sGreetThroughTls) {
  TestListener imaps(tls_greet("* OK imaps ready\r\n"));
  auto r = probe_greeting({Protocol::imap, true, imaps.address()}, 10s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "* OK imaps ready");

  TestListener pop3s(tls_greet("+OK pop3s ready\r\n"));
  r = probe_greeting({Protocol::pop3, true, pop3s.address()}, 10s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(*r, "+OK pop3s ready");
}

TEST_F(TlsFixture, TlsProbeOfPlainListenerFails) {
  TestListener plain(greet("* OK plain\r\n"));
  auto r = probe_greeting({Protocol::imap, true, plain.address()}, 5s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rfind("TLS handshake failed", 0), 0u) << r.error();
}

TEST_F(TlsFixture, RunHealthcheckAllListeners) {
  TestListener imap(greet("* OK\r\n"));
  TestListener imaps(tls_greet("* OK\r\n"));
  TestListener pop3(greet("+OK\r\n"));
  TestListener pop3s(tls_greet("+OK\r\n"));
  EXPECT_EQ(run_healthcheck({imap.address()}, {imaps.address()}, {pop3.address()},
                            {pop3s.address()}, 10s),
            0);
  auto results = check_listeners({imap.address()}, {imaps.address()}, {pop3.address()},
                                 {pop3s.address(), closed_address()}, 10s);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[1].kind, "imaps");
  EXPECT_TRUE(results[3].ok);
  EXPECT_FALSE(results[4].ok);
  EXPECT_EQ(results[4].kind, "pop3s");
  // One listener down is a failed check.
  EXPECT_EQ(run_healthcheck({imap.address()}, {}, {closed_address()}, {}, 5s), 1);
}

TEST(RunHealthcheck, NothingConfiguredFails) {
  EXPECT_EQ(run_healthcheck({}, {}, {}, {}, 1s), 1);
}

TEST(RunHealthcheck, ConfigWildcardAddressIsProbedOnLoopback) {
  TestListener imap(greet("* OK\r\n"));
  mb::config::Config config;
  config.listen.imap.push_back({"0.0.0.0", imap.port(), false});
  EXPECT_EQ(run_healthcheck(config, 5s), 0);
  config.listen.pop3.push_back({"127.0.0.1", 1, false});  // nobody on port 1
  EXPECT_EQ(run_healthcheck(config, 5s), 1);
}

}  // namespace
}  // namespace mb::health
