// File: gateway/net/connection.cpp
#include "gateway/net/connection.hpp"

#include <mbedtls/ssl.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "gateway/log/log.hpp"
#include "gateway/net/server.hpp"
#include "gateway/net/tls_channel.hpp"
#include "gateway/net/tls_context.hpp"

namespace mb::net {

// A write request owns its bytes. Its "weak ticket" to the connection is the stream's
// data pointer, cleared when the handle is closed, so UV_ECANCELED after close is harmless.
struct Connection::WriteRequest {
  uv_write_t req{};
  std::string bytes;
};

namespace {
std::uint32_t to_ms(std::chrono::seconds s) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
  return static_cast<std::uint32_t>(std::clamp<long long>(ms, 0, 0x7fffffff));
}
}  // namespace

Connection::Connection(Server& server, NetStats& stats, uv::Handle<uv_tcp_t> tcp, std::string id,
                       std::string peer, bool loopback)
    : server_(server),
      stats_(stats),
      tcp_(std::move(tcp)),
      id_(std::move(id)),
      peer_(std::move(peer)),
      turn_budget_(server.limits().turn_budget),
      idle_timeout_ms_(to_ms(server.limits().idle_timeout)),
      loopback_(loopback) {
  tcp_->data = this;
  if (auto t = uv::Handle<uv_timer_t>::init(server_.loop(), uv_timer_init)) {
    timer_ = std::move(*t);
    timer_->data = this;
  }
  last_activity_ = phase_start_ = uv_now(server_.loop());
}

Connection::~Connection() {
  // The session goes first: it may still look at the sink (connection_id()) while dying.
  session_.reset();
  tls_.reset();
}

void Connection::start(proto::SessionPtr session, std::shared_ptr<TlsContext> tls) {
  session_ = std::move(session);
  if (tls) {
    tls_ = std::make_unique<TlsChannel>(std::move(tls), &pending_);
    if (int rc = tls_->init(); rc != 0) {
      log::error(log::Context{id_, peer_, user_}, "TLS setup failed: {}",
                 TlsContext::error_text(rc));
      abort("TLS setup failed");
      return;
    }
    state_ = State::tls_handshake;
  } else {
    state_ = State::open;
  }
  phase_start_ = uv_now(server_.loop());
  arm_timer();
  update_reading();
  if (state_ == State::open) session_->on_start();
}

// ---------------------------------------------------------------------------------------
// Reading

void Connection::on_alloc(uv_handle_t* h, std::size_t /*suggested*/, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(h->data);
  if (self == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  // One buffer per loop: the read callback consumes it before the next alloc.
  *buf = uv_buf_init(self->server_.read_buffer(), Server::kReadBufferSize);
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(s->data);
  if (self == nullptr || self->state_ == State::closed) return;
  if (nread == UV_EOF) {
    self->peer_closed();
    return;
  }
  if (nread < 0) {
    self->abort(nread == UV_ECONNRESET ? "connection reset by peer" : "read error");
    return;
  }
  if (nread == 0) return;
  self->stats_.bytes_in += static_cast<std::uint64_t>(nread);
  self->last_activity_ = uv_now(self->server_.loop());
  self->read_turn_ = self->server_.turn_;
  self->handle_input(buf->base, static_cast<std::size_t>(nread));
}

void Connection::handle_input(const char* data, std::size_t len) {
  switch (state_) {
    case State::open:
      if (tls_) {
        tls_->set_input(data, len);
        process_tls();
      } else {
        session_->on_data(std::string_view(data, len));
      }
      break;
    case State::starttls_flush:
      // Everything we queued (the "begin TLS" reply) is in the kernel: the peer may have
      // seen it, so what follows is its ClientHello. Otherwise these bytes were pipelined
      // after STARTTLS in clear text and must be dropped (RFC 3501 §6.2.1).
      if (pending_.empty() && uv_stream_get_write_queue_size(tcp_.stream()) == 0) {
        begin_tls();
        if (state_ != State::starttls_handshake) return;
        tls_->set_input(data, len);
        process_tls();
      } else {
        log::debug(log::Context{id_, peer_, user_}, "discarded {} bytes pipelined after STARTTLS",
                   len);
      }
      break;
    case State::tls_handshake:
    case State::starttls_handshake:
      tls_->set_input(data, len);
      process_tls();
      break;
    case State::closing:
    case State::closed:
      break;
  }
}

void Connection::pause_reading() {
  paused_ = true;
  update_reading();
}

void Connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  // Stashed TLS input is delivered from the loop, never from inside this call.
  if (tls_ && tls_->has_stash()) schedule();
  update_reading();
}

void Connection::update_reading() {
  if (!tcp_) return;
  bool want = false;
  switch (state_) {
    case State::tls_handshake:
    case State::starttls_flush:
    case State::starttls_handshake:
      want = true;
      break;
    case State::open:
      want = !paused_ && !(tls_ && tls_->has_stash());
      break;
    case State::closing:
      want = !peer_eof_;  // notice the peer's close; input is ignored
      break;
    case State::closed:
      want = false;
      break;
  }
  if (want == reading_) return;
  if (want) {
    reading_ = uv_read_start(tcp_.stream(), &Connection::on_alloc, &Connection::on_read) == 0;
  } else {
    uv_read_stop(tcp_.stream());
    reading_ = false;
  }
}

// ---------------------------------------------------------------------------------------
// TLS

void Connection::start_tls() {
  if (state_ != State::open || tls_) return;
  if (!server_.tls_context()) {
    log::error(log::Context{id_, peer_, user_}, "STARTTLS requested but no TLS certificate loaded");
    abort("no TLS context");
    return;
  }
  state_ = State::starttls_flush;
  paused_ = false;
  update_reading();
  schedule();  // flush the reply; after_drain() then switches to TLS
}

void Connection::begin_tls() {
  tls_ = std::make_unique<TlsChannel>(server_.tls_context(), &pending_);
  if (int rc = tls_->init(); rc != 0) {
    log::error(log::Context{id_, peer_, user_}, "TLS setup failed: {}", TlsContext::error_text(rc));
    abort("TLS setup failed");
    return;
  }
  state_ = State::starttls_handshake;
  phase_start_ = uv_now(server_.loop());
  arm_timer();
}

void Connection::process_tls() {
  if (state_ == State::tls_handshake || state_ == State::starttls_handshake) {
    int rc = tls_->handshake();
    if (!pending_.empty()) schedule();
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    if (rc != 0) {
      tls_failed(rc);
      return;
    }
    ++stats_.tls_handshakes;
    log::debug(log::Context{id_, peer_, user_}, "TLS established: {} {}", tls_->version(),
               tls_->ciphersuite());
    bool implicit = state_ == State::tls_handshake;
    state_ = State::open;
    last_activity_ = uv_now(server_.loop());
    arm_timer();
    update_reading();
    if (implicit) {
      session_->on_start();
    } else {
      session_->on_tls_ready();
    }
  }
  unsigned char* plain = server_.plain_buffer();
  // Bounded: each turn either consumes input or ends the loop.
  for (int guard = 0; guard < 100000 && state_ == State::open && !paused_; ++guard) {
    int rc = tls_->read(plain, Server::kPlainBufferSize);
    if (rc > 0) {
      session_->on_data(std::string_view(reinterpret_cast<const char*>(plain),
                                         static_cast<std::size_t>(rc)));
      continue;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      if (tls_->input_left() == 0) break;
      continue;
    }
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
      peer_closed();
      return;
    }
    log::warn(log::Context{id_, peer_, user_}, "TLS error: {}", TlsContext::error_text(rc));
    abort("TLS error");
    return;
  }
  if (!pending_.empty()) schedule();
  if (state_ == State::open && tls_->input_left() > 0) {
    tls_->stash_rest();  // paused mid-chunk: keep the rest for resume_reading()
    update_reading();
  } else if (state_ == State::closed) {
    return;
  } else {
    tls_->drop_stash_if_used();
    tls_->discard_input();
  }
}

// The peer half-closed (EOF or TLS close_notify). Output already queued (typically the
// reply to a pipelined "QUIT" / "LOGOUT" sent together with the EOF, as `nc` does) is still
// flushed, bounded by the close linger; otherwise the connection closes now.
void Connection::peer_closed() {
  if (state_ == State::closed) return;
  peer_eof_ = true;
  if (state_ == State::closing) {
    update_reading();
    if (queued_bytes() == 0) finish(close_reason_);
    return;
  }
  if (state_ != State::open || queued_bytes() == 0) {
    abort("peer closed");
    return;
  }
  close_reason_ = "peer closed";
  state_ = State::closing;
  phase_start_ = uv_now(server_.loop());
  arm_timer();
  update_reading();
  schedule();
}

void Connection::tls_failed(int rc) {
  ++stats_.tls_failures;
  log::warn(log::Context{id_, peer_, user_}, "TLS handshake failed: {}", TlsContext::error_text(rc));
  abort("TLS handshake failed");
}

// ---------------------------------------------------------------------------------------
// Writing

void Connection::send(std::string_view bytes) {
  if (state_ != State::open || bytes.empty()) {
    if (state_ != State::closed && state_ != State::closing && !bytes.empty())
      log::debug(log::Context{id_, peer_, user_}, "dropped {} bytes sent during TLS setup",
                 bytes.size());
    return;
  }
  if (tls_) {
    if (int rc = tls_->write(bytes); rc != 0) {
      log::warn(log::Context{id_, peer_, user_}, "TLS write: {}", TlsContext::error_text(rc));
      abort("TLS error");
      return;
    }
  } else if (pending_.empty() && inflight_ == 0 && !delegated_ && bytes.size() >= kDirectWriteMin) {
    // Nothing queued: hand a large buffer (a RETR chunk, a FETCH batch) to the kernel from
    // the caller's memory, and copy only what the socket did not take. Errors are left to
    // flush(), which meets them again from the loop and closes.
    uv_buf_t buf = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned>(bytes.size()));
    int n = uv_try_write(tcp_.stream(), &buf, 1);
    if (n > 0) {
      stats_.bytes_out += static_cast<std::uint64_t>(n);
      bytes.remove_prefix(static_cast<std::size_t>(n));
      turn_bytes_ += static_cast<std::size_t>(n);
      if (turn_bytes_ >= turn_budget_) {
        above_high_ = true;  // the session sees a full queue: on_writable() at the next tick
        schedule();
      }
    }
    if (bytes.empty()) {
      if (above_high_) schedule();  // check_writable() from the loop
      return;
    }
    pending_.append(bytes);
  } else {
    pending_.append(bytes);
  }
  if (queued_bytes() > server_.limits().output_cap) {
    abort("client stopped reading");
    return;
  }
  // Armed from the low-water mark up: a session that stops exactly at (not above)
  // kOutputHighWater must still be woken.
  if (queued_bytes() >= kOutputLowWater) above_high_ = true;
  schedule();
}

void Connection::schedule() {
  if (!tick_scheduled_ && state_ != State::closed) server_.schedule(this);
}

void Connection::tick_input() {
  tick_scheduled_ = false;
  turn_bytes_ = 0;  // a new turn: the other sockets have been polled since
  if (state_ == State::open && tls_ && tls_->has_stash() && !paused_) {
    tls_->use_stash();
    process_tls();
    if (state_ == State::closed) return;
    update_reading();
  }
}

void Connection::tick_output() { flush(); }

bool Connection::burst_job(BurstJob& job) {
  if (state_ == State::closed || inflight_ != 0 || delegated_ || pending_.empty()) return false;
  // Output answering input read since the last turn goes to a client that is busy with this
  // conversation (often on this machine); the helper thread is for unsolicited output (a new
  // message told to IDLE sessions), whose clients sit waiting.
  if (read_turn_ + 1 == server_.turn_) return false;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp_.stream()), &fd) != 0) return false;
  job.fd = fd;
  job.data = pending_.data();
  job.len = pending_.size();
  job.result = 0;
  return true;
}

void Connection::finish_burst(ssize_t result) {
  // Session code run since burst_job() (another connection's close, say) may have closed
  // this one or queued more: after_write() only takes the prefix the kernel took.
  if (state_ == State::closed) return;
  if (inflight_ == 0 && !after_write(result)) return;
  if (pending_.empty() && inflight_ == 0) after_drain();
  check_writable();
}

bool Connection::offload_body(std::string_view head, std::unique_ptr<proto::BodySource>& source,
                              std::uint64_t length, std::function<void(OffloadResult)> done) {
  if (state_ != State::open || tls_ || inflight_ != 0 || delegated_ || !source || length == 0 ||
      !server_.pump_wanted()) {
    send(head);
    return false;
  }
  uv_os_fd_t fd = -1;
  if (uv_fileno(tcp_.handle(), &fd) != 0) {
    send(head);
    return false;
  }
  // What is queued and the head go first, from here: the pump then has the socket alone.
  if (!pending_.empty() || !head.empty()) {
    uv_buf_t bufs[2] = {uv_buf_init(pending_.data(), static_cast<unsigned>(pending_.size())),
                        uv_buf_init(const_cast<char*>(head.data()), static_cast<unsigned>(head.size()))};
    int n = uv_try_write(tcp_.stream(), bufs, 2);
    if (n < 0 || static_cast<std::size_t>(n) < pending_.size() + head.size()) {
      // The socket is full already: the rest is queued (after_write() closes on a real
      // error) and the caller goes on as before.
      pending_.append(head);
      if (after_write(n) && queued_bytes() >= kOutputLowWater) above_high_ = true;
      return false;
    }
    stats_.bytes_out += static_cast<std::size_t>(n);
    std::string().swap(pending_);
  }
  auto job = std::make_unique<PumpJob>();
  job->fd = fd;
  job->source = std::move(source);
  job->length = length;
  job->owner = this;
  if (!server_.submit_body(job)) {
    source = std::move(job->source);  // no pump: the head went out, the caller streams the rest
    return false;
  }
  delegated_ = true;
  offload_done_ = std::move(done);
  return true;
}

void Connection::pump_finished(std::unique_ptr<PumpJob> job) {
  delegated_ = false;
  auto done = std::move(offload_done_);
  offload_done_ = nullptr;
  if (state_ == State::closed) {
    tcp_.close();  // finish() left it open for the pump
    server_.bury(this);  // its deletion was put off until now
    return;
  }
  stats_.bytes_out += job->sent;
  if (job->error != 0) {
    abort(job->error == EPIPE || job->error == ECONNRESET ? "connection reset by peer" : "write error");
    return;
  }
  // Unsent converted bytes go before anything the session queued meanwhile.
  if (!job->leftover.empty()) {
    job->leftover.append(pending_);
    pending_ = std::move(job->leftover);
  }
  if (!pending_.empty()) {
    above_high_ = true;  // the session waits for the queue to drain (on_writable)
    if (queued_bytes() > server_.limits().output_cap) {
      abort("client stopped reading");
      return;
    }
    schedule();
  }
  OffloadResult result;
  result.consumed = job->consumed;
  result.source = std::move(job->source);
  result.source_stopped = job->source_stopped;
  result.last_byte = job->last_byte;
  result.source_ended = job->source_ended;
  if (done) done(std::move(result));
}

void Connection::flush() {
  if (state_ == State::closed || inflight_ != 0 || delegated_) return;
  if (!pending_.empty()) {
    uv_buf_t buf = uv_buf_init(pending_.data(), static_cast<unsigned>(pending_.size()));
    if (!after_write(uv_try_write(tcp_.stream(), &buf, 1))) return;
  }
  if (pending_.empty() && inflight_ == 0) after_drain();
  check_writable();
}

bool Connection::after_write(ssize_t n) {
  if (n < 0 && n != UV_EAGAIN) {
    abort(n == UV_EPIPE || n == UV_ECONNRESET ? "connection reset by peer" : "write error");
    return false;
  }
  std::size_t written = n > 0 ? static_cast<std::size_t>(n) : 0;
  stats_.bytes_out += written;
  if (written == pending_.size()) {
    std::string().swap(pending_);  // an idle connection keeps no output buffer
    return true;
  }
  auto* wr = new WriteRequest;
  wr->bytes = std::move(pending_);
  pending_ = std::string();
  uv_buf_t rest = uv_buf_init(wr->bytes.data() + written,
                              static_cast<unsigned>(wr->bytes.size() - written));
  inflight_ = rest.len;
  wr->req.data = wr;
  int rc = uv_write(&wr->req, tcp_.stream(), &rest, 1, &Connection::on_write);
  if (rc != 0) {
    delete wr;
    inflight_ = 0;
    abort("write error");
    return false;
  }
  return true;
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* wr = static_cast<WriteRequest*>(req->data);
  auto* self = static_cast<Connection*>(req->handle->data);
  delete wr;
  if (self == nullptr || self->state_ == State::closed) return;
  std::size_t n = self->inflight_;
  self->inflight_ = 0;
  if (status < 0) {
    self->abort(status == UV_EPIPE || status == UV_ECONNRESET ? "connection reset by peer"
                                                               : "write error");
    return;
  }
  self->stats_.bytes_out += n;
  self->flush();
}

void Connection::after_drain() {
  if (state_ == State::starttls_flush) {
    begin_tls();
  } else if (state_ == State::closing) {
    finish(close_reason_);
  }
}

void Connection::check_writable() {
  if (above_high_ && state_ == State::open && output_queued() < kOutputLowWater) {
    above_high_ = false;
    session_->on_writable();
  }
}

// ---------------------------------------------------------------------------------------
// Timers

void Connection::set_idle_timeout(std::chrono::seconds timeout) {
  idle_timeout_ms_ = to_ms(timeout);
  last_activity_ = uv_now(server_.loop());
  arm_timer();
}

std::uint64_t Connection::deadline() const {
  const ServerLimits& l = server_.limits();
  switch (state_) {
    case State::tls_handshake:
    case State::starttls_handshake:
      return phase_start_ + to_ms(l.tls_handshake_timeout);
    case State::open:
    case State::starttls_flush:
      return last_activity_ + idle_timeout_ms_;
    case State::closing:
      return phase_start_ + to_ms(l.close_linger);
    case State::closed:
      break;
  }
  return 0;
}

void Connection::arm_timer() {
  if (!timer_ || state_ == State::closed) return;
  std::uint64_t now = uv_now(server_.loop());
  std::uint64_t d = deadline();
  uv_timer_start(timer_.get(), &Connection::on_timer, d > now ? d - now : 0, 0);
}

void Connection::on_timer(uv_timer_t* t) {
  auto* self = static_cast<Connection*>(t->data);
  if (self == nullptr || self->state_ == State::closed) return;
  std::uint64_t now = uv_now(self->server_.loop());
  if (now < self->deadline()) {  // activity since arming: re-arm for the rest
    self->arm_timer();
    return;
  }
  switch (self->state_) {
    case State::tls_handshake:
    case State::starttls_handshake:
      ++self->stats_.tls_failures;
      log::warn(log::Context{self->id_, self->peer_, self->user_}, "TLS handshake timed out");
      self->abort("TLS handshake timeout");
      break;
    case State::open:
      self->close_reason_ = "idle timeout";
      self->session_->on_timeout();
      self->close();
      break;
    case State::starttls_flush:
      self->abort("idle timeout");
      break;
    case State::closing:
      self->abort("close timeout (peer not reading)");
      break;
    case State::closed:
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Closing

void Connection::close() {
  if (state_ == State::closing || state_ == State::closed) return;
  if (state_ != State::open) {  // mid-handshake: nothing useful to flush
    abort(close_reason_);
    return;
  }
  state_ = State::closing;
  if (tls_) tls_->close_notify();
  phase_start_ = uv_now(server_.loop());
  arm_timer();
  update_reading();
  schedule();
}

void Connection::begin_shutdown() {
  if (state_ == State::open) {
    close_reason_ = "server shutdown";
    session_->on_shutdown();
  } else if (state_ != State::closing && state_ != State::closed) {
    abort("server shutdown");
  }
}

void Connection::abort(const char* reason) {
  if (state_ == State::closed) return;
  finish(reason);
}

void Connection::finish(const char* reason) {
  state_ = State::closed;
  log_close(reason);
  reading_ = false;
  timer_.close();
  // While the pump sends on it the socket stays open (pump_finished closes it), so its fd
  // cannot be reused under the pump; the server keeps this object until then.
  if (!delegated_) tcp_.close();  // pending write requests complete with UV_ECANCELED and see data == nullptr
  else uv_read_stop(tcp_.stream());
  std::string().swap(pending_);
  inflight_ = 0;
  ++stats_.closed;
  server_.connection_finished(this);
}

void Connection::log_close(const char* reason) {
  log::info(log::Context{id_, peer_, user_}, "closed: {}", reason);
}

void Connection::notify_closed() {
  if (session_) session_->on_closed();
}

}  // namespace mb::net
