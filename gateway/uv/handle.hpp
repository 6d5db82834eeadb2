// File: gateway/uv/handle.hpp
//
// mb::uv::Handle<T>: the single owner of one heap-allocated, initialised libuv handle
// (uv_tcp_t, uv_timer_t, uv_async_t, uv_signal_t, uv_fs_event_t, ...), after CMake's
// cm::uv_handle_ptr.
//
// Contract:
//   - Move-only. Exactly one Handle owns a given uv_T_t.
//   - The uv_T_t lives on the heap apart from its owner, because libuv may still touch it
//     after the owner is gone: close() (and the destructor) set handle->data = nullptr, call
//     uv_close(), and the memory is freed only in the close callback, as the libuv docs
//     require. Callbacks must therefore check `data` before using it.
//   - close() is idempotent; after it, get() returns nullptr.
//   - All calls on the loop thread. Destroy every Handle before the Loop that owns it is
//     closed (mb::uv::Loop drains close callbacks in its destructor).
//
//   auto tcp = mb::uv::Handle<uv_tcp_t>::init(loop, uv_tcp_init);   // Result<Handle, int>
//   if (!tcp) return tcp.error();            // a negative libuv error code
//   tcp->get()->data = this;
#pragma once

#include <uv.h>

#include <utility>

#include "protocols/common/result.hpp"

namespace mb::uv {

template <class T>
class Handle {
 public:
  Handle() = default;

  // Takes ownership of an already initialised handle (uv_T_init returned 0).
  explicit Handle(T* initialised) noexcept : h_(initialised) {}

  // Allocates a T, runs `init_fn(loop, t, args...)` (uv_tcp_init, uv_async_init, ...).
  // On failure frees the memory and returns the libuv error code.
  template <class InitFn, class... Args>
  static Result<Handle, int> init(uv_loop_t* loop, InitFn init_fn, Args&&... args) {
    T* raw = new T{};
    int rc = init_fn(loop, raw, std::forward<Args>(args)...);
    if (rc != 0) {
      delete raw;  // never registered with the loop: no uv_close needed
      return mb::unexpected(rc);
    }
    raw->data = nullptr;
    return Handle(raw);
  }

  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  ~Handle() { close(); }

  T* get() const noexcept { return h_; }
  T* operator->() const noexcept { return h_; }
  uv_handle_t* handle() const noexcept { return reinterpret_cast<uv_handle_t*>(h_); }
  uv_stream_t* stream() const noexcept { return reinterpret_cast<uv_stream_t*>(h_); }
  explicit operator bool() const noexcept { return h_ != nullptr; }

  // Keeps / stops keeping the loop alive for this handle.
  void ref() const noexcept { if (h_) uv_ref(handle()); }
  void unref() const noexcept { if (h_) uv_unref(handle()); }

  // Idempotent. Callbacks already queued for this handle see data == nullptr.
  void close() noexcept {
    if (h_ == nullptr) return;
    T* h = std::exchange(h_, nullptr);
    h->data = nullptr;
    uv_handle_t* base = reinterpret_cast<uv_handle_t*>(h);
    if (uv_is_closing(base) == 0) {
      uv_close(base, &Handle::deleting_close_cb);
    }
    // If something else already started closing it, that closer owns the memory.
  }

  // Gives up ownership without closing (rarely needed; caller must uv_close it).
  T* release() noexcept { return std::exchange(h_, nullptr); }

 private:
  static void deleting_close_cb(uv_handle_t* base) { delete reinterpret_cast<T*>(base); }

  T* h_ = nullptr;
};

}  // namespace mb::uv
