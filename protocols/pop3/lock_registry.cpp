// File: protocols/pop3/lock_registry.cpp
#include "protocols/pop3/lock_registry.hpp"

namespace mb::pop3 {

bool LockRegistry::try_lock(std::string_view user) {
  Entry& e = users_[std::string(user)];
  if (e.locked) return false;
  e.locked = true;
  return true;
}

void LockRegistry::unlock(std::string_view user) {
  auto it = users_.find(std::string(user));
  if (it != users_.end()) it->second.locked = false;
}

bool LockRegistry::is_locked(std::string_view user) const {
  auto it = users_.find(std::string(user));
  return it != users_.end() && it->second.locked;
}

bool LockRegistry::login_allowed(std::string_view user, std::chrono::seconds delay,
                                 Clock::time_point now) const {
  if (delay.count() <= 0) return true;
  auto it = users_.find(std::string(user));
  if (it == users_.end() || !it->second.logged_in_before) return true;
  return now - it->second.last_login >= delay;
}

void LockRegistry::record_login(std::string_view user, Clock::time_point now) {
  Entry& e = users_[std::string(user)];
  e.logged_in_before = true;
  e.last_login = now;
}

}  // namespace mb::pop3
