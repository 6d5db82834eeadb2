// File: gateway/auth/authenticator.hpp
//
// The interface both protocol servers use to check credentials. It knows nothing of IMAP or
// POP3 syntax: SASL framing (PLAIN, LOGIN) lives in protocols/common/sasl.hpp.
//
// Every call completes asynchronously on the loop thread (never inside the call itself):
// hashing runs on the libuv thread pool, and a failure is reported only after the
// per-source-address delay (which grows with consecutive failures from that address and
// never delays other clients). Passwords are never logged.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace mb::auth {

enum class AuthStatus {
  ok,
  bad_credentials,  // unknown user or wrong password (indistinguishable to the client)
  temp_failure,     // passwd-file unreadable, out of threads, ... (RFC 3206 [SYS/TEMP])
};

struct AuthOutcome {
  AuthStatus status = AuthStatus::bad_credentials;
  std::string user;  // canonical user name on success
  std::string home;  // home field from the passwd-file (may be empty)
};

using AuthCallback = std::function<void(AuthOutcome)>;

class Authenticator {
 public:
  virtual ~Authenticator() = default;

  // Check `password` for `user`, on behalf of a client at `peer_address`.
  virtual void verify(std::string user, std::string password, std::string peer_address,
                      AuthCallback done) = 0;

  // RFC 1939 §7 APOP: digest = hex(MD5(timestamp + secret)). Succeeds only for users whose
  // stored scheme is reversible ({PLAIN}); for others it fails like a wrong password.
  virtual void verify_apop(std::string user, std::string timestamp, std::string digest_hex,
                           std::string peer_address, AuthCallback done) = 0;

  // True when at least one user has a reversible scheme, so APOP may be offered at all.
  virtual bool apop_available() const = 0;
};

}  // namespace mb::auth
