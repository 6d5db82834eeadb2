// File: tests/bench/idle_connections_server.cpp
//
// A minimal mailbridge transport for tests/bench/idle_connections.py: mb::net::Server with
// an IMAP-like and a POP3-like listener whose sessions only send a greeting and echo nothing.
// Measures what the transport itself costs per idle connection.
//
//   idle_connections_server [--tls] [IMAP_ADDR [POP3_ADDR]]   (defaults 127.0.0.1:0 for both)
// prints "pid=.. imap=HOST:PORT pop3=HOST:PORT" then runs until SIGINT/SIGTERM. With --tls
// both listeners are implicit TLS with a freshly generated self-signed certificate.
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "gateway/log/log.hpp"
#include "gateway/net/self_signed.hpp"
#include "gateway/net/server.hpp"
#include "gateway/net/tls_context.hpp"
#include "gateway/uv/loop.hpp"
#include "gateway/uv/signal.hpp"

namespace {

class GreetingSession final : public mb::proto::Session {
 public:
  GreetingSession(mb::proto::SessionSink& sink, const char* greeting)
      : sink_(sink), greeting_(greeting) {}
  void on_start() override { sink_.send(greeting_); }
  void on_data(std::string_view) override {}
  void on_writable() override {}
  void on_tls_ready() override {}
  void on_shutdown() override { sink_.close(); }
  void on_timeout() override {}
  void on_closed() override {}

 private:
  mb::proto::SessionSink& sink_;
  const char* greeting_;
};

}  // namespace

int main(int argc, char** argv) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  mb::log::set_level(mb::log::Level::warn);
  bool tls = argc > 1 && std::strcmp(argv[1], "--tls") == 0;
  int first = tls ? 2 : 1;
  std::string imap = argc > first ? argv[first] : "127.0.0.1:0";
  std::string pop3 = argc > first + 1 ? argv[first + 1] : "127.0.0.1:0";

  mb::uv::Loop loop;
  mb::net::ServerLimits limits;
  limits.max_connections = 100000;
  limits.idle_timeout = std::chrono::seconds(3600);
  auto server = std::make_unique<mb::net::Server>(loop.get(), limits);
  if (tls) {
    char tmpl[] = "/tmp/mb_bench_tls_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return 1;
    std::string dir = tmpl;
    auto gen = mb::net::generate_self_signed(dir + "/cert.pem", dir + "/key.pem", "localhost");
    auto ctx = gen ? mb::net::TlsContext::load(dir + "/cert.pem", dir + "/key.pem")
                   : mb::Result<std::shared_ptr<mb::net::TlsContext>, std::string>(
                         mb::unexpected(gen.error()));
    std::filesystem::remove_all(dir);
    if (!ctx) {
      std::fprintf(stderr, "%s\n", ctx.error().c_str());
      return 1;
    }
    server->set_tls_context(*ctx);
  }
  auto imap_ok = server->add_listener(imap, {"imap", tls, [](mb::proto::SessionSink& s) {
    return std::make_unique<GreetingSession>(s, "* OK [CAPABILITY IMAP4rev1] bench ready\r\n");
  }});
  auto pop3_ok = server->add_listener(pop3, {"pop3", tls, [](mb::proto::SessionSink& s) {
    return std::make_unique<GreetingSession>(s, "+OK bench ready\r\n");
  }});
  if (!imap_ok || !pop3_ok) {
    std::fprintf(stderr, "%s\n", (!imap_ok ? imap_ok.error() : pop3_ok.error()).c_str());
    return 1;
  }
  std::printf("pid=%d imap=127.0.0.1:%u pop3=127.0.0.1:%u\n", static_cast<int>(getpid()),
              server->listener_port(0), server->listener_port(1));
  std::fflush(stdout);

  mb::uv::Signal sigint(loop.get());
  mb::uv::Signal sigterm(loop.get());
  auto stop = [&](int) {
    sigint.close();
    sigterm.close();
    server->shutdown([] {});
  };
  sigint.start(SIGINT, stop);
  sigterm.start(SIGTERM, stop);
  loop.run();
  server.reset();
  return 0;
}
