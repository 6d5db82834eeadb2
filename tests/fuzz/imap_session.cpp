// File: tests/fuzz/imap_session.cpp
//
// Fuzz target: arbitrary client bytes into an IMAP session (parser, SASL, IDLE, every state,
// FETCH streaming, SEARCH) over the real Maildir store in a temp directory and the real
// passwd-file authenticator. Byte 0 picks the chunk size and whether the session logs in and
// selects INBOX first; the rest is the client's input. Each input gets a fresh mail root.
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/auth/passwd_authenticator.hpp"
#include "gateway/store/registry.hpp"
#include "gateway/uv/loop.hpp"
#include "protocols/imap/session.hpp"

namespace {

class Sink final : public mb::proto::SessionSink {
 public:
  void send(std::string_view bytes) override { sent += bytes.size(); }
  std::size_t output_queued() const override { return 0; }
  void pause_reading() override {}
  void resume_reading() override {}
  void start_tls() override { tls_requested = true; }
  void close() override { closed = true; }
  void set_idle_timeout(std::chrono::seconds) override {}
  bool is_tls() const override { return tls; }
  bool is_loopback() const override { return true; }
  const std::string& peer_address() const override { return peer; }
  const std::string& connection_id() const override { return conn; }
  void set_user(std::string_view) override {}
  std::size_t sent = 0;
  bool tls_requested = false;
  bool tls = false;
  bool closed = false;
  std::string peer = "127.0.0.1";
  std::string conn = "fuzz";
};

struct Env {
  Env() {
    char tmpl[] = "/tmp/mb_fuzz_imap_XXXXXX";
    root = mkdtemp(tmpl);
    std::ofstream(root / "users") << "alice:{PLAIN}secret\n";
    mb::auth::AuthSettings as;
    as.failure_delay_ms = 0;
    as.failure_delay_max_ms = 0;
    auth = std::make_unique<mb::auth::PasswdAuthenticator>(loop.get(), (root / "users").string(), as);
    (void)auth->reload();
  }
  ~Env() {
    auth.reset();
    loop.run(UV_RUN_DEFAULT);
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  void spin(int n) {
    for (int i = 0; i < n; ++i) loop.run(UV_RUN_NOWAIT);
  }
  mb::uv::Loop loop;
  std::filesystem::path root;
  std::unique_ptr<mb::auth::PasswdAuthenticator> auth;
  int count = 0;
};

Env& env() {
  static Env e;
  return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Env& e = env();
  auto dir = e.root / ("m" + std::to_string(++e.count));
  std::filesystem::create_directories(dir / "alice" / "Maildir" / "new");
  std::ofstream(dir / "alice" / "Maildir" / "new" / "1.M1P1.fuzz")
      << "From: a@b.c\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
         "--b\r\n\r\npart\r\n--b--\r\n";
  mb::store::StoreSettings ss;
  ss.path_template = (dir / "%u" / "Maildir").string();
  ss.fsync = false;
  auto storage = mb::store::make_storage(ss, e.loop.get());
  if (!storage) return 0;
  {
    mb::imap::Settings settings;
    mb::imap::Services services{*e.auth, **storage};
    Sink sink;
    auto session = mb::imap::make_session(sink, settings, services);
    session->on_start();
    if ((data[0] & 1) != 0) {
      session->on_data("p1 LOGIN alice secret\r\np2 SELECT INBOX\r\n");
      e.spin(200);
    }
    const std::size_t chunk = 1 + (data[0] >> 1) % 64;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    for (std::size_t i = 0; i < input.size() && !sink.closed; i += chunk) {
      session->on_data(input.substr(i, chunk));
      e.spin(20);
      if (sink.tls_requested && !sink.tls) {
        sink.tls = true;
        session->on_tls_ready();
      }
      session->on_writable();
    }
    e.spin(200);
    session->on_closed();
    e.spin(20);
  }
  storage->reset();
  e.loop.run(UV_RUN_DEFAULT);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
