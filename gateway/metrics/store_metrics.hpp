// File: gateway/metrics/store_metrics.hpp
//
// MeteredStorage: a decorator over any store::Storage (gateway/store/store.hpp) that feeds
//   mailbridge_store_operation_duration_seconds{operation}  from the start of each asynchronous
//       store call to its completion callback (loop thread to loop thread, so it includes the
//       thread-pool queue wait, which is what a client waits for), and
//   mailbridge_errors_total{kind="store"}  for results with ErrorKind temp, internal or
//       over_quota (failures of the store; not_found, exists, expunged, bad_name, ... are
//       answers to what a client asked and are not counted).
// and forwards open_mailboxes() for the mailbridge_mailboxes_open gauge (read at scrape time).
//
// operation label values (a fixed set): open_user, list, create, remove, rename, subscribe,
// status, open, rescan, append, store_flags, expunge, copy, move, read.
//
// The RETR / FETCH data path stays cheap: read() is timed only for a message's first chunk
// (offset 0: time to first byte when the thread pool is needed); later chunks pass their
// callback through untouched, and the synchronous read_now() fast path is forwarded untimed.
// Synchronous accessors (messages(), find(), ...) are plain forwards.
//
// Identity: the store promises one Mailbox object per (user, mailbox). The decorator keeps
// that promise for its wrappers: one MeteredMailbox per inner mailbox while any session holds
// it (a weak cache), so sessions comparing MailboxPtrs still see one object.
//
// Lifetime: the inner Storage and the GatewayMetrics must outlive this object and every
// UserStore/Mailbox it handed out (app.cpp destroys the server, and so every session, first).
// Loop thread only, like the store itself.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "gateway/metrics/gateway_metrics.hpp"
#include "gateway/store/store.hpp"

namespace mb::metrics {

enum class StoreOp : std::uint8_t {
  open_user, list, create, remove, rename, subscribe, status, open, rescan, append,
  store_flags, expunge, copy, move, read,
};
inline constexpr std::size_t kStoreOpCount = static_cast<std::size_t>(StoreOp::read) + 1;
std::string_view to_string(StoreOp op);

class MeteredStorage final : public store::Storage {
 public:
  MeteredStorage(store::Storage& inner, GatewayMetrics& metrics);
  ~MeteredStorage() override;
  MeteredStorage(const MeteredStorage&) = delete;
  MeteredStorage& operator=(const MeteredStorage&) = delete;

  void open_user(std::string user, std::string home,
                 std::function<void(store::StoreResult<store::UserStorePtr>)> done) override;
  std::size_t open_mailboxes() const override { return inner_.open_mailboxes(); }

  // ---- used by the wrappers (store_metrics.cpp)
  // Wraps `done` so that it records the elapsed time of `op` and counts store failures.
  template <class T>
  std::function<void(store::StoreResult<T>)> timed(
      StoreOp op, std::function<void(store::StoreResult<T>)> done) {
    return [this, op, start = std::chrono::steady_clock::now(),
            done = std::move(done)](store::StoreResult<T> r) mutable {
      record(op, start, r ? nullptr : &r.error());
      done(std::move(r));
    };
  }
  void record(StoreOp op, std::chrono::steady_clock::time_point start, const store::Error* error);
  // The one wrapper of `inner` (created on first use).
  store::MailboxPtr wrap(store::MailboxPtr inner);

 private:
  store::Storage& inner_;
  GatewayMetrics& metrics_;
  std::array<Histogram*, kStoreOpCount> durations_{};
  Counter* errors_ = nullptr;
  std::unordered_map<const store::Mailbox*, std::weak_ptr<store::Mailbox>> mailboxes_;
  std::size_t sweep_at_ = 64;  // drop expired cache entries when the map reaches this size
};

}  // namespace mb::metrics
