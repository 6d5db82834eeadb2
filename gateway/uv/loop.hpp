// File: gateway/uv/loop.hpp
//
// mb::uv::Loop: owner of one heap uv_loop_t (CMake cm::uv_loop_ptr / uv_loop_deleter shape).
//
// Contract:
//   - init() happens in the constructor; ok() says whether uv_loop_init succeeded.
//   - The destructor first lets every pending close callback run (uv_run until nothing is
//     left), then uv_loop_close()s and frees the loop. Destroy every mb::uv::Handle first.
//     Handles nobody closed (a bug elsewhere) are closed here without freeing their
//     memory (leaked, reported by ASan) rather than hanging or crashing at exit.
//   - get() is the raw loop for libuv calls; run() wraps uv_run.
#pragma once

#include <uv.h>

#include <memory>

namespace mb::uv {

class Loop {
 public:
  Loop() : loop_(new uv_loop_t{}) {
    init_rc_ = uv_loop_init(loop_);
    if (init_rc_ != 0) {
      delete loop_;
      loop_ = nullptr;
    }
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop() { close(); }

  bool ok() const noexcept { return loop_ != nullptr; }
  int init_error() const noexcept { return init_rc_; }
  uv_loop_t* get() const noexcept { return loop_; }

  // Returns what uv_run returns (non-zero if there are still active handles).
  int run(uv_run_mode mode = UV_RUN_DEFAULT) noexcept { return loop_ ? uv_run(loop_, mode) : 0; }
  void stop() noexcept { if (loop_) uv_stop(loop_); }

  // Drains close callbacks, closes and frees the loop. Idempotent.
  void close() noexcept {
    if (loop_ == nullptr) return;
    // Let pending close callbacks (Handle destructors) free their memory.
    uv_run(loop_, UV_RUN_NOWAIT);
    uv_walk(loop_, &Loop::close_leftover, nullptr);
    uv_run(loop_, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop_);
    if (rc == 0) delete loop_;  // on UV_EBUSY leak rather than free memory in use
    loop_ = nullptr;
  }

 private:
  static void close_leftover(uv_handle_t* h, void* /*arg*/) {
    if (uv_is_closing(h) == 0) {
      h->data = nullptr;
      uv_close(h, nullptr);
    }
  }

  uv_loop_t* loop_ = nullptr;
  int init_rc_ = 0;
};

}  // namespace mb::uv
