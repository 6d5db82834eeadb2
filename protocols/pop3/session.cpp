// File: protocols/pop3/session.cpp
//
// Lifecycle, plumbing, input handling and command dispatch of the POP3 session. See
// session_impl.hpp for the invariants; the states live in session_authorization.cpp and
// session_transaction.cpp.
#include "protocols/pop3/session.hpp"

#include <fmt/format.h>

#include <random>

#include "gateway/log/log.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session_impl.hpp"

namespace mb::pop3 {
namespace {

constexpr std::string_view kWrongState = "Command not valid in this state.";

std::string make_apop_timestamp(std::string_view host) {
  // RFC 1939 §7: a unique "<...>" per greeting. Not a secret, only unique.
  static std::mt19937_64 rng{std::random_device{}()};
  static std::uint64_t counter = 0;
  return fmt::format("<{:x}.{:x}@{}>", ++counter, rng(), host);
}

}  // namespace

proto::SessionPtr make_session(proto::SessionSink& sink, const Settings& settings, Services& services) {
  return std::make_unique<Pop3Session>(sink, settings, services);
}

Pop3Session::Pop3Session(proto::SessionSink& sink, const Settings& settings, Services& services)
    : sink_(sink), settings_(settings), services_(services) {
  out_.reserve(4096);
}

Pop3Session::~Pop3Session() {
  alive_.reset();
  release();
}

// ------------------------------------------------------------------------------------------
// Plumbing

void Pop3Session::log_info(std::string_view what) const {
  const log::Context ctx{sink_.connection_id(), sink_.peer_address(), user_};
  log::info(ctx, "pop3: {}", what);
}

void Pop3Session::flush() {
  if (out_.empty() || state_ == State::closed) return;
  sink_.send(out_);
  out_.clear();
}

void Pop3Session::ok(std::string_view text) {
  consecutive_errors_ = 0;
  out_.append("+OK");
  if (!text.empty()) {
    out_.push_back(' ');
    out_.append(text);
  }
  out_.append("\r\n");
}

void Pop3Session::err(std::string_view text, bool counts) {
  retr_pending_.reset();  // a failed RETR retrieved nothing
  out_.append("-ERR ");
  out_.append(text);
  out_.append("\r\n");
  if (!counts) return;
  if (++consecutive_errors_ >= kMaxConsecutiveErrors) {
    log_info("too many errors in a row, closing");
    close_session();
  }
}

void Pop3Session::set_busy(bool busy) {
  busy_ = busy;
  if (busy && !paused_) {
    paused_ = true;
    sink_.pause_reading();
  }
}

void Pop3Session::finish_async() {
  busy_ = false;
  if (retr_pending_) {
    if (*retr_pending_ < messages_.size()) messages_[*retr_pending_].retrieved = true;
    retr_pending_.reset();
  }
  command_finished();
  process_input();
  flush();
}

void Pop3Session::close_session() {
  if (!active()) return;
  state_ = State::closing;
  flush();
  sink_.close();
}

void Pop3Session::release() {
  if (observing_ && mailbox_) mailbox_->remove_observer(this);
  observing_ = false;
  // A RETR completed: its \Seen is stored even if the client left without QUIT. The store
  // finishes the operation without this session (no origin, nothing to call back).
  if (mailbox_ && !seen_batch_.empty())
    mailbox_->store_flags(std::move(seen_batch_), store::FlagOp::add, store::kSeen, {}, nullptr,
                          [](store::StoreResult<std::vector<store::Change>>) {});
  seen_batch_.clear();
  mailbox_.reset();
  user_store_.reset();
  if (locked_) services_.locks.unlock(user_);
  locked_ = false;
  transfer_.reset();
}

bool Pop3Session::plaintext_allowed() const {
  switch (settings_.plaintext) {
    case Plaintext::always: return true;
    case Plaintext::loopback: return sink_.is_tls() || sink_.is_loopback();
    case Plaintext::never: return sink_.is_tls();
  }
  return false;
}

bool Pop3Session::apop_offered() const { return settings_.apop && services_.auth.apop_available(); }

// ------------------------------------------------------------------------------------------
// proto::Session

void Pop3Session::on_start() {
  if (settings_.events != nullptr) settings_.events->session_started("pop3", sink_.is_tls());
  sink_.set_idle_timeout(settings_.authorization_timeout);
  std::string greeting = "mailbridge POP3 ready.";
  if (apop_offered()) {
    apop_timestamp_ = make_apop_timestamp(settings_.hostname);
    greeting += ' ';
    greeting += apop_timestamp_;
  }
  ok(greeting);
  flush();
}

void Pop3Session::on_data(std::string_view bytes) {
  if (!active() || state_ == State::tls_pending || state_ == State::update) return;
  if (in_.size() - in_pos_ + bytes.size() > kMaxBufferedInput) {
    report_protocol_error();
    err("Too much pipelined input.", false);
    close_session();
    return;
  }
  in_.append(bytes);
  process_input();
  flush();
}

void Pop3Session::on_writable() {
  if (!active()) return;
  if (transfer_ && transfer_->waiting_writable) {
    transfer_->waiting_writable = false;
    read_next_chunk();
    return;
  }
  if (waiting_output_) {
    waiting_output_ = false;
    process_input();
    flush();
  }
}

void Pop3Session::on_tls_ready() {
  if (state_ != State::tls_pending) return;
  if (settings_.events != nullptr) settings_.events->tls_upgraded("pop3");
  // RFC 2595 §4: the session restarts in AUTHORIZATION; nothing learned before TLS is kept.
  state_ = State::authorization;
  have_pending_user_ = false;
  pending_user_.clear();
  in_.clear();
  in_pos_ = 0;
  reader_.reset();
  busy_ = false;
  if (paused_) {
    paused_ = false;
    sink_.resume_reading();
  }
}

void Pop3Session::on_shutdown() {
  // RFC 1939 §6: without QUIT nothing is deleted; POP3 has no goodbye for this case.
  close_session();
}

void Pop3Session::on_timeout() {
  if (!active()) return;
  // In the middle of a multi-line RETR/TOP answer a status line would be read as message
  // content: just close then.
  if (!(transfer_ && transfer_->header_sent)) err("Disconnected for inactivity.", false);
  close_session();
}

void Pop3Session::on_closed() {
  if (state_ == State::closed) return;
  if (settings_.events != nullptr) settings_.events->session_ended("pop3");
  if (!user_.empty()) log_info("disconnected");
  state_ = State::closed;
  release();
}

void Pop3Session::on_mailbox_changed(std::span<const store::Change> /*changes*/) {
  // The maildrop is a snapshot (RFC 1939); expunges by others are checked on access
  // (Mailbox::find) and new mail appears at the next login.
}

// ------------------------------------------------------------------------------------------
// Input

void Pop3Session::process_input() {
  while (!busy_ && !waiting_output_ &&
         (state_ == State::authorization || state_ == State::sasl || state_ == State::transaction)) {
    // Pipelining (RFC 2449 §6.6) must not let output pile up: wait for the peer to read.
    if (sink_.output_queued() + out_.size() > proto::kOutputHighWater) {
      flush();
      // on_writable() comes only if the queue is still above the mark after the send.
      if (sink_.output_queued() > proto::kOutputHighWater) {
        waiting_output_ = true;
        break;
      }
    }
    const std::string_view pending(in_.data() + in_pos_, in_.size() - in_pos_);
    const LineReader::Event ev = reader_.next(pending);
    in_pos_ += ev.consumed;
    if (ev.kind == LineReader::Event::Kind::line) {
      handle_line(ev.line);  // `line` points into in_, which is not modified meanwhile
    } else if (ev.kind == LineReader::Event::Kind::too_long) {
      if (state_ == State::sasl) {
        sasl_.reset();
        state_ = State::authorization;
        reader_.set_max_line(kMaxCommandLine);
      }
      report_protocol_error();
      err("Line too long.");  // RFC 2449 §4; the rest of the line is discarded
    } else if (ev.consumed == 0) {
      break;
    }
    if (out_.size() >= kReadChunk) flush();
  }
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 4096) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (!busy_ && paused_ && !waiting_output_ && active() && state_ != State::tls_pending &&
      state_ != State::update) {
    paused_ = false;
    sink_.resume_reading();
  }
  if (waiting_output_ && !paused_) {
    paused_ = true;
    sink_.pause_reading();
  }
}

void Pop3Session::handle_line(std::string_view line) {
  if (state_ == State::sasl) {
    sasl_line(line);
    return;
  }
  auto parsed = parse_command(line);
  if (!parsed) {
    report_protocol_error();
    err("Unknown command.");
    return;
  }
  handle_command(*parsed);
}

namespace {
const char* verb_name(Verb verb) {
  switch (verb) {
    case Verb::user: return "USER";
    case Verb::pass: return "PASS";
    case Verb::apop: return "APOP";
    case Verb::auth: return "AUTH";
    case Verb::stls: return "STLS";
    case Verb::capa: return "CAPA";
    case Verb::quit: return "QUIT";
    case Verb::stat: return "STAT";
    case Verb::list: return "LIST";
    case Verb::retr: return "RETR";
    case Verb::dele: return "DELE";
    case Verb::noop: return "NOOP";
    case Verb::rset: return "RSET";
    case Verb::top: return "TOP";
    case Verb::uidl: return "UIDL";
    case Verb::unknown: break;
  }
  return "UNKNOWN";
}
}  // namespace

void Pop3Session::handle_command(const Command& cmd) {
  if (settings_.events != nullptr) {
    command_name_ = verb_name(cmd.verb);
    command_start_ = std::chrono::steady_clock::now();
  }
  dispatch_command(cmd);
  if (!busy_) command_finished();
}

void Pop3Session::command_finished() {
  if (command_name_ == nullptr || settings_.events == nullptr) return;
  settings_.events->command_done("pop3", command_name_, std::chrono::steady_clock::now() - command_start_);
  command_name_ = nullptr;
}

void Pop3Session::report_protocol_error() {
  if (settings_.events != nullptr) settings_.events->protocol_error("pop3");
}

void Pop3Session::report_login(std::string_view result) {
  if (settings_.events != nullptr) settings_.events->login("pop3", result);
}

void Pop3Session::dispatch_command(const Command& cmd) {
  // RFC 1939 §7: PASS must follow USER directly.
  const bool after_user = have_pending_user_;
  have_pending_user_ = false;

  if (cmd.verb == Verb::capa) {
    if (cmd.argc != 0) return err("Too many arguments.");
    return cmd_capa();
  }
  if (cmd.verb == Verb::unknown) {
    report_protocol_error();
    return err("Unknown command.");
  }

  if (state_ == State::authorization) {
    switch (cmd.verb) {
      case Verb::user: return cmd_user(cmd);
      case Verb::pass:
        have_pending_user_ = after_user;
        return cmd_pass(cmd);
      case Verb::apop: return cmd_apop(cmd);
      case Verb::auth: return cmd_auth(cmd);
      case Verb::stls: return cmd_stls(cmd);
      case Verb::quit:
        if (cmd.argc != 0) return err("Too many arguments.");
        ok("Logging out.");
        return close_session();
      default:
        report_protocol_error();
        return err(kWrongState);
    }
  }
  // TRANSACTION
  switch (cmd.verb) {
    case Verb::stat: return cmd_stat(cmd);
    case Verb::list: return cmd_list(cmd);
    case Verb::uidl: return cmd_uidl(cmd);
    case Verb::retr:
      // Remember which message, for EXPIRE (RFC 2449 §6.7): it counts as retrieved once
      // the whole response went out (finish_async), not if an -ERR answered it.
      if (cmd.argc == 1) {
        if (const auto n = parse_number(cmd.args[0]); n && *n >= 1 && *n <= messages_.size()) {
          retr_pending_ = *n - 1;
        }
      }
      cmd_retr_top(cmd, true);
      if (!busy_) retr_pending_.reset();
      return;
    case Verb::top: return cmd_retr_top(cmd, false);
    case Verb::dele: return cmd_dele(cmd);
    case Verb::rset: return cmd_rset(cmd);
    case Verb::noop: return cmd_noop(cmd);
    case Verb::quit:
      if (cmd.argc != 0) return err("Too many arguments.");
      return cmd_quit_transaction();
    default:
      report_protocol_error();
      return err(kWrongState);
  }
}

}  // namespace mb::pop3
