// File: gateway/uv/timer.hpp
//
// mb::uv::Timer: a uv_timer_t with a std::function callback.
//
// Contract:
//   - start(ms, repeat_ms, cb): (re)arms; the callback runs on the loop after `ms`, then every
//     `repeat_ms` if non-zero. Restarting replaces the callback.
//   - stop(): disarms; the callback does not run afterwards. Safe from inside the callback.
//   - Destroying the Timer (also from inside its own callback is NOT allowed: the callback
//     object would be destroyed while running; stop() instead) closes the handle.
//   - Movable: the handle's data is re-pointed at the new owner.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <utility>

#include "gateway/uv/handle.hpp"

namespace mb::uv {

class Timer {
 public:
  Timer() = default;
  explicit Timer(uv_loop_t* loop) {
    auto h = Handle<uv_timer_t>::init(loop, uv_timer_init);  // cannot fail on unix
    if (h) h_ = std::move(*h);
  }
  Timer(Timer&& o) noexcept : h_(std::move(o.h_)), cb_(std::move(o.cb_)) { rebind(); }
  Timer& operator=(Timer&& o) noexcept {
    if (this != &o) {
      h_ = std::move(o.h_);
      cb_ = std::move(o.cb_);
      rebind();
    }
    return *this;
  }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() = default;

  // Returns 0 or a libuv error code.
  int start(std::uint64_t timeout_ms, std::uint64_t repeat_ms, std::function<void()> cb) {
    if (!h_) return UV_EINVAL;
    cb_ = std::move(cb);
    h_->data = this;
    return uv_timer_start(h_.get(), &Timer::on_timer, timeout_ms, repeat_ms);
  }
  void stop() noexcept {
    if (h_) uv_timer_stop(h_.get());
  }
  bool active() const noexcept { return h_ && uv_is_active(h_.handle()) != 0; }
  void unref() const noexcept { h_.unref(); }
  void close() noexcept { h_.close(); }
  uv_timer_t* get() const noexcept { return h_.get(); }

 private:
  void rebind() noexcept {
    if (h_) h_->data = this;
  }
  static void on_timer(uv_timer_t* t) {
    auto* self = static_cast<Timer*>(t->data);
    if (self == nullptr || !self->cb_) return;
    self->cb_();
  }

  Handle<uv_timer_t> h_;
  std::function<void()> cb_;
};

}  // namespace mb::uv
