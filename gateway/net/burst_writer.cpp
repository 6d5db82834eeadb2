// File: gateway/net/burst_writer.cpp
//
// BurstWriter (burst_writer.hpp): the caller and one helper thread share a batch through
// an atomic job counter; a mutex and condition variable only hand the batch over and wait
// for the helper's last job.
#include "gateway/net/burst_writer.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace mb::net {

namespace {

void write_one(BurstJob& job) {
  ssize_t n;
  do {
    n = ::send(job.fd, job.data, job.len, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  job.result = n >= 0 ? n : -errno;
}

}  // namespace

BurstWriter::BurstWriter(bool caller_helps) : caller_helps_(caller_helps) {
  pthread_mutex_init(&mutex_, nullptr);
  pthread_cond_init(&cond_, nullptr);
}

BurstWriter::~BurstWriter() {
  if (started_) {
    pthread_mutex_lock(&mutex_);
    stop_ = true;
    pthread_cond_broadcast(&cond_);
    pthread_mutex_unlock(&mutex_);
    pthread_join(thread_, nullptr);
  }
  pthread_cond_destroy(&cond_);
  pthread_mutex_destroy(&mutex_);
}

void* BurstWriter::helper_entry(void* self) {
  static_cast<BurstWriter*>(self)->helper_main();
  return nullptr;
}

void BurstWriter::drain() {
  for (;;) {
    std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= count_) return;
    write_one(jobs_[i]);
  }
}

void BurstWriter::helper_main() {
  pthread_mutex_lock(&mutex_);
  for (;;) {
    while (!offered_ && !stop_) pthread_cond_wait(&cond_, &mutex_);
    if (stop_) break;
    offered_ = false;
    helping_ = true;
    pthread_mutex_unlock(&mutex_);
    helper_batches_.fetch_add(1, std::memory_order_relaxed);
    drain();
    pthread_mutex_lock(&mutex_);
    helping_ = false;
    pthread_cond_broadcast(&cond_);
  }
  pthread_mutex_unlock(&mutex_);
}

void BurstWriter::run(std::span<BurstJob> jobs) {
  if (jobs.empty()) return;
  jobs_ = jobs.data();
  count_ = jobs.size();
  next_.store(0, std::memory_order_relaxed);
  bool offer = jobs.size() >= kMinJobs;
  if (offer && !started_ && !start_failed_) {
    started_ = pthread_create(&thread_, nullptr, &BurstWriter::helper_entry, this) == 0;
    start_failed_ = !started_;
  }
  offer = offer && started_;
  if (offer) {
    // The mutex also publishes jobs_, count_ and next_ to the helper.
    pthread_mutex_lock(&mutex_);
    offered_ = true;
    pthread_cond_signal(&cond_);
    pthread_mutex_unlock(&mutex_);
  }
  if (caller_helps_ || !offer) drain();
  if (offer) {
    pthread_mutex_lock(&mutex_);
    if (caller_helps_) {
      offered_ = false;  // not taken yet: the helper must not start on a finished batch
    } else {
      while (offered_) pthread_cond_wait(&cond_, &mutex_);
    }
    while (helping_) pthread_cond_wait(&cond_, &mutex_);
    pthread_mutex_unlock(&mutex_);
  }
  jobs_ = nullptr;
  count_ = 0;
}

}  // namespace mb::net
