// File: tests/unit/protocols/common/recording_sink.hpp
//
// RecordingSink: the connection side of a protocol session (protocols/common/session.hpp's
// SessionSink) for the IMAP and POP3 session tests and fuzz targets: records the output and
// every call, with no socket and no loop. Header-only and free of GoogleTest, so fuzz
// targets can use it too; tests assert on its fields.
//
// Output back-pressure: output_queued() reports `queued`. With `model_queue` set, every
// send() adds to it like the kernel's send queue would, and the test drains it (sets it to 0
// and calls Session::on_writable()); without it, tests set `queued` by hand.
// A send() after close() is a session bug (session.hpp); it is counted in
// `sends_after_close` for the test to check, not hidden.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "protocols/common/session.hpp"

namespace mb::proto::test {

class RecordingSink : public SessionSink {
 public:
  void send(std::string_view bytes) override {
    if (closed) ++sends_after_close;
    ++sends;
    output.append(bytes);
    queued_total += bytes.size();
    if (model_queue) queued += bytes.size();
  }
  std::size_t output_queued() const override { return queued; }
  void pause_reading() override { paused = true; }
  void resume_reading() override { paused = false; }
  void start_tls() override { tls_requested = true; }
  void close() override { closed = true; }
  void set_idle_timeout(std::chrono::seconds t) override { idle_timeout = t; }
  bool is_tls() const override { return tls; }
  bool is_loopback() const override { return loopback; }
  const std::string& peer_address() const override { return peer; }
  const std::string& connection_id() const override { return conn; }
  void set_user(std::string_view u) override { user = std::string(u); }

  // Takes the output recorded so far.
  std::string take() {
    std::string s;
    s.swap(output);
    return s;
  }

  std::string output;
  bool model_queue = false;       // send() adds to `queued` (see above)
  std::size_t queued = 0;         // what output_queued() reports
  std::size_t queued_total = 0;   // every octet ever sent
  std::size_t sends = 0;          // send() calls
  std::size_t sends_after_close = 0;
  bool paused = false;
  bool tls_requested = false;
  bool closed = false;
  bool tls = false;
  bool loopback = true;
  std::chrono::seconds idle_timeout{0};
  std::string peer = "127.0.0.1";
  std::string conn = "c1";
  std::string user;
};

}  // namespace mb::proto::test
