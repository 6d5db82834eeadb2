// File: gateway/metrics/http_exporter.hpp
//
// HttpExporter: the `[listen] metrics` listener. A minimal HTTP/1.0 server on the gateway's
// libuv loop that answers
//   GET /metrics  (HTTP/1.0 or 1.1; a query string is ignored)  -> 200, Registry::render(),
//                 Content-Type: text/plain; version=0.0.4; charset=utf-8
//   HEAD /metrics                                              -> 200 headers only
//   another path                                               -> 404
//   another method                                             -> 405
//   a malformed request line                                   -> 400
//   a request head over `max_request` octets                   -> 431
// and then closes the connection (Connection: close; no keep-alive, no request body read).
// A client that sends nothing complete within `timeout` gets 408; after the response the
// connection is half-closed and dropped when the client closes (or after at most another
// `timeout`). At most `max_connections` are served at once (more are closed at accept).
// No authentication: bind it to loopback or a private network.
//
// Threading and lifetime: loop thread only. Connection objects are destroyed on a later loop
// iteration, never inside their own callbacks. close() (also run by the destructor) stops
// listening and closes every connection; the loop must then run to let close callbacks drain
// (mb::uv::Loop does).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "gateway/metrics/registry.hpp"
#include "gateway/uv/handle.hpp"
#include "gateway/uv/timer.hpp"
#include "protocols/common/result.hpp"

namespace mb::metrics {

struct HttpExporterOptions {
  std::size_t max_request = 8192;
  std::chrono::milliseconds timeout{5000};
  std::size_t max_connections = 16;
};

class HttpExporter {
 public:
  HttpExporter(uv_loop_t* loop, Registry& registry, HttpExporterOptions options = {});
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  // Listens on "host:port" or "[v6]:port" (port 0: ephemeral, see ports()). Errors name the
  // address and libuv's reason ("127.0.0.1:9143: address already in use").
  mb::Result<void, std::string> listen(const std::string& host_port);

  // Bound ports, in listen() order.
  std::vector<std::uint16_t> ports() const;

  // Requests answered so far (any status), for tests and logs.
  std::uint64_t requests_served() const { return served_; }

  // Stops listening and closes every open connection. Idempotent.
  void close();

 private:
  struct Conn;
  struct Listener;

  static void on_connection(uv_stream_t* server, int status);
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);

  void handle_request(Conn& conn);
  void respond(Conn& conn, int status, std::string_view reason, std::string_view body,
               bool head_only = false);
  void finish(Conn& conn);  // close handles now, destroy the Conn on a later iteration
  void reap();

  uv_loop_t* loop_;
  Registry& registry_;
  HttpExporterOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> dead_;
  mb::uv::Timer reaper_;
  char read_buffer_[4096];
  std::uint64_t served_ = 0;
  bool closed_ = false;
};

}  // namespace mb::metrics
