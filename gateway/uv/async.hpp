// File: gateway/uv/async.hpp
//
// mb::uv::Async: a thread-safe wake-up of the loop (uv_async_t) with a callback.
//
// Contract:
//   - send() may be called from any thread, any number of times; the callback runs on the
//     loop thread at least once after it (libuv coalesces several sends into one call).
//   - The caller guarantees the Async outlives every thread that may still call send().
//   - Construct and destroy on the loop thread. Not movable: other threads hold its address.
#pragma once

#include <uv.h>

#include <functional>
#include <utility>

#include "gateway/uv/handle.hpp"

namespace mb::uv {

class Async {
 public:
  Async(uv_loop_t* loop, std::function<void()> cb) : cb_(std::move(cb)) {
    auto h = Handle<uv_async_t>::init(loop, uv_async_init, &Async::on_async);
    if (h) {
      h_ = std::move(*h);
      h_->data = this;
    } else {
      error_ = h.error();
    }
  }
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  ~Async() = default;

  bool ok() const noexcept { return static_cast<bool>(h_); }
  int error() const noexcept { return error_; }

  // Thread-safe. Returns 0 or a libuv error code.
  int send() noexcept { return h_ ? uv_async_send(h_.get()) : UV_EINVAL; }
  void unref() const noexcept { h_.unref(); }
  void close() noexcept { h_.close(); }

 private:
  static void on_async(uv_async_t* a) {
    auto* self = static_cast<Async*>(a->data);
    if (self != nullptr && self->cb_) self->cb_();
  }

  Handle<uv_async_t> h_;
  std::function<void()> cb_;
  int error_ = 0;
};

}  // namespace mb::uv
