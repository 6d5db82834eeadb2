// Transport tests over real sockets on 127.0.0.1 (ports bound to 0) and a real loop.
#include <gtest/gtest.h>

#include <string>

#include "gateway/net/address.hpp"
#include "gateway/net/connection.hpp"
#include "gateway/net/server.hpp"
#include "tests/unit/gateway/net/test_support.hpp"

namespace mb::net::test {
namespace {

TEST(NetServer, PlainRoundTripAndSinkFacts) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  ASSERT_NE(port, 0);
  std::size_t count_while_open = 0;
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(read_line(fd), "HELLO");
    EXPECT_TRUE(write_all(fd, "one\r\ntwo\r\n"));
    EXPECT_EQ(read_line(fd), "one");
    EXPECT_EQ(read_line(fd), "two");
    h.on_loop([&] { count_while_open = h.server().connection_count(); });
    EXPECT_TRUE(write_all(fd, "QUIT\r\n"));
    EXPECT_EQ(read_line(fd), "BYE");
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_TRUE(h.shutdown_done());
  EXPECT_EQ(count_while_open, 1u);
  EXPECT_EQ(h.server().connection_count(), 0u);
  EXPECT_EQ(obs.started, 1);
  EXPECT_EQ(obs.closed, 1);
  EXPECT_EQ(obs.reentrant_closed, 0);  // on_closed() came later, from the loop
  EXPECT_EQ(obs.last_peer, "127.0.0.1");
  EXPECT_EQ(obs.last_id, "c1");
  EXPECT_TRUE(obs.last_loopback);
  EXPECT_FALSE(obs.last_is_tls);
  NetStats s = h.server().stats("imap");
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.closed, 1u);
  EXPECT_EQ(s.bytes_in, std::string("one\r\ntwo\r\nQUIT\r\n").size());
  EXPECT_EQ(s.bytes_out, std::string("HELLO\r\none\r\ntwo\r\nBYE\r\n").size());
  EXPECT_EQ(h.server().stats("pop3").accepted, 0u);
}

TEST(NetServer, ManySmallPipelinedLinesArriveInOrder) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"pop3", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    std::string all;
    for (int i = 0; i < 2000; ++i) all += "line" + std::to_string(i) + "\r\n";
    ASSERT_TRUE(write_all(fd, all));
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(read_line(fd), "line" + std::to_string(i));
    ::close(fd);
  });
  EXPECT_EQ(obs.closed, 1);
}

// A large send() with nothing queued is written from the caller's bytes at once and only
// the rest is queued: the peer still gets every byte, in order with the sends around it,
// and bytes_out counts both parts.
TEST(NetServer, LargeSendWrittenDirectlyKeepsOrderAndCounts) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"pop3", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  auto pattern = [](std::size_t n) {
    std::string big(n, ' ');
    for (std::size_t i = 0; i < n; ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    return big;
  };
  std::size_t expect_out = 0;
  h.run([&] {
    int fd = connect_to(port, 16 * 1024);
    ASSERT_EQ(read_line(fd), "HELLO");
    // 3 MB: more than the socket takes at once, so a remainder is queued.
    ASSERT_TRUE(write_all(fd, "BIG 3000000\r\n"));
    EXPECT_EQ(read_exact(fd, 3000000), pattern(3000000));
    EXPECT_EQ(read_line(fd), "END");
    ASSERT_TRUE(write_all(fd, "a\r\nBIG 100000\r\nb\r\nBIG 5000\r\n"));
    EXPECT_EQ(read_line(fd), "a");
    EXPECT_EQ(read_exact(fd, 100000), pattern(100000));
    EXPECT_EQ(read_line(fd), "END");
    EXPECT_EQ(read_line(fd), "b");
    EXPECT_EQ(read_exact(fd, 5000), pattern(5000));
    EXPECT_EQ(read_line(fd), "END");
    ::close(fd);
  });
  expect_out = std::string("HELLO\r\n").size() + 3000000 + 5 + 3 + 100000 + 5 + 3 + 5000 + 5;
  EXPECT_EQ(h.server().stats("pop3").bytes_out, expect_out);
  EXPECT_EQ(obs.closed, 1);
}

TEST(NetServer, BackPressureKeepsQueueNearHighWaterThenDeliversEverything) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  const std::size_t total = 32u * 1024 * 1024;  // far more than kernel buffers hold
  std::size_t received = 0;
  std::size_t queued_while_stalled = 0;
  h.run([&] {
    int fd = connect_to(port, 16 * 1024);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "STREAM " + std::to_string(total) + "\r\n"));
    // Not reading: the session must stop producing at the high-water mark. Wait until the
    // server's output is stalled (queue non-empty) without relying on timing.
    for (int i = 0; i < 100000 && queued_while_stalled == 0; ++i) {
      h.on_loop([&] { queued_while_stalled = obs.max_queued; });
      std::this_thread::yield();
    }
    char buf[65536];
    while (received < total) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  EXPECT_EQ(received, total);
  EXPECT_GT(obs.max_queued, 0u);
  // Never more than one chunk past the high-water mark.
  EXPECT_LE(obs.max_queued, proto::kOutputHighWater + 64 * 1024);
  EXPECT_EQ(obs.closed, 1);
}

// A fast reader does not let one streaming session keep the loop: after the turn budget
// the session sees a full queue and continues on the next turn (on_writable), when the other
// sockets have been polled; a second connection's request is answered while the stream
// runs, and every byte still arrives. The budget is set to 128 KB here: a pump then sends
// at most the budget, the queue up to the high-water mark (the socket was full) and one
// chunk past it, ~450 KB; without the budget a fast reader lets one pump run for tens of
// megabytes (measured 28 MB with the check disabled).
TEST(NetServer, StreamingYieldsTheLoopAfterATurnBudget) {
  Observed obs;
  ServerLimits limits;
  limits.turn_budget = 128 * 1024;
  Harness h(limits);
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  const std::size_t total = 96u * 1024 * 1024;
  std::size_t received = 0;
  h.run([&] {
    int fd = connect_to(port, 8 * 1024 * 1024);
    int other = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_EQ(read_line(other), "HELLO");
    ASSERT_TRUE(write_all(fd, "STREAM " + std::to_string(total) + "\r\n"));
    ASSERT_TRUE(write_all(other, "ping\r\n"));
    EXPECT_EQ(read_line(other), "ping");
    std::vector<char> buf(4 << 20);
    while (received < total) {
      ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
    ::close(other);
    ::close(fd);
  });
  EXPECT_EQ(received, total);
  EXPECT_GT(obs.max_pump_bytes, 0u);
  EXPECT_LE(obs.max_pump_bytes, limits.turn_budget + proto::kOutputHighWater + 64 * 1024)
      << "max " << obs.max_pump_bytes;
  EXPECT_EQ(obs.closed, 2);
}

TEST(NetServer, ClientThatNeverReadsIsClosedAtTheOutputCap) {
  Observed obs;
  ServerLimits limits;
  limits.output_cap = 2 * 1024 * 1024;
  Harness h(limits);
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0",
                                      {"imap", false, echo_factory(obs, true, h.loop())}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port, 16 * 1024);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "BLAST\r\n"));
    // Never read: wait for the server to give up on us.
    while (obs.closed.load() == 0) std::this_thread::yield();
    ::close(fd);
  });
  EXPECT_EQ(obs.closed, 1);
  // The queue never held more than the cap (the send that would cross it closes instead).
  EXPECT_LE(obs.max_queued, limits.output_cap);
  EXPECT_EQ(h.server().connection_count(), 0u);
}

TEST(NetServer, IdleTimeoutSendsGoodbyeAndCloses) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "IDLE 1\r\n"));
    EXPECT_EQ(read_line(fd), "OK");
    EXPECT_EQ(read_line(fd), "BYE timeout");
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_EQ(obs.timeouts, 1);
  EXPECT_EQ(obs.closed, 1);
}

TEST(NetServer, HalfCloseStillFlushesTheRepliesQueuedBeforeIt) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"pop3", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    // Like `printf 'one\r\nQUIT\r\n' | nc`: the EOF arrives with the commands.
    ASSERT_TRUE(write_all(fd, "one\r\nQUIT\r\n"));
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(read_line(fd), "one");
    EXPECT_EQ(read_line(fd), "BYE");
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_EQ(obs.closed, 1);
}

TEST(NetServer, ShutdownSaysGoodbyeClosesEverythingAndCallsDone) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"pop3", false, echo_factory(obs)}));
  std::uint16_t p1 = h.server().listener_port(0);
  std::uint16_t p2 = h.server().listener_port(1);
  int done_calls = 0;
  h.run([&] {
    int fds[3] = {connect_to(p1), connect_to(p1), connect_to(p2)};
    for (int fd : fds) ASSERT_EQ(read_line(fd), "HELLO");
    h.on_loop([&] {
      EXPECT_EQ(h.server().connection_count(), 3u);
      h.server().shutdown([&] { ++done_calls; });
    });
    for (int fd : fds) {
      EXPECT_EQ(read_line(fd), "BYE shutdown");
      EXPECT_TRUE(reads_eof(fd));
      ::close(fd);
    }
    // Listeners are closed: new connections are refused by the kernel.
    int late = connect_to(p1);
    EXPECT_LT(late, 0);
    if (late >= 0) ::close(late);
  });
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(obs.shutdowns, 3);
  EXPECT_EQ(obs.closed, 3);
  EXPECT_EQ(h.server().connection_count(), 0u);
}

TEST(NetServer, ShutdownForceClosesSessionsThatIgnoreIt) {
  Observed obs;
  ServerLimits limits;
  limits.shutdown_deadline = std::chrono::milliseconds(100);
  Harness h(limits);
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs, false)}));
  std::uint16_t port = h.server().listener_port(0);
  bool done = false;
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    h.on_loop([&] { h.server().shutdown([&] { done = true; }); });
    EXPECT_TRUE(reads_eof(fd));
    ::close(fd);
  });
  EXPECT_TRUE(done);
  EXPECT_EQ(obs.shutdowns, 1);
  EXPECT_EQ(obs.closed, 1);
}

TEST(NetServer, ShutdownWithNoConnectionsCompletesFromTheLoop) {
  mb::uv::Loop loop;
  int done = 0;
  {
    Server server(loop.get());
    Observed obs;
    ASSERT_TRUE(server.add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
    server.shutdown([&] { ++done; });
    EXPECT_EQ(done, 0);  // never synchronous
    loop.run();
    EXPECT_EQ(done, 1);
  }
}

TEST(NetServer, MaxConnectionsRefusesTheExtraOne) {
  Observed obs;
  ServerLimits limits;
  limits.max_connections = 2;
  Harness h(limits);
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int a = connect_to(port);
    int b = connect_to(port);
    ASSERT_EQ(read_line(a), "HELLO");
    ASSERT_EQ(read_line(b), "HELLO");
    int c = connect_to(port);
    ASSERT_GE(c, 0);
    EXPECT_TRUE(reads_eof(c));  // accepted and closed without a greeting
    ::close(c);
    EXPECT_TRUE(write_all(a, "still here\r\n"));
    EXPECT_EQ(read_line(a), "still here");
    ::close(a);
    ::close(b);
  });
  EXPECT_EQ(h.server().stats("imap").accepted, 2u);
  EXPECT_EQ(h.server().stats("imap").refused, 1u);
}

TEST(NetServer, PauseReadingKeepsInputInTheKernelUntilResumed) {
  Observed obs;
  Harness h;
  proto::SessionSink* sink = nullptr;
  ASSERT_TRUE(h.server().add_listener(
      "127.0.0.1:0", {"imap", false, [&](proto::SessionSink& s) -> proto::SessionPtr {
                        sink = &s;
                        return std::make_unique<EchoSession>(s, obs);
                      }}));
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    h.on_loop([&] { sink->pause_reading(); });
    ASSERT_TRUE(write_all(fd, "held\r\n"));
    std::uint64_t in_before = 0;
    h.on_loop([&] { in_before = h.server().stats("imap").bytes_in; });
    EXPECT_EQ(in_before, 0u);  // nothing read while paused
    h.on_loop([&] { sink->resume_reading(); });
    EXPECT_EQ(read_line(fd), "held");
    ::close(fd);
  });
}

TEST(NetServer, ListenErrorsNameTheAddress) {
  mb::uv::Loop loop;
  Server server(loop.get());
  Observed obs;
  auto bad = server.add_listener("127.0.0.1", {"imap", false, echo_factory(obs)});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("127.0.0.1"), std::string::npos);
  auto bad_host = server.add_listener("300.1.1.1:143", {"imap", false, echo_factory(obs)});
  ASSERT_FALSE(bad_host);
  EXPECT_NE(bad_host.error().find("300.1.1.1:143"), std::string::npos);
  ASSERT_TRUE(server.add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::string taken = "127.0.0.1:" + std::to_string(server.listener_port(0));
  auto in_use = server.add_listener(taken, {"imap", false, echo_factory(obs)});
  ASSERT_FALSE(in_use);
  EXPECT_NE(in_use.error().find(taken), std::string::npos);
  EXPECT_NE(in_use.error().find("address already in use"), std::string::npos);
}

TEST(NetServer, Ipv6LoopbackListener) {
  Observed obs;
  Harness h;
  auto r = h.server().add_listener("[::1]:0", {"imap", false, echo_factory(obs)});
  if (!r) {
    // The kernel may have IPv6 disabled; then the error must still name the address.
    EXPECT_NE(r.error().find("[::1]:0"), std::string::npos);
    return;
  }
  std::uint16_t port = h.server().listener_port(0);
  h.run([&] {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    sa.sin6_addr = in6addr_loopback;
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    EXPECT_EQ(read_line(fd), "HELLO");
    ::close(fd);
  });
  EXPECT_EQ(obs.last_peer, "::1");
  EXPECT_TRUE(obs.last_loopback);
}

TEST(NetAddress, ParsesV4V6AndRejectsGarbage) {
  auto a = parse_listen_address("127.0.0.1:143");
  ASSERT_TRUE(a);
  EXPECT_EQ(format_address(*a), "127.0.0.1");
  EXPECT_EQ(address_port(*a), 143);
  EXPECT_TRUE(is_loopback(*a));
  auto b = parse_listen_address("[::1]:993");
  ASSERT_TRUE(b);
  EXPECT_EQ(format_address(*b), "::1");
  EXPECT_EQ(address_port(*b), 993);
  auto any = parse_listen_address("*:110");
  ASSERT_TRUE(any);
  EXPECT_EQ(format_address(*any), "0.0.0.0");
  EXPECT_FALSE(is_loopback(*any));
  for (const char* bad : {"", "143", "1.2.3.4:", "1.2.3.4:99999", "1.2.3.4:1x", "::1:143",
                          "[::1]143", "[::1", "[zz]:1", "host.example:143"}) {
    auto r = parse_listen_address(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().find("bad listen address"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace mb::net::test
