// BodyPump (gateway/net/body_pump.hpp) over real socket pairs and a real loop, and the
// server's offload path (Connection::offload_body) over real TCP sockets on 127.0.0.1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "gateway/net/body_pump.hpp"
#include "gateway/net/server.hpp"
#include "gateway/uv/loop.hpp"
#include "tests/unit/gateway/net/test_support.hpp"

namespace mb::net::test {
namespace {

std::string pattern(std::uint64_t from, std::uint64_t n) {
  std::string s(static_cast<std::size_t>(n), ' ');
  for (std::uint64_t i = 0; i < n; ++i) s[static_cast<std::size_t>(i)] = pattern_byte(from + i);
  return s;
}

// A nonblocking stream socket pair: [0] is the pump's side, [1] the reader's.
struct SocketPair {
  int fd[2] = {-1, -1};
  explicit SocketPair(int sndbuf = 0) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) != 0) return;
    if (sndbuf > 0) ::setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    ::fcntl(fd[0], F_SETFL, ::fcntl(fd[0], F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
};

// Runs one job through a pump and the loop; returns it as handed back.
std::unique_ptr<PumpJob> run_one(std::unique_ptr<PumpJob> job) {
  uv::Loop loop;
  std::unique_ptr<PumpJob> back;
  BodyPump pump(loop.get(), [&](std::unique_ptr<PumpJob> j) { back = std::move(j); });
  EXPECT_TRUE(pump.submit(job));
  EXPECT_EQ(job, nullptr) << "taken";
  while (!back) uv_run(loop.get(), UV_RUN_ONCE);
  EXPECT_EQ(pump.jobs_done(), 1u);
  return back;
}

// A job ends at the first full socket; the connection queues the leftover and hands the
// rest over again. Done here by the test: every job continues exactly where the previous
// one ended, and the reader gets the whole body in order.
TEST(BodyPump, SuccessiveJobsDeliverTheWholeBodyInOrder) {
  SocketPair sp;
  ASSERT_GE(sp.fd[0], 0);
  const std::uint64_t n = 3'000'000;  // many kStep steps, more than the socket holds
  std::string got;
  std::thread reader([&] { got = read_exact(sp.fd[1], n); });
  std::unique_ptr<proto::BodySource> source = std::make_unique<PatternSource>(n);
  std::uint64_t done = 0;
  int jobs = 0;
  while (done < n && jobs < 100000) {
    auto job = std::make_unique<PumpJob>();
    job->fd = sp.fd[0];
    job->source = std::move(source);
    job->length = n - done;
    auto back = run_one(std::move(job));
    ++jobs;
    ASSERT_EQ(back->error, 0);
    ASSERT_FALSE(back->source_stopped);
    ASSERT_EQ(back->sent + back->leftover.size(), back->consumed);
    std::string_view rest = back->leftover;
    while (!rest.empty()) {  // as the connection's queue would
      ssize_t k = ::send(sp.fd[0], rest.data(), rest.size(), MSG_NOSIGNAL);
      if (k > 0) rest.remove_prefix(static_cast<std::size_t>(k));
      else std::this_thread::yield();
    }
    done += back->consumed;
    source = std::move(back->source);
  }
  reader.join();
  EXPECT_EQ(done, n);
  EXPECT_TRUE(got == pattern(0, n)) << "bytes differ";
}

// Up to `length` only, and a source shorter than `length` ends the job at its end.
TEST(BodyPump, StopsAtTheLengthAndAtTheEndOfTheSource) {
  {
    SocketPair sp;
    auto job = std::make_unique<PumpJob>();
    job->fd = sp.fd[0];
    job->source = std::make_unique<PatternSource>(100'000);
    job->length = 70'000;
    auto back = run_one(std::move(job));  // 70 KB fit in the socket's buffer
    EXPECT_EQ(back->consumed, 70'000u);
    EXPECT_EQ(back->sent, 70'000u);
    EXPECT_EQ(static_cast<PatternSource&>(*back->source).position(), 70'000u);
    EXPECT_TRUE(read_exact(sp.fd[1], 70'000) == pattern(0, 70'000));
  }
  {
    SocketPair sp;
    auto job = std::make_unique<PumpJob>();
    job->fd = sp.fd[0];
    job->source = std::make_unique<PatternSource>(5'000);
    job->length = 1'000'000;
    auto back = run_one(std::move(job));
    EXPECT_EQ(back->consumed, 5'000u);
    EXPECT_FALSE(back->source_stopped);
    EXPECT_TRUE(read_exact(sp.fd[1], 5'000) == pattern(0, 5'000));
  }
}

// A reader that does not read: the job ends at EAGAIN, and what the socket did not take
// comes back as leftover; sent + leftover is exactly what was consumed, in order.
TEST(BodyPump, FullSocketReturnsTheUnsentRestAsLeftover) {
  SocketPair sp(16 * 1024);
  const std::uint64_t n = 4'000'000;
  auto job = std::make_unique<PumpJob>();
  job->fd = sp.fd[0];
  job->source = std::make_unique<PatternSource>(n);
  job->length = n;
  auto back = run_one(std::move(job));
  EXPECT_EQ(back->error, 0);
  EXPECT_LT(back->consumed, n);
  EXPECT_FALSE(back->leftover.empty());
  EXPECT_LE(back->leftover.size(), BodyPump::kStep);
  EXPECT_EQ(back->sent + back->leftover.size(), back->consumed);
  EXPECT_TRUE(back->leftover == pattern(back->sent, back->leftover.size()));
  EXPECT_TRUE(read_exact(sp.fd[1], static_cast<std::size_t>(back->sent)) == pattern(0, back->sent));
}

TEST(BodyPump, ClosedPeerIsReportedAsASendError) {
  SocketPair sp;
  ::close(sp.fd[1]);
  sp.fd[1] = -1;
  auto job = std::make_unique<PumpJob>();
  job->fd = sp.fd[0];
  job->source = std::make_unique<PatternSource>(500'000);
  job->length = 500'000;
  auto back = run_one(std::move(job));  // MSG_NOSIGNAL: no SIGPIPE kills the test
  EXPECT_EQ(back->error, EPIPE);
  EXPECT_EQ(back->sent, 0u);
}

// The source meets an uncached block: the job stops there with what came before it sent.
TEST(BodyPump, SourceThatWouldBlockStopsTheJob) {
  SocketPair sp;
  auto job = std::make_unique<PumpJob>();
  job->fd = sp.fd[0];
  job->source = std::make_unique<PatternSource>(1'000'000, 50'000);
  job->length = 1'000'000;
  auto back = run_one(std::move(job));  // 50 KB fit in the socket's buffer
  EXPECT_TRUE(back->source_stopped);
  EXPECT_EQ(back->consumed, 50'000u);
  EXPECT_EQ(back->sent, 50'000u);
  EXPECT_TRUE(read_exact(sp.fd[1], 50'000) == pattern(0, 50'000));
}

// stop() while a job runs and another waits: the running one finishes, the waiting one
// comes back untouched, both before stop() returns, in order.
TEST(BodyPump, StopHandsBackEveryJobInOrder) {
  SocketPair a, b;
  uv::Loop loop;
  std::vector<std::unique_ptr<PumpJob>> back;
  std::atomic<bool> gate{false};
  std::atomic<bool> entered{false};
  BodyPump pump(loop.get(), [&](std::unique_ptr<PumpJob> j) { back.push_back(std::move(j)); });
  auto first = std::make_unique<PumpJob>();
  first->fd = a.fd[0];
  first->source = std::make_unique<PatternSource>(10'000, UINT64_MAX, &gate, &entered);
  first->length = 10'000;
  auto second = std::make_unique<PumpJob>();
  second->fd = b.fd[0];
  second->source = std::make_unique<PatternSource>(10'000);
  second->length = 10'000;
  PumpJob* first_raw = first.get();
  PumpJob* second_raw = second.get();
  ASSERT_TRUE(pump.submit(first));
  ASSERT_TRUE(pump.submit(second));
  while (!entered.load()) std::this_thread::yield();  // the first job is running
  std::thread opener([&] {
    std::this_thread::yield();
    gate = true;
  });
  pump.stop();
  opener.join();
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].get(), first_raw);
  EXPECT_EQ(back[1].get(), second_raw);
  EXPECT_EQ(back[0]->consumed, 10'000u) << "the running job finished";
  EXPECT_EQ(back[1]->consumed, 0u) << "the waiting job never started";
  EXPECT_EQ(back[1]->sent, 0u);
  std::unique_ptr<PumpJob> late = std::make_unique<PumpJob>();
  EXPECT_FALSE(pump.submit(late)) << "no pump after stop()";
  EXPECT_NE(late, nullptr);
}

// ---- through the server ----------------------------------------------------------------

TEST(NetServer, OffloadedBodyArrivesWholeAndInOrderThroughASlowReader) {
  Observed obs;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  const std::uint64_t n = 5'000'000;
  h.run([&] {
    int fd = connect_to(port, 16 * 1024);  // small: the pump meets a full socket often
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "OFFLOAD " + std::to_string(n) + "\r\n"));
    EXPECT_EQ(read_line(fd), "BODY " + std::to_string(n));
    std::string body;
    char buf[7000];  // small reads: the socket fills up between them
    while (body.size() < n) {
      ssize_t k = ::recv(fd, buf, std::min<std::size_t>(sizeof buf, n - body.size()), 0);
      if (k <= 0) break;
      body.append(buf, static_cast<std::size_t>(k));
    }
    EXPECT_TRUE(body == pattern(0, n)) << "body differs; got " << body.size();
    EXPECT_EQ(read_line(fd), "END");
    ASSERT_TRUE(write_all(fd, "after\r\n"));  // the connection writes on its own again
    EXPECT_EQ(read_line(fd), "after");
    ::close(fd);
  });
  EXPECT_GE(obs.offloads.load(), 1);
  EXPECT_GE(h.server().pump_jobs(), 1u);
  EXPECT_EQ(h.server().stats("imap").bytes_out,
            std::string("HELLO\r\nBODY 5000000\r\n").size() + n + 5 + 7);
  EXPECT_EQ(obs.closed, 1);
}

// MAILBRIDGE_PUMP=0: the connection declines every offload before writing anything, and
// the session streams the body itself; the peer gets the same bytes.
TEST(NetServer, PumpSwitchedOffDeclinesOffloadsAndTheBodyStillArrives) {
  ::setenv("MAILBRIDGE_PUMP", "0", 1);
  Observed obs;
  Harness h;
  ::unsetenv("MAILBRIDGE_PUMP");
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  const std::uint64_t n = 1'000'000;
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "OFFLOAD " + std::to_string(n) + "\r\n"));
    EXPECT_EQ(read_line(fd), "BODY " + std::to_string(n));
    EXPECT_TRUE(read_exact(fd, n) == pattern(0, n)) << "body differs";
    EXPECT_EQ(read_line(fd), "END");
    ::close(fd);
  });
  EXPECT_EQ(obs.offloads.load(), 0);
  EXPECT_EQ(h.server().pump_jobs(), 0u);
}

// The peer goes away while the pump holds the connection's socket: the connection closes
// on the loop at once (it stops counting), but its socket stays open and the object alive
// until the pump hands the job back, so the pump never writes to a closed or reused fd.
TEST(NetServer, ConnectionClosedWhileThePumpSendsIsDeletedOnlyAfterTheJob) {
  Observed obs;
  std::atomic<bool> gate{false};
  obs.offload_gate = &gate;
  Harness h;
  ASSERT_TRUE(h.server().add_listener("127.0.0.1:0", {"imap", false, echo_factory(obs)}));
  std::uint16_t port = h.server().listener_port(0);
  std::size_t count_after_close = 99;
  int closed_before_release = -1;
  h.run([&] {
    int fd = connect_to(port);
    ASSERT_EQ(read_line(fd), "HELLO");
    ASSERT_TRUE(write_all(fd, "OFFLOAD 3000000\r\n"));
    EXPECT_EQ(read_line(fd), "BODY 3000000");  // the head went out before the job
    while (obs.offloads.load() == 0) std::this_thread::yield();
    linger lg{1, 0};  // close with a reset
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
    // The loop notices the reset while the pump is held inside the job.
    for (int i = 0; i < 1000000 && count_after_close != 0; ++i) {
      h.on_loop([&] { count_after_close = h.server().connection_count(); });
    }
    // Other connections work meanwhile (their fds are new ones).
    int other = connect_to(port);
    EXPECT_EQ(read_line(other), "HELLO");
    ASSERT_TRUE(write_all(other, "QUIT\r\n"));
    EXPECT_EQ(read_line(other), "BYE");
    EXPECT_TRUE(reads_eof(other));  // deleted before the loop turn that runs on_loop below
    ::close(other);
    h.on_loop([&] { closed_before_release = obs.closed.load(); });
    gate = true;
    int closed = 0;
    for (int i = 0; i < 1000000 && closed < 2; ++i) h.on_loop([&] { closed = obs.closed.load(); });
  });
  EXPECT_EQ(count_after_close, 0u);
  EXPECT_EQ(closed_before_release, 1) << "only the other connection was deleted";
  EXPECT_EQ(obs.closed, 2);
}

}  // namespace
}  // namespace mb::net::test
