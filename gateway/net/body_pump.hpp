// File: gateway/net/body_pump.hpp
//
// BodyPump: one thread that reads large message bodies (proto::BodySource: page cache ->
// LF-to-CRLF conversion) and sends them to their sockets itself, so those bytes are produced
// and copied into the kernel on one core while the loop thread goes on with everything
// else. With ten clients fetching whole mailboxes the loop thread alone was at 99.9 % of a
// core, a third of the machine idle (issue #5: FETCH BODY[] at 2x Dovecot); handing only the
// send() of loop-made buffers to another core lost 20-30 % (the bytes had left the cache by
// then), so the pump makes the bytes it sends.
//
//   pump.submit(std::move(job));   // loop: fd, source, length, owner
//   ... the loop's poll handle runs `on_done(std::move(job))` with consumed / leftover / error
//
// Contract:
//   - submit(): loop thread. The job runs on the pump thread (started at the first submit;
//     false when it cannot start: the job is left with the caller). Jobs run one at a time, in order.
//   - A job sends up to `length` wire octets of its source with send(MSG_DONTWAIT |
//     MSG_NOSIGNAL) in kStep steps, and stops early at EAGAIN (the converted bytes the socket
//     did not take come back in `leftover`), at a send error (`error` = errno), or when the
//     source stops (would_block / failed: `source_stopped`) or ends (`source_ended`). `consumed` counts the source's
//     wire octets that were sent or are in `leftover`.
//   - The socket must stay open until the job comes back: the owner neither writes to it
//     nor closes it meanwhile (Connection's "delegated" state).
//   - Completion: the pump appends the job to a done list and, if that list was empty, wakes
//     the loop through an eventfd watched by a uv_poll handle (uv_async_send spins with
//     sched_yield while another thread is mid-send, which a preempted pump made costly).
//     `on_done` runs on the loop for every finished job, in order.
//   - stop(): loop thread; the current job finishes (it never blocks: nonblocking sends and
//     page-cache reads), the thread is joined, and every job not yet handed back (finished
//     or never started, the latter with nothing consumed) goes to `on_done` before stop()
//     returns. The destructor calls stop().
#pragma once

#include <pthread.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/uv/handle.hpp"
#include "protocols/common/body_source.hpp"

namespace mb::net {

struct PumpJob {
  // In.
  int fd = -1;
  std::unique_ptr<proto::BodySource> source;
  std::uint64_t length = 0;
  void* owner = nullptr;  // for on_done (the Connection)
  // Out.
  std::uint64_t consumed = 0;  // wire octets of the source sent or in `leftover`
  std::uint64_t sent = 0;      // bytes the socket took
  std::string leftover;        // converted bytes the socket did not take (EAGAIN)
  int last_byte = -1;          // the last byte made (sent or in leftover); -1: none
  int error = 0;               // errno of a failed send (EPIPE, ECONNRESET, ...)
  bool source_stopped = false;
  bool source_ended = false;   // the source gave fewer octets than asked: its end
};

class BodyPump {
 public:
  // Octets read and sent per step: the converted block is sent while still in the cache.
  static constexpr std::size_t kStep = 256 * 1024;

  using DoneFn = std::function<void(std::unique_ptr<PumpJob>)>;
  BodyPump(uv_loop_t* loop, DoneFn on_done);
  ~BodyPump();
  BodyPump(const BodyPump&) = delete;
  BodyPump& operator=(const BodyPump&) = delete;

  bool submit(std::unique_ptr<PumpJob>& job);
  void stop();

  // Jobs run so far (tests and metrics).
  std::uint64_t jobs_done() const { return jobs_done_; }

 private:
  static void* thread_entry(void* self);
  void thread_main();
  void run_job(PumpJob& job);
  static void on_poll(uv_poll_t* handle, int status, int events);
  void deliver();
  bool start();

  uv_loop_t* loop_;
  DoneFn on_done_;
  int event_fd_ = -1;
  uv::Handle<uv_poll_t> poll_;
  pthread_mutex_t mutex_;
  pthread_cond_t cond_;
  pthread_t thread_{};
  bool started_ = false;
  bool start_failed_ = false;
  // Guarded by mutex_:
  bool stop_ = false;
  std::deque<std::unique_ptr<PumpJob>> queue_;
  std::vector<std::unique_ptr<PumpJob>> done_;
  // Pump thread only.
  std::unique_ptr<char[]> buffer_;
  std::size_t buffer_size_ = 0;
  // Loop thread only.
  std::uint64_t jobs_done_ = 0;
  std::size_t outstanding_ = 0;  // submitted, not yet handed back
};

}  // namespace mb::net
