// File: gateway/store/detail/pool_work.hpp
//
// Private helper of gateway/store: run a blocking function on libuv's thread pool and a
// completion on the loop thread, via gateway/uv's queue_work.
//
// Contract: `work` runs on a pool thread (may be empty); `after` runs exactly once on the
// loop thread, never from inside post_work() itself (also when the request was cancelled at
// loop teardown: then `work` did not run). Everything captured is destroyed on the loop.
#pragma once

#include <functional>
#include <utility>

#include "gateway/uv/work.hpp"

namespace mb::store::detail {

inline void post_work(uv_loop_t* loop, std::function<void()> work, std::function<void()> after) {
  // queue_work only fails for a closing loop; store objects are gone by then.
  (void)mb::uv::queue_work(loop, std::move(work), std::move(after));
}

// Completes `after` on the loop in a later turn without doing any work on the pool.
inline void post(uv_loop_t* loop, std::function<void()> after) {
  post_work(loop, nullptr, std::move(after));
}

}  // namespace mb::store::detail
