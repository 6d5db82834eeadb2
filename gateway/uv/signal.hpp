// File: gateway/uv/signal.hpp
//
// mb::uv::Signal: a POSIX signal delivered on the loop (uv_signal_t), e.g. SIGHUP (reload)
// and SIGTERM/SIGINT (graceful shutdown).
//
// Contract:
//   - start(signum, cb) returns 0 or a libuv error code; cb(signum) runs on the loop thread.
//   - stop() restores default handling. Destroying closes the handle.
//   - A started Signal keeps the loop alive; call unref() for a watcher that should not.
//   - Not movable (the handle points at this object).
#pragma once

#include <uv.h>

#include <functional>
#include <utility>

#include "gateway/uv/handle.hpp"

namespace mb::uv {

class Signal {
 public:
  explicit Signal(uv_loop_t* loop) {
    auto h = Handle<uv_signal_t>::init(loop, uv_signal_init);
    if (h) {
      h_ = std::move(*h);
      h_->data = this;
    } else {
      error_ = h.error();
    }
  }
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;
  ~Signal() = default;

  bool ok() const noexcept { return static_cast<bool>(h_); }
  int error() const noexcept { return error_; }

  int start(int signum, std::function<void(int)> cb) {
    if (!h_) return UV_EINVAL;
    cb_ = std::move(cb);
    return uv_signal_start(h_.get(), &Signal::on_signal, signum);
  }
  void stop() noexcept {
    if (h_) uv_signal_stop(h_.get());
  }
  void unref() const noexcept { h_.unref(); }
  void close() noexcept { h_.close(); }

 private:
  static void on_signal(uv_signal_t* s, int signum) {
    auto* self = static_cast<Signal*>(s->data);
    if (self != nullptr && self->cb_) self->cb_(signum);
  }

  Handle<uv_signal_t> h_;
  std::function<void(int)> cb_;
  int error_ = 0;
};

}  // namespace mb::uv
