// File: gateway/store/detail/side_task.hpp
//
// SideTask: runs a function on a short-lived thread of its own, from a pool thread, until
// join() (or destruction) waits for it. APPEND uses it to overlap the message file's fsync +
// rename with the uidlist record's fdatasync (maildir_mailbox.cpp). If no thread can be made
// (pthread_create failed: thread limit, memory), join() runs the function inline: correct,
// only not concurrent. No exceptions: pthread directly rather than std::thread.
#pragma once

#include <pthread.h>

#include <functional>
#include <utility>

namespace mb::store::detail {

class SideTask {
 public:
  explicit SideTask(std::function<void()> fn) : fn_(std::move(fn)) {
    started_ = ::pthread_create(&tid_, nullptr, &SideTask::entry, this) == 0;
  }
  ~SideTask() { join(); }
  SideTask(const SideTask&) = delete;
  SideTask& operator=(const SideTask&) = delete;
  void join() {
    if (started_) {
      ::pthread_join(tid_, nullptr);
      started_ = false;
      fn_ = nullptr;
    } else if (fn_) {
      auto f = std::move(fn_);
      fn_ = nullptr;
      f();
    }
  }

 private:
  static void* entry(void* self) {
    static_cast<SideTask*>(self)->fn_();
    return nullptr;
  }
  std::function<void()> fn_;
  pthread_t tid_{};
  bool started_ = false;
};

}  // namespace mb::store::detail
