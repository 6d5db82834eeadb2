// File: protocols/pop3/lock_registry.hpp
//
// Per-user state shared by every POP3 session of the process (one instance, owned by the
// server, passed in pop3::Services):
//  - RFC 1939 §8 exclusive-access lock on a maildrop (`pop3.lock_session`): a second POP3
//    login of the same user answers "-ERR [IN-USE]" (RFC 2449 §8.1.2) while the first holds it.
//  - RFC 2449 §6.8 LOGIN-DELAY: the time of each user's last successful login, so a login
//    sooner than the advertised delay answers "-ERR [LOGIN-DELAY]".
// Loop thread only; no locking. Memory: one entry per user seen (bounded by the user base).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mb::pop3 {

class LockRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  // True and takes the lock if nobody holds it.
  bool try_lock(std::string_view user);
  void unlock(std::string_view user);
  bool is_locked(std::string_view user) const;

  // False if the user logged in less than `delay` ago (delay 0: always true).
  bool login_allowed(std::string_view user, std::chrono::seconds delay, Clock::time_point now) const;
  void record_login(std::string_view user, Clock::time_point now);

 private:
  struct Entry {
    bool locked = false;
    bool logged_in_before = false;
    Clock::time_point last_login{};
  };
  std::unordered_map<std::string, Entry> users_;
};

}  // namespace mb::pop3
