// File: gateway/health/greeting_probe.cpp
//
// Blocking probe: non-blocking connect + poll(2) for the deadline, then (for implicit TLS) an
// mbedTLS client handshake over BIO callbacks that poll with the remaining time, then one line.
#include "gateway/health/greeting_probe.hpp"

#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>  // MBEDTLS_ERR_NET_* codes only
#include <mbedtls/ssl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace mb::health {
namespace {

using Clock = std::chrono::steady_clock;

// The first line is short (RFC 3501 greetings carry a capability list, still well under this).
constexpr std::size_t kMaxGreeting = 4096;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// poll() one event with the time left; 1 ready, 0 timed out, -1 error (errno set).
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc;
  }
}

std::string errno_text(int err) { return std::strerror(err); }

mb::Result<int, std::string> connect_to(const std::string& host, const std::string& port,
                                        Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return mb::unexpected(std::string("resolve: ") + ::gai_strerror(rc));
  }
  std::string last = "no address";
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = "socket: " + errno_text(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      rc = wait_for(fd, POLLOUT, deadline);
      if (rc == 0) {
        ::close(fd);
        last = "connect: timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = "connect: " + errno_text(errno);
      ::close(fd);
      continue;
    }
    ::freeaddrinfo(list);
    return fd;
  }
  ::freeaddrinfo(list);
  return mb::unexpected(last);
}

// Byte source shared by the plain and TLS paths: read with the deadline.
struct Io {
  int fd;
  Clock::time_point deadline;
};

int bio_send(void* ctx, const unsigned char* buf, std::size_t len) {
  auto* io = static_cast<Io*>(ctx);
  if (wait_for(io->fd, POLLOUT, io->deadline) <= 0) return MBEDTLS_ERR_SSL_TIMEOUT;
  ssize_t n = ::send(io->fd, buf, len, MSG_NOSIGNAL);
  if (n < 0) {
    return (errno == EAGAIN || errno == EINTR) ? MBEDTLS_ERR_SSL_WANT_WRITE
                                               : MBEDTLS_ERR_NET_SEND_FAILED;
  }
  return static_cast<int>(n);
}

int bio_recv(void* ctx, unsigned char* buf, std::size_t len) {
  auto* io = static_cast<Io*>(ctx);
  if (wait_for(io->fd, POLLIN, io->deadline) <= 0) return MBEDTLS_ERR_SSL_TIMEOUT;
  ssize_t n = ::recv(io->fd, buf, len, 0);
  if (n < 0) {
    return (errno == EAGAIN || errno == EINTR) ? MBEDTLS_ERR_SSL_WANT_READ
                                               : MBEDTLS_ERR_NET_RECV_FAILED;
  }
  if (n == 0) return MBEDTLS_ERR_NET_CONN_RESET;
  return static_cast<int>(n);
}

std::string tls_error(int rc) {
  std::array<char, 160> text{};
  mbedtls_strerror(rc, text.data(), text.size());
  return text.data();
}

// RAII bundle of the mbedTLS client state for one probe.
class TlsClient {
 public:
  TlsClient() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_ssl_config_init(&conf_);
    mbedtls_ssl_init(&ssl_);
  }
  ~TlsClient() {
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  mb::Result<void, std::string> handshake(Io& io, const std::string& host) {
    static constexpr unsigned char kPers[] = "mailbridge-healthcheck";
    int rc = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, kPers, sizeof kPers - 1);
    if (rc == 0) {
      rc = mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
    }
    if (rc != 0) return mb::unexpected("TLS setup failed: " + tls_error(rc));
    // A liveness probe: self-signed and ACME certificates alike must pass.
    mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    if ((rc = mbedtls_ssl_setup(&ssl_, &conf_)) != 0 ||
        (rc = mbedtls_ssl_set_hostname(&ssl_, host.c_str())) != 0) {
      return mb::unexpected("TLS setup failed: " + tls_error(rc));
    }
    mbedtls_ssl_set_bio(&ssl_, &io, bio_send, bio_recv, nullptr);
    while ((rc = mbedtls_ssl_handshake(&ssl_)) != 0) {
      if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (rc == MBEDTLS_ERR_SSL_TIMEOUT) return mb::unexpected(std::string("TLS handshake timed out"));
      return mb::unexpected("TLS handshake failed: " + tls_error(rc));
    }
    return {};
  }

  // Like recv(): >0 bytes, 0 EOF, <0 an mbedTLS error.
  int read(unsigned char* buf, std::size_t len) {
    for (;;) {
      int rc = mbedtls_ssl_read(&ssl_, buf, len);
      if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return 0;
      return rc;
    }
  }

  void close_notify() { (void)mbedtls_ssl_close_notify(&ssl_); }

 private:
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_ssl_config conf_;
  mbedtls_ssl_context ssl_;
};

bool greeting_matches(Protocol protocol, std::string_view line) {
  return protocol == Protocol::imap ? line.starts_with("* OK") : line.starts_with("+OK");
}

}  // namespace

bool split_host_port(std::string_view address, std::string& host, std::string& port) {
  std::size_t colon = 0;
  if (address.starts_with('[')) {
    std::size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return false;
    }
    host = std::string(address.substr(1, close - 1));
    colon = close + 1;
  } else {
    colon = address.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(address.substr(0, colon));
    if (host.find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  port = std::string(address.substr(colon + 1));
  if (host.empty() || port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoul(port) <= 65535;
}

mb::Result<std::string, std::string> probe_greeting(const ProbeTarget& target,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string host;
  std::string port;
  if (!split_host_port(target.address, host, port)) {
    return mb::unexpected("bad address \"" + target.address + "\" (expected host:port or [v6]:port)");
  }
  // A listener on the wildcard address answers on loopback.
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";

  auto fd_or = connect_to(host, port, deadline);
  if (!fd_or) return mb::unexpected(fd_or.error());
  Fd fd(*fd_or);
  Io io{fd.get(), deadline};

  TlsClient tls;
  if (target.implicit_tls) {
    if (auto hs = tls.handshake(io, host); !hs) return mb::unexpected(hs.error());
  }

  std::string line;
  std::array<unsigned char, 512> buf{};
  while (line.find('\n') == std::string::npos) {
    if (line.size() > kMaxGreeting) return mb::unexpected(std::string("greeting line too long"));
    int n = 0;
    if (target.implicit_tls) {
      n = tls.read(buf.data(), buf.size());
      if (n == MBEDTLS_ERR_SSL_TIMEOUT) {
        return mb::unexpected(std::string("timed out waiting for the greeting"));
      }
      if (n < 0) return mb::unexpected("TLS read failed: " + tls_error(n));
    } else {
      n = bio_recv(&io, buf.data(), buf.size());
      if (n == MBEDTLS_ERR_SSL_TIMEOUT) {
        return mb::unexpected(std::string("timed out waiting for the greeting"));
      }
      if (n == MBEDTLS_ERR_NET_CONN_RESET) n = 0;
      if (n == MBEDTLS_ERR_SSL_WANT_READ) continue;
      if (n < 0) return mb::unexpected("read: " + errno_text(errno));
    }
    if (n == 0) {
      return mb::unexpected(line.empty() ? std::string("connection closed before the greeting")
                                         : "connection closed in the greeting \"" + line + "\"");
    }
    line.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n));
  }
  line.erase(line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (target.implicit_tls) tls.close_notify();
  if (!greeting_matches(target.protocol, line)) {
    return mb::unexpected("unexpected greeting \"" + line.substr(0, 200) + "\"");
  }
  return line;
}

}  // namespace mb::health
