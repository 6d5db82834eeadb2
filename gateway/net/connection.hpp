// File: gateway/net/connection.hpp
//
// Connection: one accepted TCP connection (plain, implicit TLS, or upgraded with STARTTLS)
// driving one sans-I/O mb::proto::Session. Created and destroyed only by mb::net::Server;
// sessions see it as their mb::proto::SessionSink.
//
// Behaviour (see protocols/common/session.hpp for the session side of the contract):
//   - Input is read into the server's ONE shared 64 KB buffer and handed straight to the
//     session (plain) or to the TLS channel then the session (decrypted, through a second
//     shared buffer). An idle connection therefore holds no input buffer.
//   - Output: send() appends to a queue flushed once per loop iteration (uv_try_write, then
//     one uv_write request owning its bytes); a large send() (kDirectWriteMin) with nothing
//     queued is tried on the socket first and only the rest is queued (one copy less).
//     Above proto::kOutputHighWater streaming sessions stop; on_writable() fires when the
//     queue drops below kOutputLowWater. Above
//     the hard cap (ServerLimits::output_cap) the connection is closed at once with reason
//     "client stopped reading".
//   - pause_reading()/resume_reading() stop/restart the socket reads. A TLS connection
//     paused in the middle of a received chunk keeps the undecrypted rest in its channel and
//     delivers it from the next loop iteration after resume_reading().
//   - start_tls(): after all output queued so far has reached the kernel, the connection
//     switches to TLS; bytes received before that point are pipelined plaintext and are
//     discarded (RFC 3501 §6.2.1, RFC 2595 §3.1).
//   - close(): flush (plus TLS close_notify), then close; a peer that does not read is cut
//     off after ServerLimits::close_linger. Idempotent. When the peer half-closes (EOF)
//     while output is queued, that output is still flushed before closing.
//   - Timeouts: one timer per connection: TLS handshake deadline, then the idle timeout
//     (re-armed lazily: reads only record the time), then the close linger.
//   - offload_body(): a large literal is sent by the server's BodyPump thread. Until the job
//     comes back the connection is "delegated": it writes nothing to the socket itself
//     (send() only queues) and, if it closes meanwhile, keeps the socket open and stays out
//     of the server's deletion until then, so the pump never writes to a reused fd.
//   - Session::on_closed() is always called from the loop (never from inside a sink call),
//     once, right before the connection and its session are destroyed; sink calls made
//     after the connection closed are ignored.
#pragma once

#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/net/body_pump.hpp"
#include "gateway/net/burst_writer.hpp"
#include "gateway/net/net_stats.hpp"
#include "gateway/uv/handle.hpp"
#include "protocols/common/session.hpp"

namespace mb::net {

class Server;
class TlsChannel;
class TlsContext;

// on_writable() fires once the queue falls below this after having reached it (so at the
// latest after exceeding kOutputHighWater; an extra call is harmless to a session).
inline constexpr std::size_t kOutputLowWater = 64 * 1024;

// send() of at least this many octets with nothing queued is written to the socket at once
// (uv_try_write from the caller's bytes) instead of being copied to the queue first.
inline constexpr std::size_t kDirectWriteMin = 4096;

// kTurnBudget (server.hpp): how much one connection writes per loop turn.

class Connection final : public proto::SessionSink {
 public:
  Connection(Server& server, NetStats& stats, uv::Handle<uv_tcp_t> tcp, std::string id,
             std::string peer, bool loopback);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() override;

  // Starts the connection: `tls` non-null means implicit TLS (handshake, then on_start()).
  void start(proto::SessionPtr session, std::shared_ptr<TlsContext> tls);

  // proto::SessionSink
  void send(std::string_view bytes) override;
  // What is queued, or (once this loop turn has written kTurnBudget to the socket) at least
  // kOutputHighWater + 1: see kTurnBudget.
  std::size_t output_queued() const override {
    const std::size_t q = queued_bytes();
    return turn_bytes_ >= turn_budget_ ? std::max(q, proto::kOutputHighWater + 1) : q;
  }
  bool offload_body(std::string_view head, std::unique_ptr<proto::BodySource>& source,
                    std::uint64_t length, std::function<void(OffloadResult)> done) override;
  void pause_reading() override;
  void resume_reading() override;
  void start_tls() override;
  void close() override;
  void set_idle_timeout(std::chrono::seconds timeout) override;
  bool is_tls() const override { return tls_ != nullptr; }
  bool is_loopback() const override { return loopback_; }
  const std::string& peer_address() const override { return peer_; }
  const std::string& connection_id() const override { return id_; }
  void set_user(std::string_view user) override { user_ = user; }

  // --- used by Server ---
  // Server shutdown: on_shutdown() for a started session, immediate close otherwise.
  void begin_shutdown();
  // Closes now without flushing.
  void abort(const char* reason);
  // Runs once per loop iteration when scheduled: stashed TLS input (tick_input), then
  // output flush (tick_output). Server::on_idle runs every scheduled connection's input
  // step before any output step, so that the output of many connections can be handed to
  // the kernel as one batch (BurstWriter) with no session code running in between.
  void tick() {
    tick_input();
    tick_output();
  }
  void tick_input();
  void tick_output();
  // The batch path of tick_output(): when all the output is queued in memory (none in a
  // uv_write) and no input arrived since the previous turn (unsolicited output, such as
  // IDLE notifications), fills `job` with the socket and those bytes and returns true; the caller
  // sends them (BurstWriter) and reports with finish_burst(job.result), which replaces
  // tick_output() for this turn.
  bool burst_job(BurstJob& job);
  void finish_burst(ssize_t result);
  // Called right before destruction, from the server's deferred-deletion step.
  void notify_closed();
  bool closed() const { return state_ == State::closed; }
  // A body job of this connection is with the pump (see offload_body).
  bool delegated() const { return delegated_; }
  // The pump's report on this connection's job (loop thread, from Server).
  void pump_finished(std::unique_ptr<PumpJob> job);

  // Intrusive list of live connections (owned by Server).
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  bool tick_scheduled_ = false;
  bool burst_done_ = false;  // Server::flush_batch: output already sent this turn

 private:
  enum class State : std::uint8_t {
    tls_handshake,        // implicit TLS, before on_start()
    open,
    starttls_flush,       // start_tls() called, waiting for output to reach the kernel
    starttls_handshake,
    closing,              // close() called, flushing
    closed,
  };
  struct WriteRequest;

  static void on_alloc(uv_handle_t* h, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* t);

  void handle_input(const char* data, std::size_t len);
  void begin_tls();
  void process_tls();
  void tls_failed(int rc);
  void peer_closed();
  void flush();
  // After octets of pending_ were offered to the kernel: `n` taken, or a libuv error code.
  // False when the connection was closed for the error.
  bool after_write(ssize_t n);
  std::size_t queued_bytes() const { return pending_.size() + inflight_; }
  void after_drain();
  void check_writable();
  void schedule();
  void update_reading();
  void arm_timer();
  std::uint64_t deadline() const;
  void finish(const char* reason);
  void log_close(const char* reason);

  Server& server_;
  NetStats& stats_;
  uv::Handle<uv_tcp_t> tcp_;
  uv::Handle<uv_timer_t> timer_;
  proto::SessionPtr session_;
  std::unique_ptr<TlsChannel> tls_;
  std::string id_;
  std::string peer_;
  std::string user_;
  std::string pending_;            // output not yet handed to the kernel
  std::function<void(OffloadResult)> offload_done_;  // the session's, while delegated
  std::size_t inflight_ = 0;       // bytes in the one outstanding uv_write
  std::uint64_t read_turn_ = 0;    // Server::turn_ when input last arrived (burst_job)
  std::size_t turn_bytes_ = 0;     // written directly since the last tick (kTurnBudget)
  std::size_t turn_budget_;        // ServerLimits::turn_budget (kTurnBudget by default)
  std::uint64_t last_activity_ = 0;  // uv_now() of the last read
  std::uint64_t phase_start_ = 0;    // uv_now() when the handshake / closing phase began
  std::uint32_t idle_timeout_ms_ = 0;
  const char* close_reason_ = "closed by session";
  State state_ = State::open;
  bool loopback_ = false;
  bool paused_ = false;
  bool reading_ = false;
  bool peer_eof_ = false;
  bool above_high_ = false;
  bool delegated_ = false;  // a PumpJob of ours is out: the pump owns the socket's output
};

}  // namespace mb::net
