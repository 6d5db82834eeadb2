// BurstWriter over real socket pairs, and Server's batch output to many connections at once.
#include "gateway/net/burst_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gateway/net/server.hpp"
#include "tests/unit/gateway/net/test_support.hpp"

namespace mb::net::test {
namespace {

std::string pattern(std::size_t n, std::size_t seed) {
  std::string s(n, ' ');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

struct Pairs {
  explicit Pairs(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) break;
      ours.push_back(sv[0]);
      theirs.push_back(sv[1]);
    }
  }
  ~Pairs() {
    for (int fd : ours) ::close(fd);
    for (int fd : theirs) ::close(fd);
  }
  std::vector<int> ours, theirs;
};

std::string drain(int fd) {
  std::string got;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return got;
    got.append(buf, static_cast<std::size_t>(n));
  }
}

void expect_batch_delivered(BurstWriter& w, std::size_t n) {
  Pairs p(n);
  ASSERT_EQ(p.ours.size(), n);
  std::vector<std::string> payload;
  std::vector<BurstJob> jobs;
  for (std::size_t i = 0; i < n; ++i) payload.push_back(pattern(100 + i * 13, i));
  for (std::size_t i = 0; i < n; ++i) jobs.push_back({p.ours[i], payload[i].data(), payload[i].size(), -1});
  w.run(jobs);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(jobs[i].result, static_cast<ssize_t>(payload[i].size())) << i;
    EXPECT_EQ(drain(p.theirs[i]), payload[i]) << i;
  }
}

TEST(BurstWriter, EveryJobWrittenByTheHelperThread) {
  BurstWriter w(/*caller_helps=*/false);
  expect_batch_delivered(w, 64);
  EXPECT_EQ(w.helper_batches(), 1u);
  expect_batch_delivered(w, 200);
  EXPECT_EQ(w.helper_batches(), 2u);
}

TEST(BurstWriter, CallerAndHelperTogetherAndSmallBatchesAlone) {
  BurstWriter w;
  for (int round = 0; round < 20; ++round) expect_batch_delivered(w, 100);
  std::size_t helped = w.helper_batches();
  expect_batch_delivered(w, BurstWriter::kMinJobs - 1);  // below the threshold: the caller alone
  EXPECT_EQ(w.helper_batches(), helped);
}

TEST(BurstWriter, ReportsPartialWritesAndErrorsPerJob) {
  BurstWriter w(/*caller_helps=*/false);
  Pairs p(BurstWriter::kMinJobs);
  int small = 4096;
  ::setsockopt(p.ours[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  std::string big = pattern(4 * 1024 * 1024, 1);  // far more than a socket buffer holds
  std::string line = "ok\r\n";
  ::shutdown(p.ours[1], SHUT_WR);  // writing is over: EPIPE, and no SIGPIPE (MSG_NOSIGNAL)
  std::vector<BurstJob> jobs;
  jobs.push_back({p.ours[0], big.data(), big.size(), 0});
  for (std::size_t i = 1; i < p.ours.size(); ++i) jobs.push_back({p.ours[i], line.data(), line.size(), 0});
  w.run(jobs);
  EXPECT_GT(jobs[0].result, 0);
  EXPECT_LT(jobs[0].result, static_cast<ssize_t>(big.size()));
  EXPECT_EQ(jobs[1].result, -EPIPE);
  for (std::size_t i = 2; i < jobs.size(); ++i) EXPECT_EQ(jobs[i].result, 4) << i;
  // The full socket, offered again at once: EAGAIN, nothing taken (a batch of one: the
  // caller writes it).
  std::vector<BurstJob> again{BurstJob{p.ours[0], big.data(), big.size(), 0}};
  w.run(again);
  EXPECT_EQ(again[0].result, -EAGAIN);
}

// A session factory that keeps every sink, so the test can make many connections produce
// output in the same loop turn (as a new message told to every IDLE session does).
struct SinkList {
  std::vector<proto::SessionSink*> sinks;
};
class QuietSession final : public proto::Session {
 public:
  QuietSession(proto::SessionSink& sink, SinkList& list) : sink_(sink), list_(list) {}
  void on_start() override {
    list_.sinks.push_back(&sink_);
    sink_.send("HELLO\r\n");
  }
  void on_data(std::string_view) override { sink_.send("OK\r\n"); }
  void on_writable() override {}
  void on_tls_ready() override {}
  void on_shutdown() override { sink_.close(); }
  void on_timeout() override {}
  void on_closed() override { std::erase(list_.sinks, &sink_); }

 private:
  proto::SessionSink& sink_;
  SinkList& list_;
};

// A loopback listener whose sessions are QuietSessions registered in `list`; its port, or 0.
std::uint16_t listen_quietly(Harness& h, SinkList& list) {
  const bool ok = static_cast<bool>(h.server().add_listener("127.0.0.1:0", {"imap", false, [&list](proto::SessionSink& s) -> proto::SessionPtr {
                                      return std::make_unique<QuietSession>(s, list);
                                    }}));
  return ok ? h.server().listener_port(0) : 0;
}

TEST(NetServer, OutputOfManyConnectionsInOneTurnGoesOutAsOneBatchWholeAndInOrder) {
  SinkList list;
  Harness h;
  std::uint16_t port = listen_quietly(h, list);
  ASSERT_NE(port, 0);
  constexpr int kConns = 80;  // above BurstWriter::kMinJobs
  std::uint64_t batches = 0;
  h.run([&] {
    std::vector<int> fds;
    for (int i = 0; i < kConns; ++i) {
      // Small receive buffers: the large outputs below do not fit, so part of each goes
      // out later through uv_write, after the batch.
      int fd = connect_to(port, 8 * 1024);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(read_line(fd), "HELLO");
      fds.push_back(fd);
    }
    std::vector<std::string> expect(kConns);
    for (int round = 0; round < 3; ++round) {
      h.on_loop([&] {
        ASSERT_EQ(list.sinks.size(), static_cast<std::size_t>(kConns));
        for (std::size_t i = 0; i < list.sinks.size(); ++i) {
          // Every third connection gets 600 KB (partial write), the others a short line,
          // then a second send in the same turn that must follow it.
          std::string body = i % 3 == 0 ? pattern(600 * 1024, i + round) : "* " + std::to_string(i) + " EXISTS\r\n";
          list.sinks[i]->send(body);
          list.sinks[i]->send("* tail " + std::to_string(round) + "\r\n");
        }
      });
      // Sinks were registered in accept order, which is connect order here (one at a time).
      for (int i = 0; i < kConns; ++i) {
        std::string body = i % 3 == 0 ? pattern(600 * 1024, static_cast<std::size_t>(i + round))
                                      : "* " + std::to_string(i) + " EXISTS\r\n";
        std::string want = body + "* tail " + std::to_string(round) + "\r\n";
        ASSERT_EQ(read_exact(fds[static_cast<std::size_t>(i)], want.size()), want) << "conn " << i << " round " << round;
      }
    }
    h.on_loop([&] { batches = h.server().burst_batches(); });
    for (int fd : fds) ::close(fd);
  });
  EXPECT_GE(batches, 3u);
  EXPECT_TRUE(h.shutdown_done());
}

// Replies to input stay with the loop thread: their clients are busy with the conversation,
// and on a machine they share, the helper would take their CPU. All 40 requests arrive while
// the loop is held, so the 40 replies are scheduled in one turn, above kMinJobs.
TEST(NetServer, RepliesToInputAreNotHandedToTheHelper) {
  SinkList list;
  Harness h;
  std::uint16_t port = listen_quietly(h, list);
  ASSERT_NE(port, 0);
  constexpr int kConns = 40;
  std::uint64_t before = 0, after = 0;
  h.run([&] {
    std::vector<int> fds;
    for (int i = 0; i < kConns; ++i) {
      int fd = connect_to(port);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(read_line(fd), "HELLO");
      fds.push_back(fd);
    }
    std::atomic<bool> held{false};
    std::thread hold([&] {
      h.on_loop([&] {
        before = h.server().burst_batches();
        held = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      });
    });
    while (!held.load()) std::this_thread::yield();
    for (int fd : fds) ASSERT_TRUE(write_all(fd, "NOOP\r\n"));
    hold.join();
    for (int fd : fds) ASSERT_EQ(read_line(fd), "OK");
    h.on_loop([&] { after = h.server().burst_batches(); });
    for (int fd : fds) ::close(fd);
  });
  EXPECT_EQ(after, before);
}

}  // namespace
}  // namespace mb::net::test
