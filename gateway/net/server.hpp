// File: gateway/net/server.hpp
//
// mb::net::Server: the listeners and every connection of one libuv loop.
//
//   mb::net::Server server(loop, mb::net::ServerLimits{});
//   server.set_tls_context(*mb::net::TlsContext::load(cert, key));
//   auto r = server.add_listener("0.0.0.0:993", {"imaps", true, [&](mb::proto::SessionSink& s) {
//     return std::make_unique<ImapSession>(s, ...); }});
//   if (!r) fail(r.error());     // "listen 0.0.0.0:993: address already in use"
//   ...
//   server.shutdown([&] { /* every connection closed */ });
//
// Contract:
//   - Loop thread only. Construct after the loop, destroy before closing it. The destructor
//     closes every connection at once (sessions get on_closed(), no shutdown callback).
//   - add_listener(): "a.b.c.d:port", "[v6]:port", "*:port"; port 0 binds an ephemeral
//     port, read back with listener_port(index) (indexes in add order). Errors are one
//     sentence naming the address.
//   - The SessionFactory is called once per accepted connection, with the connection as
//     the sink; a null result closes the connection.
//   - Implicit-TLS listeners need a TLS context (set_tls_context) when a client connects,
//     or the connection is refused; so does start_tls() on a plain one.
//   - set_tls_context(): connections accepted (or upgraded) later use the new context; open
//     TLS connections keep theirs (SIGHUP reload never drops a connection).
//   - shutdown(done): stops accepting, calls on_shutdown() on every started session (those
//     still in a TLS handshake are closed), waits until every connection has closed,
//     force-closes what is left after ServerLimits::shutdown_deadline, then calls `done`
//     once, from the loop (never from inside shutdown()).
//   - More than max_connections at once: new ones are accepted and closed immediately.
//   - Log lines (mb::log, Context{conn, peer, user}): accept, TLS handshake failure, close
//     with its reason.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/net/body_pump.hpp"
#include "gateway/net/burst_writer.hpp"
#include "gateway/net/net_stats.hpp"
#include "gateway/uv/handle.hpp"
#include "gateway/uv/timer.hpp"
#include "protocols/common/result.hpp"
#include "protocols/common/session.hpp"

namespace mb::net {

class Connection;
class TlsContext;

using SessionFactory = std::function<proto::SessionPtr(proto::SessionSink&)>;

// Fairness between streaming sessions and everyone else on the one loop thread: once a
// connection has handed this many octets to the kernel in one loop turn, output_queued()
// reports "above the high-water mark" until its next tick, so a FETCH 1:* BODY[] or a large
// RETR stops and resumes (on_writable()) on the next turn, after the loop has polled the
// other sockets. Without it a fast reader on loopback (the kernel takes megabytes at once)
// let one FETCH of a whole mailbox run tens of milliseconds while LOGINs and SELECTs of other
// connections waited. imap-fetch c=10 (release, shared machine): LOGIN p50 82-88 ms -> 12-19
// ms, SELECT 65-82 -> 17-20 ms, msgs/s unchanged within noise; a 512 KB budget gave 12-20 ms
// but ~15% fewer msgs/s. TLS output is queued (encrypted into the queue) and stops at the
// high-water mark anyway.
inline constexpr std::size_t kTurnBudget = 2 * 1024 * 1024;

struct ServerLimits {
  std::size_t max_connections = 20000;
  std::size_t output_cap = 8 * 1024 * 1024;           // queued octets before "client stopped reading"
  std::size_t turn_budget = kTurnBudget;              // octets one connection writes per loop turn
  std::chrono::seconds idle_timeout{180};             // until the session sets its own
  std::chrono::seconds tls_handshake_timeout{30};
  std::chrono::seconds close_linger{10};              // flushing after close()
  std::chrono::milliseconds shutdown_deadline{8000};  // then force-close
  int backlog = 511;
};

struct ListenerOptions {
  std::string kind;  // "imap", "imaps", "pop3", "pop3s": stats and log label
  bool implicit_tls = false;
  SessionFactory factory;
};

class Server {
 public:
  explicit Server(uv_loop_t* loop, ServerLimits limits = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  Result<void, std::string> add_listener(const std::string& host_port, ListenerOptions options);
  // The bound port of the index-th listener (0 if no such listener).
  std::uint16_t listener_port(std::size_t index) const;

  void set_tls_context(std::shared_ptr<TlsContext> context);
  const std::shared_ptr<TlsContext>& tls_context() const { return tls_context_; }

  void shutdown(std::function<void()> done);
  bool shutting_down() const { return shutting_down_; }

  // Connections accepted and not yet closed.
  std::size_t connection_count() const { return live_count_; }

  // Counters of all listeners of that kind (zeros if none); total over all listeners.
  NetStats stats(std::string_view kind) const;
  NetStats total_stats() const;

  // Loop turns whose output went out as one batch from two threads (burst_writer.hpp).
  std::uint64_t burst_batches() const { return burst_batches_; }
  // Body jobs the pump thread has sent (body_pump.hpp).
  std::uint64_t pump_jobs() const { return pump_.jobs_done(); }

  const ServerLimits& limits() const { return limits_; }
  uv_loop_t* loop() const { return loop_; }

 private:
  friend class Connection;
  struct Listener {
    Server* server = nullptr;
    uv::Handle<uv_tcp_t> tcp;
    ListenerOptions options;
    NetStats stats;
    std::string address;
    std::uint16_t port = 0;
  };

  static void on_connection(uv_stream_t* stream, int status);
  static void on_idle(uv_idle_t* idle);
  void accept_one(Listener& listener);
  void link(Connection* c);
  void unlink(Connection* c);
  void wake();
  void flush_batch(const std::vector<Connection*>& batch);
  void check_shutdown_done();

  // For Connection.
  char* read_buffer();
  static constexpr std::size_t kReadBufferSize = 64 * 1024;
  unsigned char* plain_buffer();
  static constexpr std::size_t kPlainBufferSize = 16 * 1024;
  void schedule(Connection* c);
  void connection_finished(Connection* c);
  // Hands a body job to the pump; false (the job untouched) when there is none.
  bool submit_body(std::unique_ptr<PumpJob>& job);
  // Whether submit_body() may take jobs now (not switched off, not shutting down).
  bool pump_wanted() const { return pump_enabled_ && !shutting_down_; }
  // A closed connection whose deletion waited for its pump job.
  void bury(Connection* c);

  uv_loop_t* loop_;
  ServerLimits limits_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::shared_ptr<TlsContext> tls_context_;
  uv::Handle<uv_idle_t> idle_;
  uv::Timer shutdown_timer_;
  std::function<void()> shutdown_done_;
  std::unique_ptr<char[]> read_buffer_;
  std::unique_ptr<unsigned char[]> plain_buffer_;
  std::vector<Connection*> ticks_;
  std::vector<Connection*> graveyard_;
  BurstWriter burst_;
  std::vector<BurstJob> burst_jobs_;
  std::vector<Connection*> burst_owners_;
  std::uint64_t burst_batches_ = 0;
  std::uint64_t turn_ = 1;  // on_idle runs so far (+1): Connection::read_turn_ compares
  bool burst_enabled_ = true;  // MAILBRIDGE_BURST=0: every connection flushed by the loop alone
  BodyPump pump_;
  bool pump_enabled_ = true;   // MAILBRIDGE_PUMP=0: bodies are sent by the loop alone
  Connection* head_ = nullptr;
  std::size_t live_count_ = 0;
  std::uint64_t next_id_ = 0;
  bool shutting_down_ = false;
  bool idle_active_ = false;
};

}  // namespace mb::net
