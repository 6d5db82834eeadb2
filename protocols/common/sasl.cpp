// File: protocols/common/sasl.cpp
#include "protocols/common/sasl.hpp"


#include "protocols/common/base64.hpp"

namespace mb::proto::sasl {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

Step challenge(std::string_view raw) {
  Step s;
  s.kind = Step::Kind::challenge;
  s.challenge_b64 = base64_encode(raw);
  return s;
}

constexpr std::string_view kUsernamePrompt = "Username:";
constexpr std::string_view kPasswordPrompt = "Password:";

}  // namespace

std::optional<Mechanism> parse_mechanism(std::string_view name) {
  if (iequals(name, "PLAIN")) return Mechanism::plain;
  if (iequals(name, "LOGIN")) return Mechanism::login;
  return std::nullopt;
}

std::string_view mechanism_name(Mechanism mechanism) {
  return mechanism == Mechanism::plain ? "PLAIN" : "LOGIN";
}

std::optional<SaslServer> SaslServer::create(std::string_view name) {
  auto m = parse_mechanism(name);
  if (!m) return std::nullopt;
  return SaslServer(*m);
}

std::optional<Credentials> parse_plain(std::string_view message, std::string& error) {
  // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
  const std::size_t first = message.find('\0');
  if (first == std::string_view::npos) {
    error = "Invalid PLAIN message";
    return std::nullopt;
  }
  const std::size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos || message.find('\0', second + 1) != std::string_view::npos) {
    error = "Invalid PLAIN message";
    return std::nullopt;
  }
  Credentials c;
  c.authzid = std::string(message.substr(0, first));
  c.user = std::string(message.substr(first + 1, second - first - 1));
  c.password = std::string(message.substr(second + 1));
  if (c.user.empty() || c.password.empty() || c.user.size() > kMaxCredential ||
      c.password.size() > kMaxCredential || c.authzid.size() > kMaxCredential) {
    error = "Invalid PLAIN message";
    return std::nullopt;
  }
  if (!c.authzid.empty() && c.authzid != c.user) {
    error = "Authorization identity must match the authentication identity";
    return std::nullopt;
  }
  return c;
}

Step SaslServer::fail(std::string text) {
  state_ = State::finished;
  user_.clear();
  Step s;
  s.kind = Step::Kind::failed;
  s.error = std::move(text);
  return s;
}

Step SaslServer::start(std::optional<std::string_view> initial_response) {
  if (!initial_response) return start_decoded(std::nullopt);
  if (*initial_response == "=") return start_decoded(std::string_view{});
  if (initial_response->size() > kMaxResponse) return fail("Response too long");
  auto decoded = base64_decode(*initial_response);
  if (!decoded) return fail("Invalid base64 data");
  return start_decoded(std::string_view{*decoded});
}

Step SaslServer::start_decoded(std::optional<std::string_view> initial_response) {
  if (state_ != State::initial) return fail("Exchange already started");
  if (mechanism_ == Mechanism::plain) {
    state_ = State::want_plain;
    // RFC 5034 §4: no initial response -> empty challenge ("+ ").
    if (!initial_response) return challenge("");
    return on_response(*initial_response);
  }
  state_ = State::want_user;
  if (!initial_response) return challenge(kUsernamePrompt);
  return on_response(*initial_response);
}

Step SaslServer::respond(std::string_view line) { return decode_and_feed(line); }

Step SaslServer::decode_and_feed(std::string_view line) {
  if (state_ == State::initial || state_ == State::finished) return fail("No exchange in progress");
  if (line == "*") {  // RFC 4422 §3.5: the client aborts
    state_ = State::finished;
    user_.clear();
    Step s;
    s.kind = Step::Kind::cancelled;
    return s;
  }
  if (line.size() > kMaxResponse) return fail("Response too long");
  auto decoded = base64_decode(line);
  if (!decoded) return fail("Invalid base64 data");
  return on_response(*decoded);
}

Step SaslServer::respond_decoded(std::string_view response) {
  if (state_ == State::initial || state_ == State::finished) return fail("No exchange in progress");
  return on_response(response);
}

Step SaslServer::on_response(std::string_view decoded) {
  switch (state_) {
    case State::want_plain: {
      std::string error;
      auto creds = parse_plain(decoded, error);
      if (!creds) return fail(std::move(error));
      state_ = State::finished;
      Step s;
      s.kind = Step::Kind::done;
      s.credentials = std::move(*creds);
      return s;
    }
    case State::want_user:
      if (decoded.empty() || decoded.size() > kMaxCredential ||
          decoded.find('\0') != std::string_view::npos)
        return fail("Invalid user name");
      user_ = std::string(decoded);
      state_ = State::want_password;
      return challenge(kPasswordPrompt);
    case State::want_password: {
      if (decoded.empty() || decoded.size() > kMaxCredential ||
          decoded.find('\0') != std::string_view::npos)
        return fail("Invalid password");
      state_ = State::finished;
      Step s;
      s.kind = Step::Kind::done;
      s.credentials.user = std::move(user_);
      s.credentials.password = std::string(decoded);
      user_.clear();
      return s;
    }
    case State::initial:
    case State::finished:
      break;
  }
  return fail("No exchange in progress");
}

}  // namespace mb::proto::sasl
