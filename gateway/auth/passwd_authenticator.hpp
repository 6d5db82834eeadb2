// File: gateway/auth/passwd_authenticator.hpp
//
// PasswdAuthenticator: the Authenticator over a Dovecot-format passwd-file
// (passwd_file.hpp), for both protocol servers.
//
//   mb::auth::PasswdAuthenticator auth(loop, cfg.auth.passwd_file,
//       {.failure_delay_ms = cfg.auth.failure_delay_ms,
//        .failure_delay_max_ms = cfg.auth.failure_delay_max_ms});
//   if (auto r = auth.reload(); !r) { log::error("{}", r.error()); return 1; }   // start-up
//   ... on SIGHUP: (void)auth.reload();   // logs; keeps the old table on error
//
// Contract (beyond authenticator.hpp):
//   - Loop thread only, for every call and every callback. Each verify*/verify_apop call
//     completes exactly once, always later (never inside the call), unless the
//     authenticator is destroyed first: then pending callbacks are dropped, not called.
//     Do not destroy it from inside one of its callbacks.
//   - Hash checks run on the libuv thread pool, at most `max_parallel` at once, so logins
//     never starve the store's file I/O on the same pool; up to `max_queued` more wait in
//     FIFO order; beyond that a request completes with temp_failure.
//   - Unknown (or invalid) user names are checked against the table's dummy hash, so they
//     cost the same hashing time as a wrong password for a real user.
//   - Failures (bad_credentials) are answered after the per-address FailureTracker delay,
//     counted from when the check finished, using one timer; other clients are not slowed.
//     Successes answer at once and reset the address.
//   - Before the first successful reload() every request completes with temp_failure.
//   - reload() reads the file synchronously on the calling thread (a small local file, read
//     at start-up and on SIGHUP); checks already running keep the table they started with.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/auth/authenticator.hpp"
#include "gateway/auth/failure_delay.hpp"
#include "gateway/auth/passwd_file.hpp"
#include "gateway/uv/timer.hpp"
#include "protocols/common/result.hpp"

namespace mb::auth {

struct AuthSettings {
  std::uint32_t failure_delay_ms = 1000;      // config auth.failure_delay_ms
  std::uint32_t failure_delay_max_ms = 15000; // config auth.failure_delay_max_ms
  std::uint32_t forget_after_s = 900;         // failures older than this are forgotten
  std::size_t max_tracked_addresses = 10000;
  unsigned max_parallel = 2;                  // hash checks running at once on the pool
  std::size_t max_queued = 1000;              // waiting checks before temp_failure
};

class PasswdAuthenticator final : public Authenticator {
 public:
  PasswdAuthenticator(uv_loop_t* loop, std::string path, AuthSettings settings = {});
  ~PasswdAuthenticator() override;
  PasswdAuthenticator(const PasswdAuthenticator&) = delete;
  PasswdAuthenticator& operator=(const PasswdAuthenticator&) = delete;

  // (Re)reads the passwd-file. Error "<file>:<line>: <what>" (or "<file>: cannot open: ...");
  // the previous table stays in use on error. Logs the outcome.
  mb::Result<void, std::string> reload();

  // The same without blocking the loop (for SIGHUP): the file is read and parsed on the
  // thread pool; the table is swapped and `done` (optional) runs later on the loop thread.
  // Overlapping reloads never go backwards: a result older than one already applied is
  // dropped (its `done` still gets the outcome). Not called if the authenticator is gone,
  // nor in the (invalid-argument only) case where libuv refuses the job: then the file is
  // read synchronously instead and the outcome only logged.
  using ReloadCallback = std::function<void(mb::Result<void, std::string>)>;
  void reload_async(ReloadCallback done = {});

  void verify(std::string user, std::string password, std::string peer_address,
              AuthCallback done) override;
  void verify_apop(std::string user, std::string timestamp, std::string digest_hex,
                   std::string peer_address, AuthCallback done) override;
  bool apop_available() const override;

  // Introspection for tests, metrics and logs.
  const std::string& path() const { return path_; }
  std::size_t user_count() const { return table_ ? table_->size() : 0; }
  std::uint32_t failure_count(std::string_view peer) const;
  std::uint64_t next_failure_delay_ms(std::string_view peer) const;
  // Checks queued or running, and failures waiting out their delay.
  std::size_t pending() const { return queue_.size() + running_ + delayed_.size(); }

 private:
  struct Job;
  struct Delayed {
    AuthOutcome outcome;
    AuthCallback done;
  };

  static void run_check(Job& job);
  void submit(std::shared_ptr<Job> job);
  void pump();
  void start(std::shared_ptr<Job> job);
  void finish(const std::shared_ptr<Job>& job, AuthOutcome outcome);
  void deliver_later(std::uint64_t delay_ms, AuthOutcome outcome, AuthCallback done);
  void on_timer();
  void arm_timer();
  mb::Result<void, std::string> apply(
      mb::Result<std::shared_ptr<const PasswdTable>, std::string> table);

  uv_loop_t* loop_;
  std::string path_;
  AuthSettings settings_;
  std::shared_ptr<const PasswdTable> table_;
  FailureTracker failures_;
  std::deque<std::shared_ptr<Job>> queue_;
  unsigned running_ = 0;
  std::multimap<std::uint64_t, Delayed> delayed_;  // due time (uv_now ms) -> answer
  mb::uv::Timer timer_;
  std::uint64_t reloads_started_ = 0;
  std::uint64_t reload_applied_ = 0;  // generation of the table in use
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // weak tokens for pool completions
};

}  // namespace mb::auth
