// File: gateway/auth/passwd_authenticator.cpp
#include "gateway/auth/passwd_authenticator.hpp"

#include <cstring>
#include <utility>
#include <vector>

#include "gateway/auth/user_name.hpp"
#include "gateway/log/log.hpp"
#include "gateway/uv/work.hpp"

namespace mb::auth {

struct PasswdAuthenticator::Job {
  std::string user;
  std::string secret;     // password, or APOP digest (hex)
  std::string timestamp;  // APOP only
  std::string peer;
  bool apop = false;
  AuthCallback done;
  std::shared_ptr<const PasswdTable> table;
  // Written on the pool thread, read in the completion (libuv orders the two).
  bool ok = false;
  std::string canonical_user;
  std::string home;
};

namespace {

std::string lower_hex(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// Pool thread: the blocking part of a check. Touches only the job and its table snapshot.
void PasswdAuthenticator::run_check(Job& job) {
  const PasswdTable& table = *job.table;
  const PasswdEntry* entry = valid_user_name(job.user) ? table.find(job.user) : nullptr;
  bool match = false;
  if (job.apop) {
    // RFC 1939 §7: only a reversible stored secret can be checked; others fail like a wrong
    // digest. The MD5 is computed either way so both paths cost the same.
    const bool usable = entry != nullptr && is_reversible(entry->password.scheme) &&
                        !entry->password.hash.empty();
    const std::string expected =
        apop_digest_hex(job.timestamp, usable ? entry->password.hash : table.dummy().hash);
    match = usable && constant_time_equal(lower_hex(job.secret), expected);
  } else {
    match = verify_password(entry != nullptr ? entry->password : table.dummy(), job.secret);
    match = match && entry != nullptr;
  }
  explicit_bzero(job.secret.data(), job.secret.size());
  job.ok = match;
  if (match) {
    job.canonical_user = entry->user;
    job.home = entry->home;
  }
}

PasswdAuthenticator::PasswdAuthenticator(uv_loop_t* loop, std::string path, AuthSettings settings)
    : loop_(loop),
      path_(std::move(path)),
      settings_(settings),
      failures_(FailureDelaySettings{settings.failure_delay_ms, settings.failure_delay_max_ms,
                                     std::uint64_t{settings.forget_after_s} * 1000,
                                     settings.max_tracked_addresses}),
      timer_(loop) {
  if (settings_.max_parallel == 0) settings_.max_parallel = 1;
}

PasswdAuthenticator::~PasswdAuthenticator() {
  for (auto& job : queue_) explicit_bzero(job->secret.data(), job->secret.size());
}

mb::Result<void, std::string> PasswdAuthenticator::apply(
    mb::Result<std::shared_ptr<const PasswdTable>, std::string> table) {
  if (!table) {
    mb::log::error("passwd-file not (re)loaded, {}: {}",
                   table_ ? "keeping the previous one" : "no users yet", table.error());
    return mb::unexpected(table.error());
  }
  table_ = std::move(*table);
  mb::log::info("passwd-file {}: {} users{}", path_, table_->size(),
                table_->has_reversible() ? " (APOP available)" : "");
  return {};
}

mb::Result<void, std::string> PasswdAuthenticator::reload() {
  const std::uint64_t generation = ++reloads_started_;
  auto result = apply(load_passwd_file(path_));
  if (result) reload_applied_ = generation;
  return result;
}

void PasswdAuthenticator::reload_async(ReloadCallback done) {
  const std::uint64_t generation = ++reloads_started_;
  using Loaded = mb::Result<std::shared_ptr<const PasswdTable>, std::string>;
  auto loaded = std::make_shared<Loaded>(mb::unexpected(std::string("reload cancelled")));
  std::weak_ptr<int> alive = alive_;
  const int rc = mb::uv::queue_work(
      loop_, [loaded, path = path_] { *loaded = load_passwd_file(path); },
      [this, alive, loaded, generation, done = std::move(done)](bool) {
        if (alive.expired()) return;
        mb::Result<void, std::string> result;
        if (*loaded && generation < reload_applied_) {
          result = {};  // a newer reload already won; this older table is not applied
        } else {
          result = apply(std::move(*loaded));
          if (result) reload_applied_ = generation;
        }
        if (done) done(std::move(result));
      });
  if (rc != 0) {
    // uv_queue_work only fails on invalid arguments; read here rather than never reloading.
    // (`done` was moved into the dropped request: the outcome is logged by apply().)
    mb::log::error("uv_queue_work failed for the passwd-file reload: {}", uv_strerror(rc));
    (void)reload();
  }
}

bool PasswdAuthenticator::apop_available() const { return table_ && table_->has_reversible(); }

std::uint32_t PasswdAuthenticator::failure_count(std::string_view peer) const {
  return failures_.failures(peer, uv_now(loop_));
}

std::uint64_t PasswdAuthenticator::next_failure_delay_ms(std::string_view peer) const {
  return failures_.next_delay(peer, uv_now(loop_));
}

void PasswdAuthenticator::verify(std::string user, std::string password, std::string peer_address,
                                 AuthCallback done) {
  auto job = std::make_shared<Job>();
  job->user = std::move(user);
  job->secret = std::move(password);
  job->peer = std::move(peer_address);
  job->done = std::move(done);
  submit(std::move(job));
}

void PasswdAuthenticator::verify_apop(std::string user, std::string timestamp,
                                      std::string digest_hex, std::string peer_address,
                                      AuthCallback done) {
  auto job = std::make_shared<Job>();
  job->user = std::move(user);
  job->secret = std::move(digest_hex);
  job->timestamp = std::move(timestamp);
  job->peer = std::move(peer_address);
  job->apop = true;
  job->done = std::move(done);
  submit(std::move(job));
}

void PasswdAuthenticator::submit(std::shared_ptr<Job> job) {
  if (!table_ || queue_.size() >= settings_.max_queued) {
    const mb::log::Context ctx{.conn = {}, .peer = job->peer, .user = {}};
    mb::log::warn(ctx, "login not checked: {}", table_ ? "too many logins waiting" : "no passwd-file loaded");
    explicit_bzero(job->secret.data(), job->secret.size());
    deliver_later(0, AuthOutcome{AuthStatus::temp_failure, {}, {}}, std::move(job->done));
    return;
  }
  queue_.push_back(std::move(job));
  pump();
}

void PasswdAuthenticator::pump() {
  while (running_ < settings_.max_parallel && !queue_.empty()) {
    auto job = std::move(queue_.front());
    queue_.pop_front();
    start(std::move(job));
  }
}

void PasswdAuthenticator::start(std::shared_ptr<Job> job) {
  job->table = table_;  // the snapshot at start: a reload meanwhile does not affect this check
  ++running_;
  std::weak_ptr<int> alive = alive_;
  const int rc = mb::uv::queue_work(
      loop_, [job] { run_check(*job); },
      [this, alive, job](bool ran) {
        if (alive.expired()) return;  // authenticator gone: drop the answer
        --running_;
        if (!ran) {
          finish(job, AuthOutcome{AuthStatus::temp_failure, {}, {}});
        } else {
          finish(job, job->ok ? AuthOutcome{AuthStatus::ok, job->canonical_user, job->home}
                              : AuthOutcome{AuthStatus::bad_credentials, {}, {}});
        }
        pump();
      });
  if (rc != 0) {
    --running_;
    mb::log::error("uv_queue_work failed: {}", uv_strerror(rc));
    explicit_bzero(job->secret.data(), job->secret.size());
    deliver_later(0, AuthOutcome{AuthStatus::temp_failure, {}, {}}, std::move(job->done));
  }
}

void PasswdAuthenticator::finish(const std::shared_ptr<Job>& job, AuthOutcome outcome) {
  const char* method = job->apop ? "APOP" : "password";
  // Only validated names reach the log line: no control characters from the network.
  const std::string_view shown = valid_user_name(job->user) ? std::string_view(job->user) : "<invalid name>";
  const mb::log::Context ctx{.conn = {}, .peer = job->peer, .user = shown};
  switch (outcome.status) {
    case AuthStatus::ok:
      failures_.record_success(job->peer);
      mb::log::info(ctx, "login ok ({})", method);
      if (job->done) job->done(std::move(outcome));
      return;
    case AuthStatus::bad_credentials: {
      const std::uint64_t delay = failures_.record_failure(job->peer, uv_now(loop_));
      mb::log::warn(ctx, "login failed ({}), {} in a row from this address; answering in {} ms",
                    method, failures_.failures(job->peer, uv_now(loop_)), delay);
      deliver_later(delay, std::move(outcome), std::move(job->done));
      return;
    }
    case AuthStatus::temp_failure:
      mb::log::warn(ctx, "login not checked ({}): thread pool cancelled", method);
      deliver_later(0, std::move(outcome), std::move(job->done));
      return;
  }
}

void PasswdAuthenticator::deliver_later(std::uint64_t delay_ms, AuthOutcome outcome, AuthCallback done) {
  delayed_.emplace(uv_now(loop_) + delay_ms, Delayed{std::move(outcome), std::move(done)});
  arm_timer();
}

void PasswdAuthenticator::arm_timer() {
  if (delayed_.empty()) {
    timer_.stop();
    return;
  }
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t due = delayed_.begin()->first;
  timer_.start(due > now ? due - now : 0, 0, [this] { on_timer(); });
}

void PasswdAuthenticator::on_timer() {
  const std::uint64_t now = uv_now(loop_);
  std::vector<Delayed> ready;
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    ready.push_back(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  }
  arm_timer();
  // Callbacks may call verify() again (which may re-arm the timer): all state is settled.
  for (auto& d : ready) {
    if (d.done) d.done(std::move(d.outcome));
  }
}

}  // namespace mb::auth
