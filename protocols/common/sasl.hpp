// File: protocols/common/sasl.hpp
//
// Server side of the SASL mechanisms PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login),
// shared by POP3 AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 3501 §6.2.2, RFC 4959 SASL-IR).
//
// Pure state machine: no I/O, no credential checks. The protocol session feeds what the client
// sent and gets back one Step:
//   challenge  -> send `challenge_b64` on a continuation line ("+ " + text); wait for a reply
//   done       -> `credentials` hold authcid and password: hand them to mb::auth::Authenticator
//   cancelled  -> the client answered "*" (RFC 4422 §3.5); protocol answers -ERR / BAD
//   failed     -> malformed exchange; `error` says why (safe to show the client)
//
//   auto sasl = SaslServer::create("PLAIN");          // nullopt: mechanism not supported
//   Step s = sasl->start(initial_response);           // optional, Base64 or "=" (empty)
//   while (s.kind == Step::Kind::challenge) s = sasl->respond(read_line());
//
// PLAIN: message = [authzid] NUL authcid NUL passwd (RFC 4616 §2); authcid and passwd 1..255
// octets; the authzid must be empty or equal to the authcid (no proxy authorization here).
// LOGIN: challenges "Username:" then "Password:"; an initial response is taken as the user name.
// Limits: an encoded response over kMaxResponse octets fails (bounded memory).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mb::proto::sasl {

enum class Mechanism { plain, login };

// Case-insensitive mechanism name ("PLAIN", "login") -> mechanism.
std::optional<Mechanism> parse_mechanism(std::string_view name);
std::string_view mechanism_name(Mechanism mechanism);

inline constexpr std::size_t kMaxResponse = 8192;      // encoded octets of one client response
inline constexpr std::size_t kMaxCredential = 255;     // RFC 4616 §2: authcid / passwd

struct Credentials {
  std::string authzid;  // empty or equal to user
  std::string user;     // authcid
  std::string password;
};

struct Step {
  enum class Kind { challenge, done, cancelled, failed };
  Kind kind = Kind::failed;
  std::string challenge_b64;  // Kind::challenge: Base64 text for the continuation line
  Credentials credentials;    // Kind::done
  std::string error;          // Kind::failed: short reason for the client
};

class SaslServer {
 public:
  static std::optional<SaslServer> create(std::string_view mechanism_name);
  explicit SaslServer(Mechanism mechanism) : mechanism_(mechanism) {}

  Mechanism mechanism() const { return mechanism_; }

  // Begins the exchange. `initial_response`: absent if the client sent none; otherwise its
  // Base64 text, where "=" is an empty response (RFC 5034 §4, RFC 4959 §3).
  Step start(std::optional<std::string_view> initial_response);
  // Feeds one client response line (Base64 text, or "*" to cancel).
  Step respond(std::string_view response_line);

  // The same on already-decoded data (for protocols that decode themselves).
  Step start_decoded(std::optional<std::string_view> initial_response);
  Step respond_decoded(std::string_view response);

  bool finished() const { return state_ == State::finished; }

 private:
  enum class State { initial, want_plain, want_user, want_password, finished };
  Step on_response(std::string_view decoded);
  Step fail(std::string text);
  Step decode_and_feed(std::string_view line);

  Mechanism mechanism_;
  State state_ = State::initial;
  std::string user_;  // LOGIN: user name between the two steps
};

// Splits a decoded PLAIN message; nullopt plus `error` if malformed.
std::optional<Credentials> parse_plain(std::string_view message, std::string& error);

}  // namespace mb::proto::sasl
