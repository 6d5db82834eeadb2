// File: gateway/uv/fs_event.hpp
//
// mb::uv::FsEvent: watch a file or directory (inotify on Linux) through uv_fs_event_t. Used
// by the store to notice Maildir changes made by other programs (new/ and cur/).
//
// Contract:
//   - start(path, cb, flags) returns 0 or a libuv error code (e.g. UV_ENOENT).
//   - cb(filename, events) runs on the loop thread; `filename` is the entry inside a watched
//     directory (may be empty), valid only during the call; `events` is UV_RENAME|UV_CHANGE.
//     On a watch error libuv reports status < 0: the callback then gets an empty filename
//     and events == 0 (rescan everything).
//   - Events are coalesced and may be lost under load: treat them as hints to rescan.
//   - stop() ends the watch; destroying closes the handle. Not movable.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "gateway/uv/handle.hpp"

namespace mb::uv {

class FsEvent {
 public:
  using Callback = std::function<void(std::string_view filename, int events)>;

  explicit FsEvent(uv_loop_t* loop) {
    auto h = Handle<uv_fs_event_t>::init(loop, uv_fs_event_init);
    if (h) {
      h_ = std::move(*h);
      h_->data = this;
    } else {
      error_ = h.error();
    }
  }
  FsEvent(const FsEvent&) = delete;
  FsEvent& operator=(const FsEvent&) = delete;
  ~FsEvent() = default;

  bool ok() const noexcept { return static_cast<bool>(h_); }
  int error() const noexcept { return error_; }

  int start(const std::string& path, Callback cb, unsigned flags = 0) {
    if (!h_) return UV_EINVAL;
    cb_ = std::move(cb);
    return uv_fs_event_start(h_.get(), &FsEvent::on_event, path.c_str(), flags);
  }
  void stop() noexcept {
    if (h_) uv_fs_event_stop(h_.get());
  }
  void unref() const noexcept { h_.unref(); }
  void close() noexcept { h_.close(); }

 private:
  static void on_event(uv_fs_event_t* h, const char* filename, int events, int status) {
    auto* self = static_cast<FsEvent*>(h->data);
    if (self == nullptr || !self->cb_) return;
    if (status < 0) {
      self->cb_(std::string_view{}, 0);
      return;
    }
    self->cb_(filename != nullptr ? std::string_view(filename) : std::string_view{}, events);
  }

  Handle<uv_fs_event_t> h_;
  Callback cb_;
  int error_ = 0;
};

}  // namespace mb::uv
