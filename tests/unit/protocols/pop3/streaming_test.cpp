// File: tests/unit/protocols/pop3/streaming_test.cpp
//
// RETR of a large message: read in kReadChunk pieces, dot-stuffed across piece boundaries,
// production stops while the connection's queue is above kOutputHighWater and resumes on
// on_writable(), so the session never holds more than about one chunk.
#include <gtest/gtest.h>

#include "protocols/pop3/body_writer.hpp"
#include "protocols/pop3/session_impl.hpp"
#include "session_harness.hpp"

namespace mb::pop3::test {
namespace {

std::string big_message(std::size_t size) {
  std::string m = "Subject: big\r\n\r\n";
  std::size_t i = 0;
  while (m.size() < size) {
    // Lines of varying length, some starting with '.', so that line starts fall on every
    // offset relative to the 64 KB read boundaries.
    m += (i % 5 == 0 ? "." : "");
    m += std::string(1 + (i * 37) % 150, static_cast<char>('a' + i % 26));
    m += "\r\n";
    ++i;
  }
  return m;
}

std::string expected_retr(const std::string& m) {
  BodyWriter w;
  std::string out = "+OK " + std::to_string(m.size()) + " octets\r\n";
  w.feed(m, out);
  w.finish(out);
  return out;
}

TEST(Pop3Streaming, LargeRetrWithBackPressure) {
  Pop3Harness h;
  const std::string msg = big_message(3 * 1024 * 1024 + 17);
  h.inbox()->add(msg);
  h.start();
  h.login();
  h.auto_drain = false;  // the peer reads only when we say so
  h.session->on_data("RETR 1\r\nNOOP\r\n");
  std::string received;
  std::size_t max_queued = 0;
  int writable_rounds = 0;
  for (int guard = 0; guard < 100000; ++guard) {
    while (h.q.run_one()) {
    }
    max_queued = std::max(max_queued, h.sink.queued);
    received += h.sink.take();
    if (received.ends_with("+OK\r\n")) break;  // NOOP answered after the body
    ASSERT_GT(h.sink.queued, proto::kOutputHighWater) << "stalled below the high-water mark";
    h.sink.queued = 0;  // the peer reads everything queued
    h.session->on_writable();
    ++writable_rounds;
  }
  EXPECT_EQ(received, expected_retr(msg) + "+OK\r\n");
  EXPECT_GT(writable_rounds, 5);
  // Never more than one read chunk (stuffed) beyond the high-water mark.
  EXPECT_LE(max_queued, proto::kOutputHighWater + 2 * kReadChunk);
  EXPECT_GE(h.inbox()->reads, static_cast<int>(msg.size() / kReadChunk));
}

TEST(Pop3Streaming, SizesOnChunkBoundaries) {
  for (std::size_t size : {kReadChunk - 1, kReadChunk, kReadChunk + 1, 2 * kReadChunk}) {
    Pop3Harness h;
    std::string msg = big_message(size);
    msg.resize(size);
    h.inbox()->add(msg);
    h.start();
    h.login();
    EXPECT_EQ(h.send("RETR 1\r\n"), expected_retr(msg)) << size;
    EXPECT_EQ(h.send("LIST 1\r\n"), "+OK 1 " + std::to_string(size) + "\r\n");
  }
}

TEST(Pop3Streaming, TopOfLargeMessageReadsOnlyWhatItNeeds) {
  Pop3Harness h;
  h.inbox()->add(big_message(1024 * 1024));
  h.start();
  h.login();
  const std::string out = h.send("TOP 1 3\r\n");
  EXPECT_TRUE(out.starts_with("+OK\r\nSubject: big\r\n\r\n"));
  EXPECT_TRUE(out.ends_with("\r\n.\r\n"));
  EXPECT_EQ(h.inbox()->reads, 1);
}

TEST(Pop3Streaming, PipelinedOutputWaitsForThePeer) {
  Pop3Harness h;
  for (int i = 0; i < 2000; ++i) h.inbox()->add("Subject: x\r\n\r\nx\r\n");
  h.start();
  h.login();
  h.auto_drain = false;
  std::string commands;
  for (int i = 0; i < 40; ++i) commands += "UIDL\r\n";  // about 44 KB of answer each
  h.session->on_data(commands);
  while (h.q.run_one()) {
  }
  auto answered = [&] {
    std::size_t n = 0;
    for (std::size_t p = h.sink.output.find("+OK\r\n"); p != std::string::npos;
         p = h.sink.output.find("+OK\r\n", p + 1))
      ++n;
    return n;
  };
  EXPECT_LT(answered(), 40u);
  EXPECT_TRUE(h.sink.paused);
  EXPECT_LE(h.sink.queued, proto::kOutputHighWater + kReadChunk);
  for (int round = 0; round < 100 && answered() < 40; ++round) {
    h.sink.queued = 0;
    h.session->on_writable();
    while (h.q.run_one()) {
    }
  }
  EXPECT_EQ(answered(), 40u);
  EXPECT_FALSE(h.sink.paused);
}

TEST(Pop3Streaming, TimeoutDuringRetrClosesWithoutAStatusLine) {
  Pop3Harness h;
  h.inbox()->add(big_message(2 * 1024 * 1024));
  h.start();
  h.login();
  h.auto_drain = false;  // the peer never reads
  h.session->on_data("RETR 1\r\n");
  while (h.q.run_one()) {
  }
  EXPECT_GT(h.sink.queued, proto::kOutputHighWater);
  h.sink.take();
  h.session->on_timeout();
  EXPECT_TRUE(h.sink.closed);
  EXPECT_EQ(h.sink.take(), "");
  h.session->on_closed();
  while (h.q.run_one()) {
  }
}

}  // namespace
}  // namespace mb::pop3::test
