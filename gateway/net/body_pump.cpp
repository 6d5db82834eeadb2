// File: gateway/net/body_pump.cpp
//
// BodyPump (body_pump.hpp): a job queue under a mutex and condition variable to the pump
// thread; finished jobs come back through a done list and an eventfd the loop polls.
#include "gateway/net/body_pump.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "gateway/log/log.hpp"

namespace mb::net {

BodyPump::BodyPump(uv_loop_t* loop, DoneFn on_done) : loop_(loop), on_done_(std::move(on_done)) {
  pthread_mutex_init(&mutex_, nullptr);
  pthread_cond_init(&cond_, nullptr);
}

BodyPump::~BodyPump() {
  stop();
  pthread_cond_destroy(&cond_);
  pthread_mutex_destroy(&mutex_);
}

bool BodyPump::start() {
  if (started_) return true;
  if (start_failed_) return false;
  start_failed_ = true;  // until everything below worked
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    log::warn("body pump: eventfd: {}", std::strerror(errno));
    return false;
  }
  auto poll = uv::Handle<uv_poll_t>::init(loop_, uv_poll_init, event_fd_);
  if (!poll) {
    log::warn("body pump: uv_poll_init: {}", uv_strerror(poll.error()));
    ::close(event_fd_);
    event_fd_ = -1;
    return false;
  }
  poll_ = std::move(*poll);
  poll_->data = this;
  if (uv_poll_start(poll_.get(), UV_READABLE, &BodyPump::on_poll) != 0 ||
      pthread_create(&thread_, nullptr, &BodyPump::thread_entry, this) != 0) {
    log::warn("body pump: cannot start its thread; bodies are sent by the loop");
    poll_.close();
    ::close(event_fd_);
    event_fd_ = -1;
    return false;
  }
  // The handle keeps the loop alive only while jobs are out (submit / deliver).
  uv_unref(poll_.handle());
  started_ = true;
  start_failed_ = false;
  return true;
}

bool BodyPump::submit(std::unique_ptr<PumpJob>& job) {
  if (!start()) return false;
  if (outstanding_++ == 0) uv_ref(poll_.handle());
  pthread_mutex_lock(&mutex_);
  bool was_empty = queue_.empty();
  queue_.push_back(std::move(job));
  if (was_empty) pthread_cond_signal(&cond_);
  pthread_mutex_unlock(&mutex_);
  return true;
}

void BodyPump::stop() {
  if (!started_) return;
  pthread_mutex_lock(&mutex_);
  stop_ = true;
  pthread_cond_signal(&cond_);
  pthread_mutex_unlock(&mutex_);
  pthread_join(thread_, nullptr);
  started_ = false;
  start_failed_ = true;  // never again: the owner is going away
  poll_.close();
  ::close(event_fd_);
  event_fd_ = -1;
  // Jobs never started come back with nothing consumed, after the finished ones.
  for (auto& job : queue_) done_.push_back(std::move(job));
  queue_.clear();
  deliver();
}

void* BodyPump::thread_entry(void* self) {
  static_cast<BodyPump*>(self)->thread_main();
  return nullptr;
}

void BodyPump::thread_main() {
  pthread_mutex_lock(&mutex_);
  for (;;) {
    while (queue_.empty() && !stop_) pthread_cond_wait(&cond_, &mutex_);
    if (stop_) break;
    std::unique_ptr<PumpJob> job = std::move(queue_.front());
    queue_.pop_front();
    pthread_mutex_unlock(&mutex_);
    run_job(*job);
    pthread_mutex_lock(&mutex_);
    bool wake = done_.empty();
    done_.push_back(std::move(job));
    if (wake) {
      std::uint64_t one = 1;
      (void)!::write(event_fd_, &one, sizeof one);
    }
  }
  pthread_mutex_unlock(&mutex_);
}

void BodyPump::run_job(PumpJob& job) {
  proto::BodySource& source = *job.source;
  const std::size_t room = source.room_for(kStep);
  if (buffer_size_ < room) {
    buffer_ = std::make_unique<char[]>(room);
    buffer_size_ = room;
  }
  char* buf = buffer_.get();
  while (job.consumed < job.length) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kStep, job.length - job.consumed));
    proto::BodySource::Step step = source.read(buf, want);
    job.consumed += step.wire;
    if (step.written > 0) job.last_byte = static_cast<unsigned char>(buf[step.written - 1]);
    std::size_t off = 0;
    while (off < step.written) {
      ssize_t n = ::send(job.fd, buf + off, step.written - off, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
        job.sent += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        job.error = errno;
        return;
      }
      // The socket is full: the rest of this step goes back to the loop's queue.
      job.leftover.assign(buf + off, step.written - off);
      if (step.status != proto::BodySource::Status::ok) job.source_stopped = true;
      return;
    }
    if (step.status != proto::BodySource::Status::ok) {
      job.source_stopped = true;
      return;
    }
    if (step.wire < want) {  // the end of the message
      job.source_ended = true;
      return;
    }
  }
}

void BodyPump::on_poll(uv_poll_t* handle, int status, int /*events*/) {
  auto* self = static_cast<BodyPump*>(handle->data);
  if (self == nullptr || status < 0) return;
  std::uint64_t count = 0;
  (void)!::read(self->event_fd_, &count, sizeof count);
  self->deliver();
}

void BodyPump::deliver() {
  std::vector<std::unique_ptr<PumpJob>> done;
  pthread_mutex_lock(&mutex_);
  done.swap(done_);
  pthread_mutex_unlock(&mutex_);
  outstanding_ -= done.size();
  if (outstanding_ == 0 && poll_) uv_unref(poll_.handle());
  for (auto& job : done) {
    ++jobs_done_;
    on_done_(std::move(job));
  }
}

}  // namespace mb::net
