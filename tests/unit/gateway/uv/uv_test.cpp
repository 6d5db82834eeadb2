// Tests for the header-only libuv wrappers, each on a real loop.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "gateway/uv/async.hpp"
#include "gateway/uv/fs_event.hpp"
#include "gateway/uv/handle.hpp"
#include "gateway/uv/loop.hpp"
#include "gateway/uv/signal.hpp"
#include "gateway/uv/timer.hpp"
#include "gateway/uv/work.hpp"

namespace {

int count_handles(uv_loop_t* loop) {
  int n = 0;
  uv_walk(loop, [](uv_handle_t*, void* arg) { ++*static_cast<int*>(arg); }, &n);
  return n;
}

TEST(UvHandle, InitCloseFreesInCloseCallback) {
  mb::uv::Loop loop;
  ASSERT_TRUE(loop.ok());
  {
    auto h = mb::uv::Handle<uv_tcp_t>::init(loop.get(), uv_tcp_init);
    ASSERT_TRUE(h.has_value());
    EXPECT_NE(h->get(), nullptr);
    EXPECT_EQ(count_handles(loop.get()), 1);
  }
  // The destructor started uv_close; the memory goes when the close callback runs.
  EXPECT_EQ(count_handles(loop.get()), 1);
  loop.run();
  EXPECT_EQ(count_handles(loop.get()), 0);
}

TEST(UvHandle, MoveTransfersOwnershipAndCloseIsIdempotent) {
  mb::uv::Loop loop;
  auto h = mb::uv::Handle<uv_timer_t>::init(loop.get(), uv_timer_init);
  ASSERT_TRUE(h.has_value());
  uv_timer_t* raw = h->get();
  mb::uv::Handle<uv_timer_t> other = std::move(*h);
  EXPECT_EQ(h->get(), nullptr);
  EXPECT_EQ(other.get(), raw);
  other.close();
  other.close();
  EXPECT_EQ(other.get(), nullptr);
  loop.run();
  EXPECT_EQ(count_handles(loop.get()), 0);
}

TEST(UvHandle, InitFailureReturnsErrorAndAllocatesNothing) {
  mb::uv::Loop loop;
  // uv_tcp_init_ex rejects unknown flags with UV_EINVAL.
  auto h = mb::uv::Handle<uv_tcp_t>::init(loop.get(), uv_tcp_init_ex, 0xFF00u);
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error(), UV_EINVAL);
  EXPECT_EQ(count_handles(loop.get()), 0);
}

TEST(UvTimer, FiresOnceAndRepeats) {
  mb::uv::Loop loop;
  mb::uv::Timer once(loop.get());
  mb::uv::Timer rep(loop.get());
  int once_calls = 0;
  int rep_calls = 0;
  ASSERT_EQ(once.start(1, 0, [&] { ++once_calls; }), 0);
  ASSERT_EQ(rep.start(1, 1, [&] {
    if (++rep_calls == 3) rep.stop();
  }), 0);
  loop.run();
  EXPECT_EQ(once_calls, 1);
  EXPECT_EQ(rep_calls, 3);
  EXPECT_FALSE(rep.active());
}

TEST(UvTimer, StoppedTimerNeverFires) {
  mb::uv::Loop loop;
  mb::uv::Timer t(loop.get());
  bool fired = false;
  t.start(1, 0, [&] { fired = true; });
  t.stop();
  loop.run();
  EXPECT_FALSE(fired);
}

TEST(UvTimer, MovedTimerCallsThroughNewOwner) {
  mb::uv::Loop loop;
  int calls = 0;
  std::vector<mb::uv::Timer> timers;
  {
    mb::uv::Timer t(loop.get());
    t.start(1, 0, [&] { ++calls; });
    timers.push_back(std::move(t));
  }
  for (int i = 0; i < 8; ++i) timers.emplace_back(loop.get());  // forces reallocation
  loop.run();
  EXPECT_EQ(calls, 1);
}

TEST(UvTimer, DestroyedTimerDoesNotFire) {
  mb::uv::Loop loop;
  bool fired = false;
  {
    mb::uv::Timer t(loop.get());
    t.start(1, 0, [&] { fired = true; });
  }
  loop.run();
  EXPECT_FALSE(fired);
}

TEST(UvAsync, WakesLoopFromAnotherThread) {
  mb::uv::Loop loop;
  int calls = 0;
  std::thread::id cb_thread;
  mb::uv::Async* async_ptr = nullptr;
  mb::uv::Async async(loop.get(), [&] {
    ++calls;
    cb_thread = std::this_thread::get_id();
    async_ptr->close();  // lets run() return
  });
  async_ptr = &async;
  ASSERT_TRUE(async.ok());
  std::thread sender([&] { EXPECT_EQ(async.send(), 0); });
  loop.run();
  sender.join();
  EXPECT_GE(calls, 1);
  EXPECT_EQ(cb_thread, std::this_thread::get_id());
}

TEST(UvSignal, DeliversSignalOnLoop) {
  mb::uv::Loop loop;
  mb::uv::Signal sig(loop.get());
  ASSERT_TRUE(sig.ok());
  int got = 0;
  ASSERT_EQ(sig.start(SIGUSR1, [&](int s) {
    got = s;
    sig.stop();
  }), 0);
  ASSERT_EQ(raise(SIGUSR1), 0);
  loop.run();
  EXPECT_EQ(got, SIGUSR1);
}

TEST(UvFsEvent, ReportsFileCreatedInDirectory) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mb_uv_fsevent_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  mb::uv::Loop loop;
  mb::uv::FsEvent watch(loop.get());
  mb::uv::Timer poke(loop.get());
  std::vector<std::string> names;
  ASSERT_EQ(watch.start(dir.string(), [&](std::string_view name, int events) {
    EXPECT_NE(events & (UV_RENAME | UV_CHANGE), 0);
    names.emplace_back(name);
    watch.stop();
    poke.stop();
  }), 0);
  // Create the file from the loop so the watch is certainly armed.
  poke.start(1, 0, [&] { std::FILE* f = std::fopen((dir / "msg1").c_str(), "w"); std::fclose(f); });
  loop.run();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "msg1");
  fs::remove_all(dir);
}

TEST(UvFsEvent, MissingPathIsAnError) {
  mb::uv::Loop loop;
  mb::uv::FsEvent watch(loop.get());
  EXPECT_EQ(watch.start("/nonexistent/mb/path", [](std::string_view, int) {}), UV_ENOENT);
}

TEST(UvWork, RunsWorkOffLoopThenDoneOnLoop) {
  mb::uv::Loop loop;
  std::thread::id work_thread;
  std::thread::id done_thread;
  int value = 0;
  bool done_called = false;
  ASSERT_EQ(mb::uv::queue_work(
                loop.get(),
                [&] {
                  work_thread = std::this_thread::get_id();
                  value = 42;
                },
                [&] {
                  done_thread = std::this_thread::get_id();
                  done_called = true;
                }),
            0);
  EXPECT_FALSE(done_called);  // never synchronous
  loop.run();
  EXPECT_TRUE(done_called);
  EXPECT_EQ(value, 42);
  EXPECT_NE(work_thread, std::this_thread::get_id());
  EXPECT_EQ(done_thread, std::this_thread::get_id());
}

TEST(UvWork, DoneRunsExactlyOnceWhenLoopIsClosedWithWorkPending) {
  auto* loop = new mb::uv::Loop();
  std::atomic<bool> release{false};
  int done_calls = 0;
  bool ran = false;
  ASSERT_EQ(mb::uv::queue_work(
                loop->get(), [&] { while (!release.load()) std::this_thread::yield(); },
                [&](bool r) {
                  ++done_calls;
                  ran = r;
                }),
            0);
  std::thread releaser([&] { release = true; });
  delete loop;  // Loop::close runs the loop until the request's done callback has run
  releaser.join();
  EXPECT_EQ(done_calls, 1);
  EXPECT_TRUE(ran);
}

TEST(UvLoop, DestructorDrainsCloseCallbacks) {
  auto* loop = new mb::uv::Loop();
  {
    mb::uv::Timer t(loop->get());
    t.start(1000000, 0, [] {});
  }  // timer closed, close callback pending
  delete loop;  // must run the close callback (ASan would report the leak otherwise)
  SUCCEED();
}

}  // namespace
