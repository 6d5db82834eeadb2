// File: protocols/pop3/session_authorization.cpp
//
// AUTHORIZATION state of the POP3 session (RFC 1939 §4, §7; RFC 2449 CAPA; RFC 2595 STLS;
// RFC 5034 AUTH): USER/PASS, APOP, AUTH PLAIN/LOGIN, STLS, CAPA, and the login sequence
// (auth -> LOGIN-DELAY/IN-USE checks -> open user and INBOX -> rescan -> snapshot).
#include <fmt/format.h>

#include <iterator>

#include "gateway/log/log.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session_impl.hpp"

namespace mb::pop3 {
namespace {

constexpr std::string_view kPlaintextRefused =
    "[AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";

bool is_hex_digest(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// AUTHORIZATION

void Pop3Session::cmd_capa() {
  // RFC 2449 §5: the list may differ between AUTHORIZATION and TRANSACTION.
  const bool auth_state = state_ == State::authorization;
  out_.append("+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  if (auth_state && plaintext_allowed()) out_.append("USER\r\nSASL PLAIN LOGIN\r\n");
  if (auth_state && settings_.tls_available && !sink_.is_tls()) out_.append("STLS\r\n");
  if (settings_.expire_days) {
    fmt::format_to(std::back_inserter(out_), "EXPIRE {}\r\n", *settings_.expire_days);
  } else {
    out_.append("EXPIRE NEVER\r\n");
  }
  if (settings_.login_delay.count() > 0) {
    fmt::format_to(std::back_inserter(out_), "LOGIN-DELAY {}\r\n", settings_.login_delay.count());
  }
  if (auth_state) {
    out_.append("IMPLEMENTATION ");
    out_.append(settings_.implementation);
    out_.append("\r\n");
  }
  out_.append(".\r\n");
  consecutive_errors_ = 0;
}

void Pop3Session::cmd_user(const Command& cmd) {
  if (!plaintext_allowed()) return err(kPlaintextRefused);
  if (cmd.argc != 1) return err(cmd.argc == 0 ? "No username given." : "Too many arguments.");
  if (cmd.args[0].size() > proto::sasl::kMaxCredential) return err("Username too long.");
  pending_user_ = std::string(cmd.args[0]);
  have_pending_user_ = true;
  ok("");
}

void Pop3Session::cmd_pass(const Command& cmd) {
  if (!plaintext_allowed()) return err(kPlaintextRefused);
  if (!have_pending_user_) return err("No username given.");
  have_pending_user_ = false;
  // The password is everything after "PASS " (it may contain spaces).
  if (cmd.rest.empty()) return err("No password given.");
  verify_password(std::move(pending_user_), std::string(cmd.rest));
  pending_user_.clear();
}

void Pop3Session::cmd_apop(const Command& cmd) {
  if (!apop_offered()) return err("APOP not available.");
  if (cmd.argc != 2 || !is_hex_digest(cmd.args[1])) return err("Invalid APOP arguments.");
  set_busy(true);
  services_.auth.verify_apop(std::string(cmd.args[0]), apop_timestamp_, std::string(cmd.args[1]),
                             sink_.peer_address(),
                             guarded([this](auth::AuthOutcome outcome) { on_auth(outcome); }));
}

void Pop3Session::cmd_auth(const Command& cmd) {
  if (cmd.argc == 0) {
    // Not in RFC 5034, but Outlook-era clients ask for the list this way (as Dovecot allows).
    out_.append("+OK\r\n");
    if (plaintext_allowed()) out_.append("PLAIN\r\nLOGIN\r\n");
    out_.append(".\r\n");
    consecutive_errors_ = 0;
    return;
  }
  if (cmd.argc > 2) return err("Too many arguments.");
  auto server = proto::sasl::SaslServer::create(cmd.args[0]);
  if (!server) return err("Unsupported authentication mechanism.");
  if (!plaintext_allowed()) return err(kPlaintextRefused);
  sasl_ = std::move(server);
  std::optional<std::string_view> initial;
  if (cmd.argc == 2) initial = cmd.args[1];
  state_ = State::sasl;
  reader_.set_max_line(kMaxSaslLine);
  sasl_step(sasl_->start(initial));
}

void Pop3Session::sasl_line(std::string_view line) { sasl_step(sasl_->respond(line)); }

void Pop3Session::sasl_step(const proto::sasl::Step& step) {
  using Kind = proto::sasl::Step::Kind;
  if (step.kind == Kind::challenge) {
    out_.append("+ ");  // RFC 5034 §4: an empty challenge is "+ "
    out_.append(step.challenge_b64);
    out_.append("\r\n");
    return;
  }
  state_ = State::authorization;
  reader_.set_max_line(kMaxCommandLine);
  sasl_.reset();
  switch (step.kind) {
    case Kind::done:
      verify_password(step.credentials.user, step.credentials.password);
      return;
    case Kind::cancelled:
      return err("Authentication cancelled.");
    case Kind::failed:
    case Kind::challenge:
      break;
  }
  err(step.error.empty() ? std::string_view("Authentication failed.") : std::string_view(step.error));
}

void Pop3Session::verify_password(std::string user, std::string password) {
  set_busy(true);
  services_.auth.verify(std::move(user), std::move(password), sink_.peer_address(),
                        guarded([this](auth::AuthOutcome outcome) { on_auth(outcome); }));
}

void Pop3Session::login_failed(std::string_view text) {
  if (locked_) services_.locks.unlock(user_);
  locked_ = false;
  if (observing_ && mailbox_) mailbox_->remove_observer(this);
  observing_ = false;
  mailbox_.reset();
  user_store_.reset();
  user_.clear();
  sink_.set_user("");
  err(text);
  finish_async();
}

void Pop3Session::on_auth(const auth::AuthOutcome& outcome) {
  if (!active()) return;
  if (outcome.status == auth::AuthStatus::temp_failure) {
    report_login("error");
    return login_failed("[SYS/TEMP] Temporary authentication failure.");
  }
  if (outcome.status != auth::AuthStatus::ok) {
    report_login("failed");
    return login_failed("[AUTH] Authentication failed.");
  }
  report_login("ok");
  user_ = outcome.user;
  const auto now = LockRegistry::Clock::now();
  if (!services_.locks.login_allowed(user_, settings_.login_delay, now)) {
    return login_failed("[LOGIN-DELAY] Minimum time between logins not reached.");
  }
  if (settings_.lock_session) {
    if (!services_.locks.try_lock(user_)) {
      // RFC 2449 §8.1.2 / RFC 1939 §8: the maildrop is locked by another POP3 session.
      return login_failed("[IN-USE] Mailbox is locked by another POP3 session.");
    }
    locked_ = true;
  }
  sink_.set_user(user_);
  open_maildrop(user_, outcome.home);
}

void Pop3Session::open_maildrop(const std::string& user, const std::string& home) {
  services_.storage.open_user(
      user, home, guarded([this](store::StoreResult<store::UserStorePtr> us) {
        if (!active()) return;
        if (!us) {
          log_info(fmt::format("open_user failed: {}", us.error().internal_text));
          return login_failed("[SYS/TEMP] Cannot open the mailbox.");
        }
        user_store_ = std::move(*us);
        user_store_->open(settings_.mailbox, guarded([this](store::StoreResult<store::MailboxPtr> mb) {
          if (!active()) return;
          if (!mb) {
            log_info(fmt::format("open failed: {}", mb.error().internal_text));
            return login_failed(mb.error().kind == store::ErrorKind::internal
                                    ? "[SYS/PERM] Cannot open the mailbox."
                                    : "[SYS/TEMP] Cannot open the mailbox.");
          }
          mailbox_ = std::move(*mb);
          mailbox_->add_observer(this);
          observing_ = true;
          // Catch changes made outside the process before the snapshot (no-inotify filesystems).
          mailbox_->rescan(guarded([this](store::StoreResult<void> r) {
            if (!active()) return;
            if (!r) {
              log_info(fmt::format("rescan failed: {}", r.error().internal_text));
              return login_failed("[SYS/TEMP] Cannot read the mailbox.");
            }
            take_snapshot();
          }));
        }));
      }));
}

void Pop3Session::take_snapshot() {
  // Hidden from POP3: messages a previous session deleted in "keyword" mode, and in "flag"
  // mode those with \Deleted (otherwise every client would download them again).
  store::KeywordMask hidden_keywords = 0;
  if (settings_.delete_mode == DeleteMode::keyword) {
    const auto& kw = mailbox_->keywords();
    for (std::size_t i = 0; i < kw.size() && i < store::kMaxKeywords; ++i) {
      if (kw[i] == kPop3DeletedKeyword) hidden_keywords |= store::KeywordMask{1} << i;
    }
  }
  const bool hide_deleted_flag = settings_.delete_mode == DeleteMode::flag;
  const auto infos = mailbox_->messages();
  messages_.clear();
  messages_.reserve(infos.size());
  live_size_ = 0;
  for (const store::MessageInfo& m : infos) {
    if ((m.keywords & hidden_keywords) != 0) continue;
    if (hide_deleted_flag && (m.flags & store::kDeleted) != 0) continue;
    messages_.push_back(Message{m.uid, m.size, false, false, false});
    live_size_ += m.size;
  }
  live_count_ = static_cast<std::uint32_t>(messages_.size());
  uidvalidity_ = mailbox_->uidvalidity();
  services_.locks.record_login(user_, LockRegistry::Clock::now());
  state_ = State::transaction;
  sink_.set_idle_timeout(settings_.transaction_timeout);
  log_info(fmt::format("logged in, {} messages, {} octets", live_count_, live_size_));
  ok("Logged in.");
  finish_async();
}

void Pop3Session::cmd_stls(const Command& cmd) {
  if (cmd.argc != 0) return err("Too many arguments.");
  if (sink_.is_tls()) return err("TLS is already active.");
  if (!settings_.tls_available) return err("STLS not available.");
  ok("Begin TLS negotiation now.");
  flush();
  // RFC 2595 §3.1: anything the client pipelined after STLS is discarded.
  state_ = State::tls_pending;
  in_pos_ = in_.size();
  have_pending_user_ = false;
  sink_.start_tls();
}

}  // namespace mb::pop3
