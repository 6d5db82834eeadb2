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
// Body offload (SessionSink::offload_body) is declined unless `offload` is set; then the job
// is parked and the test runs it with pump(), as the transport's pump thread would.
// A send() after close() is a session bug (session.hpp); it is counted in
// `sends_after_close` for the test to check, not hidden.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
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
  bool offload_body(std::string_view head, std::unique_ptr<BodySource>& source, std::uint64_t length,
                    std::function<void(OffloadResult)> done) override {
    send(head);
    if (!offload || closed || parked_done || !source) return false;
    parked_source = std::move(source);
    parked_length = length;
    parked_done = std::move(done);
    ++offloads;
    return true;
  }
  // Runs the parked job: up to `max` wire octets of it go to `output` (fewer than its length:
  // as if the socket filled up, and `queued` becomes non-zero), then its done. `stopped`: the job reports that its source
  // stopped (as at an uncached block). False when no job is parked.
  bool pump(std::uint64_t max = UINT64_MAX, bool stopped = false) {
    if (!parked_done) return false;
    auto done = std::move(parked_done);
    parked_done = nullptr;
    const std::uint64_t want = std::min(parked_length, max);
    OffloadResult r;
    std::string buf;
    while (r.consumed < want) {
      auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(want - r.consumed, 65536));
      buf.resize(parked_source->room_for(chunk));
      BodySource::Step step = parked_source->read(buf.data(), chunk);
      output.append(buf.data(), step.written);
      if (step.written > 0) r.last_byte = static_cast<unsigned char>(buf[step.written - 1]);
      queued_total += step.written;
      r.consumed += step.wire;
      if (step.status != BodySource::Status::ok) {
        r.source_stopped = true;
        break;
      }
      if (step.wire < chunk) {
        r.source_ended = true;
        break;
      }
    }
    // Stopped early as at a full socket: the unsent rest waits in the queue (on_writable()).
    if (r.consumed < parked_length && !r.source_ended && !r.source_stopped && !stopped)
      queued = std::max<std::size_t>(queued, 1);
    r.source_stopped = r.source_stopped || stopped;
    r.source = std::move(parked_source);
    done(std::move(r));
    return true;
  }
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
  bool offload = false;           // offload_body() takes jobs (see pump())
  std::size_t offloads = 0;       // jobs taken
  std::unique_ptr<BodySource> parked_source;
  std::uint64_t parked_length = 0;
  std::function<void(OffloadResult)> parked_done;
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
