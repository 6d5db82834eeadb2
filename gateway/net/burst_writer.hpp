// File: gateway/net/burst_writer.hpp
//
// BurstWriter: hands a batch of already-encoded outputs to their sockets with two threads
// instead of one. A new message in a mailbox watched by 1,000 IDLE sessions means 1,000
// send() calls in one loop turn; on loopback each costs 10-20 us of kernel time (TCP
// transmit plus the receiver's processing, run inline by the sender, plus a wake-up), so the
// last session heard of it ~15 ms after the first. Two threads halve that (issue #5: a new
// message reaches 1,000 idle sessions within 20 ms).
//
//   std::vector<BurstJob> jobs = ...;       // one per socket: fd, bytes
//   writer.run(jobs);                       // every job's `result` is set
//
// Contract:
//   - run(): for each job, one send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL); `result`
//     is the octets the kernel took (>= 0, fewer than len when its buffer was full) or
//     -errno (EAGAIN: none taken). Returns when every job is done. One job per socket: jobs
//     run concurrently and in no particular order.
//   - The calling thread takes part: it claims jobs one at a time from a shared counter, so
//     a helper that is slow to wake (its core busy) never makes run() wait for work the
//     helper has not started; run() waits only for jobs the helper has claimed.
//   - The helper thread starts at the first run() with at least kMinJobs jobs (smaller
//     batches are written by the caller alone), and is joined by the destructor. If it
//     cannot be started, the caller writes everything (correct, only not concurrent).
//   - Not reentrant: one run() at a time (the loop thread). No exceptions: pthreads.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <span>

namespace mb::net {

struct BurstJob {
  int fd = -1;
  const char* data = nullptr;
  std::size_t len = 0;
  ssize_t result = 0;  // octets taken, or -errno
};

class BurstWriter {
 public:
  // Below this many sockets the caller writes alone: waking the helper costs more.
  static constexpr std::size_t kMinJobs = 16;

  // `caller_helps` false (tests): run() leaves every job of a batch of kMinJobs or more
  // to the helper thread and only waits, so the concurrent path is certain to run.
  explicit BurstWriter(bool caller_helps = true);
  ~BurstWriter();
  BurstWriter(const BurstWriter&) = delete;
  BurstWriter& operator=(const BurstWriter&) = delete;

  void run(std::span<BurstJob> jobs);

  // Batches the helper thread took part in (tests: the concurrent path really ran).
  std::size_t helper_batches() const { return helper_batches_.load(std::memory_order_relaxed); }

 private:
  static void* helper_entry(void* self);
  void helper_main();
  void drain();  // claims and runs jobs until none is left

  pthread_mutex_t mutex_;
  pthread_cond_t cond_;
  pthread_t thread_{};
  bool caller_helps_;
  bool started_ = false;
  bool start_failed_ = false;
  // Guarded by mutex_:
  bool offered_ = false;  // a batch is waiting for the helper
  bool helping_ = false;  // the helper is working on the current batch
  bool stop_ = false;
  // The current batch: set before it is offered, stable until run() returns.
  BurstJob* jobs_ = nullptr;
  std::size_t count_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> helper_batches_{0};
};

}  // namespace mb::net
