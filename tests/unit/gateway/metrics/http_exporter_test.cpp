// Tests for gateway/metrics/http_exporter: a real loop, a real listener on 127.0.0.1 port 0, and
// blocking HTTP clients in a thread.
#include "gateway/metrics/http_exporter.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/uv/async.hpp"
#include "gateway/uv/loop.hpp"
#include "tests/unit/gateway/metrics/exposition_parser.hpp"

namespace mb::metrics {
namespace {

using namespace std::chrono_literals;

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};  // a hung server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Sends `request` and returns everything the server sent until it closed.
std::string http(std::uint16_t port, const std::string& request) {
  int fd = connect_to(port);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

std::string body_of(const std::string& response) {
  auto pos = response.find("\r\n\r\n");
  return pos == std::string::npos ? "" : response.substr(pos + 4);
}

// Runs the exporter on a loop in this thread while `client` runs in another thread.
struct Harness {
  mb::uv::Loop loop;
  Registry registry;
  HttpExporterOptions options;

  void run(const std::function<void(std::uint16_t port)>& client) {
    HttpExporter exporter(loop.get(), registry, options);
    auto ok = exporter.listen("127.0.0.1:0");
    ASSERT_TRUE(ok) << ok.error();
    std::uint16_t port = exporter.ports().at(0);
    // Closing the Async from its own callback is fine: only its handle closes, the object lives.
    mb::uv::Async done(loop.get(), [&] {
      exporter.close();
      done.close();
    });
    std::thread t([&] {
      client(port);
      done.send();
    });
    // Bounded: the exporter's own timers end every connection; close() ends the listener.
    loop.run();
    t.join();
  }
};

TEST(HttpExporter, ServesMetricsInTextFormat) {
  Harness h;
  h.registry.counter("mb_scrapes_total", "Test counter.", {"k"}).with({"v"}).inc(7);
  std::string response;
  h.run([&](std::uint16_t port) {
    response = http(port, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
  });
  EXPECT_EQ(response.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  auto body = body_of(response);
  EXPECT_NE(response.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  auto e = test::parse_exposition(body);
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.samples["mb_scrapes_total{k=\"v\"}"], 7);
}

TEST(HttpExporter, Http11QueryStringAndHead) {
  Harness h;
  h.registry.gauge("mb_g", "G.").get().set(1);
  std::string get11;
  std::string head;
  h.run([&](std::uint16_t port) {
    get11 = http(port, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n");
    head = http(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  });
  EXPECT_EQ(get11.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(get11.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(body_of(get11).find("mb_g 1\n"), std::string::npos);
  EXPECT_EQ(head.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_EQ(body_of(head), "");
}

TEST(HttpExporter, ErrorsForOtherPathsMethodsAndGarbage) {
  Harness h;
  std::string not_found;
  std::string post;
  std::string garbage;
  std::string bare_lf;
  h.run([&](std::uint16_t port) {
    not_found = http(port, "GET / HTTP/1.0\r\n\r\n");
    post = http(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    garbage = http(port, "\x16\x03\x01 hello\r\n\r\n");
    bare_lf = http(port, "GET /nope HTTP/1.0\n\n");
  });
  EXPECT_EQ(not_found.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << not_found;
  EXPECT_EQ(post.rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(garbage.rfind("HTTP/1.0 400 Bad Request\r\n", 0), 0u) << garbage;
  EXPECT_EQ(bare_lf.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << bare_lf;
}

TEST(HttpExporter, OversizedRequestGets431) {
  Harness h;
  h.options.max_request = 1024;
  std::string response;
  h.run([&](std::uint16_t port) {
    response = http(port, "GET /metrics HTTP/1.0\r\nX-Big: " + std::string(3000, 'a'));
  });
  EXPECT_EQ(response.rfind("HTTP/1.0 431 ", 0), 0u) << response;
}

TEST(HttpExporter, SilentClientGets408) {
  Harness h;
  h.options.timeout = 100ms;
  std::string response;
  h.run([&](std::uint16_t port) {
    int fd = connect_to(port);
    ::send(fd, "GET /metr", 9, MSG_NOSIGNAL);  // never completes the request
    response = read_all(fd);
    ::close(fd);
  });
  EXPECT_EQ(response.rfind("HTTP/1.0 408 Request Timeout\r\n", 0), 0u) << response;
}

TEST(HttpExporter, ConnectionsBeyondTheLimitAreClosed) {
  Harness h;
  h.options.max_connections = 1;
  std::string second;
  std::string first;
  h.run([&](std::uint16_t port) {
    int a = connect_to(port);
    ::send(a, "GET /metr", 9, MSG_NOSIGNAL);  // holds the one slot, incomplete
    int b = connect_to(port);
    second = read_all(b);  // closed at accept: EOF without a response
    ::close(b);
    ::send(a, "ics HTTP/1.0\r\n\r\n", 16, MSG_NOSIGNAL);
    first = read_all(a);
    ::close(a);
  });
  EXPECT_EQ(second, "");
  EXPECT_EQ(first.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << first;
}

TEST(HttpExporter, ListenErrorsNameTheAddress) {
  mb::uv::Loop loop;
  Registry registry;
  {
    HttpExporter exporter(loop.get(), registry);
    ASSERT_TRUE(exporter.listen("127.0.0.1:0"));
    std::string taken = "127.0.0.1:" + std::to_string(exporter.ports().at(0));
    auto again = exporter.listen(taken);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), taken + ": address already in use");
    auto bad = exporter.listen("localhost:9100");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("localhost:9100: bad IP address"), std::string::npos);
    EXPECT_FALSE(exporter.listen("127.0.0.1"));
    EXPECT_FALSE(exporter.listen("127.0.0.1:70000"));
    EXPECT_TRUE(exporter.listen("[::1]:0") || true);  // IPv6 may be absent in a container
  }
  loop.run();
}

}  // namespace
}  // namespace mb::metrics
