// File: gateway/net/server.cpp
#include "gateway/net/server.hpp"

#include <cstdlib>
#include <cstring>
#include <utility>

#include "gateway/log/log.hpp"
#include "gateway/net/address.hpp"
#include "gateway/net/connection.hpp"
#include "gateway/net/tls_context.hpp"

namespace mb::net {

Server::Server(uv_loop_t* loop, ServerLimits limits)
    : loop_(loop),
      limits_(limits),
      shutdown_timer_(loop),
      pump_(loop, [](std::unique_ptr<PumpJob> job) {
        static_cast<Connection*>(job->owner)->pump_finished(std::move(job));
      }) {
  if (auto h = uv::Handle<uv_idle_t>::init(loop, uv_idle_init)) {
    idle_ = std::move(*h);
    idle_->data = this;
  }
  const char* burst = std::getenv("MAILBRIDGE_BURST");
  burst_enabled_ = burst == nullptr || std::strcmp(burst, "0") != 0;
  const char* pump = std::getenv("MAILBRIDGE_PUMP");
  pump_enabled_ = pump == nullptr || std::strcmp(pump, "0") != 0;
}

Server::~Server() {
  for (auto& l : listeners_) l->tcp.close();
  while (head_ != nullptr) head_->abort("server destroyed");
  pump_.stop();  // hands back every job: their connections close their sockets now
  ticks_.clear();
  for (Connection* c : graveyard_) {
    c->notify_closed();
    delete c;
  }
  graveyard_.clear();
}

Result<void, std::string> Server::add_listener(const std::string& host_port,
                                               ListenerOptions options) {
  if (shutting_down_) return mb::unexpected("listen " + host_port + ": server is shutting down");
  if (!options.factory) return mb::unexpected("listen " + host_port + ": no session factory");
  auto addr = parse_listen_address(host_port);
  if (!addr) return mb::unexpected(addr.error());
  auto tcp = uv::Handle<uv_tcp_t>::init(loop_, uv_tcp_init);
  if (!tcp) return mb::unexpected("listen " + host_port + ": " + uv_strerror(tcp.error()));
  unsigned flags = addr->ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  int rc = uv_tcp_bind(tcp->get(), reinterpret_cast<const sockaddr*>(&*addr), flags);
  if (rc == 0) rc = uv_listen(tcp->stream(), limits_.backlog, &Server::on_connection);
  if (rc != 0) return mb::unexpected("listen " + host_port + ": " + uv_strerror(rc));

  auto l = std::make_unique<Listener>();
  l->server = this;
  l->tcp = std::move(*tcp);
  l->tcp->data = l.get();
  l->options = std::move(options);
  l->address = host_port;
  sockaddr_storage bound{};
  int len = sizeof bound;
  if (uv_tcp_getsockname(l->tcp.get(), reinterpret_cast<sockaddr*>(&bound), &len) == 0)
    l->port = address_port(bound);
  log::debug("listening on {} ({}{})", host_port, l->options.kind,
            l->options.implicit_tls ? ", implicit TLS" : "");
  listeners_.push_back(std::move(l));
  return {};
}

std::uint16_t Server::listener_port(std::size_t index) const {
  return index < listeners_.size() ? listeners_[index]->port : 0;
}

void Server::set_tls_context(std::shared_ptr<TlsContext> context) {
  tls_context_ = std::move(context);
}

void Server::on_connection(uv_stream_t* stream, int status) {
  auto* l = static_cast<Listener*>(stream->data);
  if (l == nullptr) return;
  if (status < 0) {
    log::warn("accept on {}: {}", l->address, uv_strerror(status));
    return;
  }
  l->server->accept_one(*l);
}

void Server::accept_one(Listener& l) {
  auto tcp = uv::Handle<uv_tcp_t>::init(loop_, uv_tcp_init);
  if (!tcp) return;
  if (int rc = uv_accept(l.tcp.stream(), tcp->stream()); rc != 0) {
    log::warn("accept on {}: {}", l.address, uv_strerror(rc));
    return;
  }
  sockaddr_storage peer{};
  int len = sizeof peer;
  uv_tcp_getpeername(tcp->get(), reinterpret_cast<sockaddr*>(&peer), &len);
  std::string peer_text = format_address(peer);
  if (live_count_ >= limits_.max_connections || shutting_down_) {
    ++l.stats.refused;
    log::warn(log::Context{{}, peer_text, {}}, "refused on {}: {} connections open (max {})",
              l.options.kind, live_count_, limits_.max_connections);
    return;  // the Handle closes the socket
  }
  std::shared_ptr<TlsContext> tls;
  if (l.options.implicit_tls) {
    tls = tls_context_;
    if (!tls) {
      ++l.stats.refused;
      log::error(log::Context{{}, peer_text, {}}, "refused on {}: no TLS certificate loaded",
                 l.options.kind);
      return;
    }
  }
  uv_tcp_nodelay(tcp->get(), 1);
  uv_tcp_keepalive(tcp->get(), 1, 300);  // notice peers that vanished without a FIN
  ++l.stats.accepted;
  std::string id = "c" + std::to_string(++next_id_);
  auto* c = new Connection(*this, l.stats, std::move(*tcp), std::move(id), std::move(peer_text),
                           is_loopback(peer));
  link(c);
  log::info(log::Context{c->connection_id(), c->peer_address(), {}}, "accepted on {} port {}",
            l.options.kind, l.port);
  proto::SessionPtr session = l.options.factory(*c);
  if (!session) {
    c->abort("no session");
    return;
  }
  c->start(std::move(session), std::move(tls));
}

void Server::link(Connection* c) {
  c->next_ = head_;
  if (head_ != nullptr) head_->prev_ = c;
  head_ = c;
  ++live_count_;
}

void Server::unlink(Connection* c) {
  if (c->prev_ != nullptr) c->prev_->next_ = c->next_;
  if (c->next_ != nullptr) c->next_->prev_ = c->prev_;
  if (head_ == c) head_ = c->next_;
  c->prev_ = c->next_ = nullptr;
  --live_count_;
}

char* Server::read_buffer() {
  if (!read_buffer_) read_buffer_ = std::make_unique<char[]>(kReadBufferSize);
  return read_buffer_.get();
}

unsigned char* Server::plain_buffer() {
  if (!plain_buffer_) plain_buffer_ = std::make_unique<unsigned char[]>(kPlainBufferSize);
  return plain_buffer_.get();
}

void Server::schedule(Connection* c) {
  c->tick_scheduled_ = true;
  ticks_.push_back(c);
  wake();
}

bool Server::submit_body(std::unique_ptr<PumpJob>& job) {
  return pump_wanted() && pump_.submit(job);
}

void Server::bury(Connection* c) {
  graveyard_.push_back(c);
  wake();
}

void Server::connection_finished(Connection* c) {
  unlink(c);
  if (c->delegated()) return;  // the pump still sends on its socket: pump_finished() buries it
  graveyard_.push_back(c);
  wake();
}

// The idle handle runs once per loop iteration while there is work, and keeps poll from
// blocking meanwhile: output is flushed once per iteration (Redis beforeSleep) and closed
// connections are destroyed outside their own callbacks (Envoy DeferredDeletable).
void Server::wake() {
  if (idle_active_ || !idle_) return;
  idle_active_ = uv_idle_start(idle_.get(), &Server::on_idle) == 0;
}

void Server::on_idle(uv_idle_t* idle) {
  auto* self = static_cast<Server*>(idle->data);
  if (self == nullptr) return;
  ++self->turn_;
  std::vector<Connection*> batch;
  batch.swap(self->ticks_);
  // Input steps first (they may run session code that queues output anywhere), then the
  // output of the whole batch. Closed connections return at once; deleted only below.
  for (Connection* c : batch) c->tick_input();
  self->flush_batch(batch);
  std::vector<Connection*> dead;
  dead.swap(self->graveyard_);
  for (Connection* c : dead) {
    c->notify_closed();
    // A tick scheduled after it closed must not outlive it.
    std::erase(self->ticks_, c);
    delete c;
  }
  self->check_shutdown_done();
  if (self->ticks_.empty() && self->graveyard_.empty()) {
    uv_idle_stop(idle);
    self->idle_active_ = false;
  }
}

void Server::flush_batch(const std::vector<Connection*>& batch) {
  // Many connections with output at once (a new message told to every IDLE session of a
  // mailbox): hand it to the kernel from two threads (burst_writer.hpp). No session code
  // runs between burst_job() and run(), so the buffers stay put.
  auto& jobs = burst_jobs_;
  auto& owners = burst_owners_;
  jobs.clear();
  owners.clear();
  if (burst_enabled_ && batch.size() >= BurstWriter::kMinJobs) {
    BurstJob job;
    for (Connection* c : batch)
      if (c->burst_job(job)) {
        jobs.push_back(job);
        owners.push_back(c);
      }
  }
  if (jobs.size() < BurstWriter::kMinJobs) {
    for (Connection* c : batch) c->tick_output();
    return;
  }
  burst_.run(jobs);
  ++burst_batches_;
  for (std::size_t i = 0; i < owners.size(); ++i) {
    owners[i]->burst_done_ = true;
    owners[i]->finish_burst(jobs[i].result);
  }
  for (Connection* c : batch) {
    if (c->burst_done_) c->burst_done_ = false;
    else c->tick_output();
  }
}

void Server::shutdown(std::function<void()> done) {
  if (shutting_down_) {  // a second caller: also told when (or if already) everything is closed
    if (done) {
      auto first = std::move(shutdown_done_);
      shutdown_done_ = [first = std::move(first), second = std::move(done)] {
        if (first) first();
        second();
      };
      wake();
    }
    return;
  }
  shutting_down_ = true;
  shutdown_done_ = done ? std::move(done) : std::function<void()>([] {});
  for (auto& l : listeners_) l->tcp.close();
  log::info("shutting down: {} connections open", live_count_);
  std::vector<Connection*> open;
  for (Connection* c = head_; c != nullptr; c = c->next_) open.push_back(c);
  for (Connection* c : open) c->begin_shutdown();  // none is deleted before on_idle
  auto ms = static_cast<std::uint64_t>(limits_.shutdown_deadline.count());
  shutdown_timer_.start(ms, 0, [this] {
    if (live_count_ > 0) log::warn("shutdown deadline: force-closing {} connections", live_count_);
    while (head_ != nullptr) head_->abort("shutdown deadline");
    wake();
  });
  wake();
}

void Server::check_shutdown_done() {
  if (!shutting_down_ || !shutdown_done_ || live_count_ > 0 || !graveyard_.empty()) return;
  shutdown_timer_.stop();
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

NetStats Server::stats(std::string_view kind) const {
  NetStats s;
  for (const auto& l : listeners_)
    if (l->options.kind == kind) s += l->stats;
  return s;
}

NetStats Server::total_stats() const {
  NetStats s;
  for (const auto& l : listeners_) s += l->stats;
  return s;
}

}  // namespace mb::net
