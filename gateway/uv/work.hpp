// File: gateway/uv/work.hpp
//
// mb::uv::queue_work: run a blocking function on libuv's thread pool, then a completion on
// the loop thread (uv_queue_work).
//
// Contract:
//   - The request owns both functions (moved in) until `done` has returned.
//   - `work` runs on a pool thread (it must not touch the loop or loop-owned objects);
//     `done` runs on the loop thread, exactly once, never from inside queue_work() itself.
//   - If the request is cancelled before it started (uv_cancel, or loop teardown), `work` is
//     skipped but `done` still runs exactly once; use the `done(bool ran)` overload to tell.
//   - Returns 0, or a libuv error code; on error nothing runs and the functions are dropped.
//   - Objects that `done` refers to may be gone by then: capture a weak "alive" token.
#pragma once

#include <uv.h>

#include <functional>
#include <utility>

namespace mb::uv {

namespace detail {
struct WorkRequest {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void(bool)> done;

  static void on_work(uv_work_t* r) {
    auto* self = static_cast<WorkRequest*>(r->data);
    if (self->work) self->work();
  }
  static void on_after(uv_work_t* r, int status) {
    auto* self = static_cast<WorkRequest*>(r->data);
    bool ran = status != UV_ECANCELED;
    if (self->done) self->done(ran);
    delete self;
  }
};
}  // namespace detail

// `done(ran)`: ran is false when the request was cancelled before `work` started.
inline int queue_work(uv_loop_t* loop, std::function<void()> work, std::function<void(bool)> done) {
  auto* r = new detail::WorkRequest{};
  r->work = std::move(work);
  r->done = std::move(done);
  r->req.data = r;
  int rc = uv_queue_work(loop, &r->req, &detail::WorkRequest::on_work,
                         &detail::WorkRequest::on_after);
  if (rc != 0) delete r;
  return rc;
}

inline int queue_work(uv_loop_t* loop, std::function<void()> work, std::function<void()> done) {
  return queue_work(loop, std::move(work), std::function<void(bool)>(
                                               [d = std::move(done)](bool) mutable {
                                                 if (d) d();
                                               }));
}

}  // namespace mb::uv
