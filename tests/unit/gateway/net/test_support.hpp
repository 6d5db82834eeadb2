// File: tests/unit/gateway/net/test_support.hpp
//
// Helpers for the transport tests: a line-echo test Session, blocking clients (plain and
// mbedTLS) run on a separate thread while the loop runs on the test thread, and a harness
// that shuts the server down from the loop when the client thread is finished.
#pragma once

#include <arpa/inet.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/net/server.hpp"
#include "gateway/uv/async.hpp"
#include "gateway/uv/loop.hpp"
#include "gateway/uv/timer.hpp"
#include "protocols/common/session.hpp"

namespace mb::net::test {

inline char pattern_byte(std::uint64_t i) { return static_cast<char>('a' + (i * 7 + i / 26) % 26); }

// A proto::BodySource of `size` pattern bytes (pattern_byte(i) at offset i), for the body
// pump. `stop_at`: read() answers would_block once that many octets came out (as a store
// source meeting an uncached block does). `gate`: the first read() waits until it is set,
// so a test can hold the pump thread inside a job; `entered` is set when it starts waiting.
class PatternSource final : public proto::BodySource {
 public:
  explicit PatternSource(std::uint64_t size, std::uint64_t stop_at = UINT64_MAX,
                         std::atomic<bool>* gate = nullptr, std::atomic<bool>* entered = nullptr)
      : size_(size), stop_at_(stop_at), gate_(gate), entered_(entered) {}
  Step read(char* dst, std::size_t max) override {
    if (entered_ != nullptr) *entered_ = true;
    if (gate_ != nullptr) {
      while (!gate_->load()) std::this_thread::yield();
      gate_ = nullptr;
    }
    Step step;
    std::uint64_t end = std::min<std::uint64_t>({pos_ + max, size_, std::max(stop_at_, pos_)});
    for (std::uint64_t i = pos_; i < end; ++i) dst[i - pos_] = pattern_byte(i);
    step.wire = step.written = static_cast<std::size_t>(end - pos_);
    pos_ = end;
    if (end < size_ && end == stop_at_ && step.wire < max) step.status = Status::would_block;
    return step;
  }
  std::size_t room_for(std::size_t max) const override { return max; }
  std::uint64_t position() const { return pos_; }

 private:
  std::uint64_t pos_ = 0;
  std::uint64_t size_;
  std::uint64_t stop_at_;
  std::atomic<bool>* gate_;
  std::atomic<bool>* entered_;
};

// Shared observations from sessions (loop thread writes, test thread reads after join).
struct Observed {
  std::atomic<int> started{0};
  std::atomic<int> closed{0};
  std::atomic<int> timeouts{0};
  std::atomic<int> shutdowns{0};
  std::atomic<int> tls_ready{0};
  std::atomic<std::size_t> max_queued{0};
  std::atomic<std::size_t> max_pump_bytes{0};  // most bytes one STREAM pump() sent
  std::atomic<int> reentrant_closed{0};  // on_closed() called from inside a sink call
  std::atomic<int> offloads{0};          // OFFLOAD jobs the sink took
  std::atomic<bool>* offload_gate = nullptr;  // handed to the first OFFLOAD's source
  std::string last_peer;
  std::string last_id;
  bool last_loopback = false;
  bool last_is_tls = false;
};

// Line echo. Commands: "STARTTLS" (reply, start_tls, drop the rest of the buffer),
// "QUIT" (BYE + close), "STREAM n" (n bytes honouring back-pressure), "BLAST" (keeps
// sending from a timer, ignoring back-pressure; needs a loop), "IDLE n" (idle timeout),
// "PAUSE" (pause_reading; the test resumes), "OFFLOAD n" ("BODY n", n pattern bytes
// through offload_body() where the sink takes them, the rest sent here, then "END").
class EchoSession final : public proto::Session {
 public:
  EchoSession(proto::SessionSink& sink, Observed& obs, bool obey_shutdown = true,
              uv_loop_t* loop = nullptr)
      : sink_(sink), obs_(obs), obey_shutdown_(obey_shutdown) {
    if (loop != nullptr) blast_timer_ = uv::Timer(loop);
  }

  void on_start() override {
    ++obs_.started;
    obs_.last_peer = sink_.peer_address();
    obs_.last_id = sink_.connection_id();
    obs_.last_loopback = sink_.is_loopback();
    obs_.last_is_tls = sink_.is_tls();
    sink_.send("HELLO\r\n");
  }
  void on_data(std::string_view bytes) override {
    buf_.append(bytes);
    std::size_t pos;
    while (!closed_ && (pos = buf_.find('\n')) != std::string::npos) {
      std::string line = buf_.substr(0, pos);
      buf_.erase(0, pos + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      handle(line);
    }
  }
  void on_writable() override { pump(); }
  void on_tls_ready() override {
    ++obs_.tls_ready;
    sink_.send("TLS READY\r\n");
  }
  void on_shutdown() override {
    ++obs_.shutdowns;
    if (!obey_shutdown_) return;
    sink_.send("BYE shutdown\r\n");
    sink_.close();
  }
  void on_timeout() override {
    ++obs_.timeouts;
    sink_.send("BYE timeout\r\n");
  }
  void on_closed() override {
    if (in_sink_call_) ++obs_.reentrant_closed;
    closed_ = true;
    blast_timer_.stop();
    ++obs_.closed;
  }

 private:
  void handle(const std::string& line) {
    if (line == "STARTTLS") {
      sink_.send("OK begin TLS\r\n");
      sink_.start_tls();
      buf_.clear();  // RFC 3501 §6.2.1: pipelined plaintext is dropped
      return;
    }
    if (line == "QUIT") {
      sink_.send("BYE\r\n");
      in_sink_call_ = true;
      sink_.close();
      sink_.send("AFTER CLOSE\r\n");  // must be ignored
      in_sink_call_ = false;
      return;
    }
    if (line.rfind("STREAM ", 0) == 0) {
      stream_left_ = std::stoull(line.substr(7));
      pump();
      return;
    }
    if (line.rfind("BIG ", 0) == 0) {  // one large send() (the direct-write path), then END
      std::size_t n = std::stoull(line.substr(4));
      std::string big(n, ' ');
      for (std::size_t i = 0; i < n; ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
      sink_.send(big);
      sink_.send("END\r\n");
      return;
    }
    if (line.rfind("OFFLOAD ", 0) == 0) {
      std::uint64_t n = std::stoull(line.substr(8));
      body_ = std::make_unique<PatternSource>(n, UINT64_MAX, obs_.offload_gate);
      obs_.offload_gate = nullptr;
      body_left_ = n;
      offload_head_ = "BODY " + std::to_string(n) + "\r\n";
      offload();
      return;
    }
    if (line == "BLAST") {
      // Ignores back-pressure: 64 KB every millisecond whatever output_queued() says.
      blast_timer_.start(1, 1, [this] {
        sink_.send(std::string(64 * 1024, 'b'));
        note_queue();
      });
      return;
    }
    if (line == "PAUSE") {  // resumed by the test through the sink
      sink_.pause_reading();
      sink_.send("PAUSED\r\n");
      return;
    }
    if (line.rfind("IDLE ", 0) == 0) {
      sink_.set_idle_timeout(std::chrono::seconds(std::stoi(line.substr(5))));
      sink_.send("OK\r\n");
      return;
    }
    sink_.send(line + "\r\n");
  }
  // Hands the rest of the body to the sink's pump; what it declines is sent from here.
  void offload() {
    while (body_left_ > 0) {
      if (sink_.output_queued() >= proto::kOutputHighWater) return;  // on_writable() goes on
      std::unique_ptr<proto::BodySource> src(std::move(body_));
      bool taken = sink_.offload_body(offload_head_, src, body_left_, [this](proto::SessionSink::OffloadResult r) {
        if (closed_) return;
        body_left_ -= r.consumed;
        body_.reset(static_cast<PatternSource*>(r.source.release()));
        offload();
      });
      offload_head_.clear();
      if (taken) {
        ++obs_.offloads;
        return;
      }
      body_.reset(static_cast<PatternSource*>(src.release()));
      std::string chunk(static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, 64 * 1024)), ' ');
      auto step = body_->read(chunk.data(), chunk.size());
      sink_.send(std::string_view(chunk.data(), step.written));
      body_left_ -= step.wire;
    }
    if (body_) {
      body_.reset();
      sink_.send("END\r\n");
    }
  }
  void pump() {
    if (body_) {
      offload();
      return;
    }
    std::string chunk(64 * 1024, 'x');
    std::size_t sent = 0;
    while (stream_left_ > 0 && sink_.output_queued() < proto::kOutputHighWater) {
      std::size_t n = std::min<std::size_t>(stream_left_, chunk.size());
      sink_.send(std::string_view(chunk.data(), n));
      stream_left_ -= n;
      sent += n;
      note_queue();
    }
    if (sent > obs_.max_pump_bytes) obs_.max_pump_bytes = sent;
  }
  void note_queue() {
    std::size_t q = sink_.output_queued();
    if (q > obs_.max_queued) obs_.max_queued = q;
  }

  proto::SessionSink& sink_;
  Observed& obs_;
  bool obey_shutdown_;
  std::string buf_;
  std::size_t stream_left_ = 0;
  std::unique_ptr<PatternSource> body_;  // OFFLOAD: the body when not with the pump
  std::uint64_t body_left_ = 0;
  std::string offload_head_;
  uv::Timer blast_timer_;
  bool closed_ = false;
  bool in_sink_call_ = false;
};

inline SessionFactory echo_factory(Observed& obs, bool obey_shutdown = true,
                                   uv_loop_t* loop = nullptr) {
  return [&obs, obey_shutdown, loop](proto::SessionSink& sink) -> proto::SessionPtr {
    return std::make_unique<EchoSession>(sink, obs, obey_shutdown, loop);
  };
}

// Runs `client` on a thread while the loop runs here; when the client returns, shuts the
// server down from the loop and runs until everything is closed.
class Harness {
 public:
  explicit Harness(ServerLimits limits = {}) : server_(loop_.get(), limits) {}
  ~Harness() = default;

  Server& server() { return server_; }
  uv_loop_t* loop() { return loop_.get(); }

  // Runs `fn` on the loop thread (blocks the caller until done).
  void on_loop(std::function<void()> fn) {
    std::atomic<bool> done{false};
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back([&] {
        fn();
        done = true;
      });
    }
    async_->send();
    while (!done.load()) std::this_thread::yield();
  }

  bool shutdown_done() const { return shutdown_done_; }

  void run(const std::function<void()>& client) {
    async_ = std::make_unique<uv::Async>(loop_.get(), [this] { drain(); });
    std::thread t([&] {
      client();
      {
        std::lock_guard<std::mutex> lock(mu_);
        finished_ = true;
      }
      async_->send();
    });
    loop_.run();
    t.join();
  }

 private:
  void drain() {
    std::vector<std::function<void()>> calls;
    bool finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      calls.swap(calls_);
      finished = finished_;
    }
    for (auto& c : calls) c();
    if (finished && !shutdown_started_) {
      shutdown_started_ = true;
      server_.shutdown([this] {
        shutdown_done_ = true;
        async_->close();
      });
    }
  }

  uv::Loop loop_;
  Server server_;
  std::unique_ptr<uv::Async> async_;
  std::mutex mu_;
  std::vector<std::function<void()>> calls_;
  bool finished_ = false;
  bool shutdown_started_ = false;
  bool shutdown_done_ = false;
};

// ---- blocking plain client -------------------------------------------------------------

inline int connect_to(std::uint16_t port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  timeval tv{20, 0};  // safety net against a hung test, not a timing assertion
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads one line (without CRLF); "<EOF>" on end of stream or error.
inline std::string read_line(int fd) {
  std::string line;
  char ch;
  while (true) {
    ssize_t n = ::recv(fd, &ch, 1, 0);
    if (n <= 0) return line.empty() ? "<EOF>" : line;
    if (ch == '\n') break;
    line += ch;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Reads exactly n bytes (fewer only on end of stream or error).
inline std::string read_exact(int fd, std::size_t n) {
  std::string got;
  char buf[65536];
  while (got.size() < n) {
    ssize_t k = ::recv(fd, buf, std::min(sizeof buf, n - got.size()), 0);
    if (k <= 0) break;
    got.append(buf, static_cast<std::size_t>(k));
  }
  return got;
}

// True when the peer closed (EOF or reset) before sending anything more.
inline bool reads_eof(int fd) {
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

// ---- blocking mbedTLS client -----------------------------------------------------------

class TlsClient {
 public:
  // Trusts exactly `ca_cert_path` and checks the name "localhost".
  explicit TlsClient(const std::string& ca_cert_path) {
    mbedtls_net_init(&net_);
    mbedtls_ssl_init(&ssl_);
    mbedtls_ssl_config_init(&conf_);
    mbedtls_x509_crt_init(&ca_);
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0);
    ca_ok_ = mbedtls_x509_crt_parse_file(&ca_, ca_cert_path.c_str()) == 0;
    mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                MBEDTLS_SSL_PRESET_DEFAULT);
    mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf_, &ca_, nullptr);
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_ssl_setup(&ssl_, &conf_);
    mbedtls_ssl_set_hostname(&ssl_, "localhost");
  }
  ~TlsClient() {
    if (net_.fd >= 0 && !borrowed_) mbedtls_net_free(&net_);
    mbedtls_ssl_free(&ssl_);
    mbedtls_ssl_config_free(&conf_);
    mbedtls_x509_crt_free(&ca_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Takes over an already connected socket (implicit TLS or after STARTTLS).
  void attach(int fd, bool owned = true) {
    net_.fd = fd;
    borrowed_ = !owned;
    mbedtls_ssl_set_bio(&ssl_, &net_, mbedtls_net_send, mbedtls_net_recv, nullptr);
  }
  // 0 on success, else the mbedTLS error.
  int handshake() {
    if (!ca_ok_) return -1;
    int rc;
    while ((rc = mbedtls_ssl_handshake(&ssl_)) == MBEDTLS_ERR_SSL_WANT_READ ||
           rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    }
    return rc;
  }
  bool write(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    std::size_t left = s.size();
    while (left > 0) {
      int rc = mbedtls_ssl_write(&ssl_, p, left);
      if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
      if (rc <= 0) return false;
      p += rc;
      left -= static_cast<std::size_t>(rc);
    }
    return true;
  }
  std::string read_line() {
    std::string line;
    while (true) {
      auto pos = pending_.find('\n');
      if (pos != std::string::npos) {
        line = pending_.substr(0, pos);
        pending_.erase(0, pos + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      unsigned char buf[4096];
      int rc = mbedtls_ssl_read(&ssl_, buf, sizeof buf);
      if (rc == MBEDTLS_ERR_SSL_WANT_READ) continue;
      if (rc <= 0) return "<EOF>";
      pending_.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(rc));
    }
  }
  // Subject CN of the server's certificate ("" if none).
  std::string peer_subject() const {
    const mbedtls_x509_crt* c = mbedtls_ssl_get_peer_cert(&ssl_);
    if (c == nullptr) return {};
    char buf[256];
    mbedtls_x509_dn_gets(buf, sizeof buf, &c->subject);
    return buf;
  }

 private:
  mbedtls_net_context net_;
  mbedtls_ssl_context ssl_;
  mbedtls_ssl_config conf_;
  mbedtls_x509_crt ca_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_entropy_context entropy_;
  std::string pending_;
  bool ca_ok_ = false;
  bool borrowed_ = false;
};

inline std::filesystem::path make_temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("mb_net_" + tag + "_XXXXXX")).string();
  char* p = ::mkdtemp(tmpl.data());
  return p != nullptr ? std::filesystem::path(p) : std::filesystem::path();
}

}  // namespace mb::net::test
