// File: gateway/metrics/http_exporter.cpp
#include "gateway/metrics/http_exporter.hpp"

#include <fmt/format.h>

#include <cstring>

namespace mb::metrics {

struct HttpExporter::Listener {
  mb::uv::Handle<uv_tcp_t> tcp;
  std::uint16_t port = 0;
};

struct HttpExporter::Conn {
  HttpExporter* owner = nullptr;
  mb::uv::Handle<uv_tcp_t> tcp;
  mb::uv::Timer timer;
  std::string request;
  bool responded = false;
  bool finished = false;
  std::list<std::unique_ptr<Conn>>::iterator self;
};

namespace {

// A write request owns its bytes; it reaches its connection only through handle->data, which
// is nullptr once the connection closed (UV_ECANCELED callbacks are then harmless).
struct WriteReq {
  uv_write_t req{};
  std::string bytes;
};

mb::Result<sockaddr_storage, std::string> parse_address(const std::string& host_port) {
  std::string host;
  std::string port;
  bool v6 = false;
  if (host_port.starts_with('[')) {
    auto close = host_port.find("]:");
    if (close == std::string::npos) return mb::unexpected(host_port + ": expected [v6addr]:port");
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
    v6 = true;
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string::npos) return mb::unexpected(host_port + ": expected host:port");
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    return mb::unexpected(host_port + ": bad port");
  }
  sockaddr_storage ss{};
  int p = static_cast<int>(std::stoul(port));
  int rc = v6 ? uv_ip6_addr(host.c_str(), p, reinterpret_cast<sockaddr_in6*>(&ss))
              : uv_ip4_addr(host.c_str(), p, reinterpret_cast<sockaddr_in*>(&ss));
  if (rc != 0) return mb::unexpected(host_port + ": bad IP address \"" + host + "\"");
  return ss;
}

}  // namespace

HttpExporter::HttpExporter(uv_loop_t* loop, Registry& registry, HttpExporterOptions options)
    : loop_(loop), registry_(registry), options_(options), reaper_(loop) {}

HttpExporter::~HttpExporter() { close(); }

mb::Result<void, std::string> HttpExporter::listen(const std::string& host_port) {
  auto addr = parse_address(host_port);
  if (!addr) return mb::unexpected(addr.error());
  auto tcp = mb::uv::Handle<uv_tcp_t>::init(loop_, uv_tcp_init);
  if (!tcp) return mb::unexpected(host_port + ": " + uv_strerror(tcp.error()));
  auto listener = std::make_unique<Listener>();
  listener->tcp = std::move(*tcp);
  listener->tcp->data = this;
  int rc = uv_tcp_bind(listener->tcp.get(), reinterpret_cast<const sockaddr*>(&*addr), 0);
  if (rc == 0) rc = uv_listen(listener->tcp.stream(), 64, &HttpExporter::on_connection);
  if (rc != 0) return mb::unexpected(host_port + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener->tcp.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  listener->port = ntohs(bound.ss_family == AF_INET6
                             ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                             : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listeners_.push_back(std::move(listener));
  return {};
}

std::vector<std::uint16_t> HttpExporter::ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& l : listeners_) out.push_back(l->port);
  return out;
}

void HttpExporter::close() {
  if (closed_) return;
  closed_ = true;
  listeners_.clear();  // Handle destructors uv_close the listening sockets
  while (!conns_.empty()) finish(*conns_.front());
  dead_.clear();  // not inside any Conn callback here
  reaper_.close();
}

void HttpExporter::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<HttpExporter*>(server->data);
  if (self == nullptr || status < 0) return;
  auto tcp = mb::uv::Handle<uv_tcp_t>::init(self->loop_, uv_tcp_init);
  if (!tcp) return;
  if (uv_accept(server, tcp->stream()) != 0) return;
  auto conn = std::make_unique<Conn>();
  conn->owner = self;
  conn->tcp = std::move(*tcp);
  conn->tcp->data = conn.get();
  conn->timer = mb::uv::Timer(self->loop_);
  Conn& c = *conn;
  self->conns_.push_front(std::move(conn));
  c.self = self->conns_.begin();
  if (self->conns_.size() > self->options_.max_connections) {
    self->finish(c);  // over the limit: close at once
    return;
  }
  // One repeating timer, never re-armed from its own callback: the first tick answers 408 to a
  // client that has not sent a complete request, a later tick ends a lingering close.
  auto period = static_cast<std::uint64_t>(self->options_.timeout.count());
  c.timer.start(period, period, [self, &c] {
    if (!c.responded) {
      self->respond(c, 408, "Request Timeout", "request timeout\n");
    } else {
      self->finish(c);
    }
  });
  if (uv_read_start(c.tcp.stream(), &HttpExporter::on_alloc, &HttpExporter::on_read) != 0) {
    self->finish(c);
  }
}

void HttpExporter::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* conn = static_cast<Conn*>(handle->data);
  if (conn == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  *buf = uv_buf_init(conn->owner->read_buffer_, sizeof conn->owner->read_buffer_);
}

void HttpExporter::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* conn = static_cast<Conn*>(stream->data);
  if (conn == nullptr) return;
  HttpExporter* self = conn->owner;
  if (nread < 0) {
    self->finish(*conn);
    return;
  }
  // After the response, read and drop until the client closes (lingering close): closing with
  // unread input would send RST and could destroy the response in flight.
  if (conn->responded) return;
  conn->request.append(buf->base, static_cast<std::size_t>(nread));
  bool complete = conn->request.find("\r\n\r\n") != std::string::npos ||
                  conn->request.find("\n\n") != std::string::npos;
  if (complete) {
    self->handle_request(*conn);
  } else if (conn->request.size() > self->options_.max_request) {
    self->respond(*conn, 431, "Request Header Fields Too Large", "request too large\n");
  }
}

void HttpExporter::handle_request(Conn& conn) {
  std::string_view req = conn.request;
  std::string_view line = req.substr(0, req.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos ||
      !line.substr(sp2 + 1).starts_with("HTTP/1.") || conn.request.size() > options_.max_request) {
    if (conn.request.size() > options_.max_request) {
      respond(conn, 431, "Request Header Fields Too Large", "request too large\n");
    } else {
      respond(conn, 400, "Bad Request", "bad request\n");
    }
    return;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view path = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD") {
    respond(conn, 405, "Method Not Allowed", "only GET and HEAD\n");
  } else if (path != "/metrics") {
    respond(conn, 404, "Not Found", "not found; try /metrics\n", method == "HEAD");
  } else {
    respond(conn, 200, "OK", registry_.render(), method == "HEAD");
  }
}

void HttpExporter::respond(Conn& conn, int status, std::string_view reason, std::string_view body,
                           bool head_only) {
  if (conn.responded || conn.finished) return;
  conn.responded = true;
  ++served_;
  std::string_view type = status == 200 ? kContentType : "text/plain; charset=utf-8";
  auto* w = new WriteReq();
  w->bytes = fmt::format(
      "HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      status, reason, type, body.size(), status == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!head_only) w->bytes += body;
  uv_buf_t b = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  if (uv_write(&w->req, conn.tcp.stream(), &b, 1, &HttpExporter::on_write) != 0) {
    delete w;
    finish(conn);
  }
}

void HttpExporter::on_write(uv_write_t* req, int status) {
  uv_stream_t* stream = req->handle;
  auto* conn = static_cast<Conn*>(stream->data);
  delete reinterpret_cast<WriteReq*>(req);  // req is WriteReq's first member
  if (conn == nullptr) return;
  // Response sent: FIN our side, then wait for the client's EOF in on_read (or the timer).
  auto* shutdown = new uv_shutdown_t{};
  if (status < 0 || uv_shutdown(shutdown, stream, [](uv_shutdown_t* r, int) { delete r; }) != 0) {
    delete shutdown;
    conn->owner->finish(*conn);
  }
}

void HttpExporter::finish(Conn& conn) {
  if (conn.finished) return;
  conn.finished = true;
  conn.tcp.close();
  conn.timer.close();
  // We may be inside this Conn's own callback: destroy it on a later iteration.
  dead_.push_back(std::move(*conn.self));
  conns_.erase(conn.self);
  if (!closed_) reaper_.start(0, 0, [this] { reap(); });
}

void HttpExporter::reap() { dead_.clear(); }

}  // namespace mb::metrics
