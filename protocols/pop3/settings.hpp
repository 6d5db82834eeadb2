// File: protocols/pop3/settings.hpp
//
// What the POP3 server is configured with ([pop3] and the relevant [auth]/[tls] keys of the
// config file, mapped by the gateway), and the services a session uses. Plain data; the
// defaults are the product's defaults (DESIGN.md "Consistency between IMAP and POP3").
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "protocols/common/session_events.hpp"
#include "protocols/pop3/uidl_format.hpp"

namespace mb::auth {
class Authenticator;
}
namespace mb::store {
class Storage;
}

namespace mb::pop3 {

class LockRegistry;

// When RETR sets \Seen (TOP never does).
enum class SeenOnRetr { immediate, quit, never };
// What QUIT does to messages marked by DELE.
enum class DeleteMode { expunge, flag, keyword };
// Where USER/PASS and AUTH PLAIN/LOGIN are allowed without TLS ([auth] plaintext).
enum class Plaintext { never, loopback, always };

// Keyword set by delete_mode = keyword; such messages are hidden from later POP3 sessions.
inline constexpr const char* kPop3DeletedKeyword = "$POP3Deleted";

struct Settings {
  SeenOnRetr seen_on_retr = SeenOnRetr::immediate;
  DeleteMode delete_mode = DeleteMode::expunge;
  UidlFormat uidl_format;  // default "%08Xu%08Xv"
  Plaintext plaintext = Plaintext::loopback;
  bool tls_available = false;  // a certificate is configured: offer STLS
  bool lock_session = false;   // RFC 1939 §8 exclusive lock per user
  bool apop = false;           // offer APOP (also needs Authenticator::apop_available())
  std::string implementation = "mailbridge";  // CAPA IMPLEMENTATION
  std::string hostname = "localhost";         // in the APOP timestamp
  std::string mailbox = "INBOX";              // the maildrop
  // RFC 2449 §6.7 EXPIRE, advertised in CAPA and enforced when QUIT enters UPDATE:
  //   nullopt  "EXPIRE NEVER": nothing is deleted but what the client DELEs.
  //   0        "EXPIRE 0": every message whose RETR completed in this session gets an
  //            implicit DELE.
  //   n > 0    messages retrieved in this session or read before (\Seen, which RETR sets
  //            per seen_on_retr, by any client) whose internal date (delivery) is at least n
  //            days ago get an implicit DELE: retention counts from delivery, which §6.7
  //            allows, and unread mail is never expired.
  // Implicit deletions follow delete_mode like DELE. login_delay 0 = not advertised/enforced.
  std::optional<unsigned> expire_days;
  std::chrono::seconds login_delay{0};
  // Idle timeouts. RFC 1939 §3: the autologout timer is at least 10 minutes once a session is
  // in TRANSACTION state; before login we are stricter.
  std::chrono::seconds authorization_timeout{60};
  std::chrono::seconds transaction_timeout{600};
  // Where sessions report logins and command latencies (metrics); may be null.
  proto::SessionEvents* events = nullptr;
};

struct Services {
  auth::Authenticator& auth;
  store::Storage& storage;
  LockRegistry& locks;
};

}  // namespace mb::pop3
