// File: protocols/imap/session.cpp
//
// Session lifecycle, the input loop and the command dispatch table (flags per command, after
// Dovecot's command table). Command bodies live in commands/*.cpp.
#include "protocols/imap/session.hpp"

#include <array>
#include <iterator>

#include "gateway/log/log.hpp"
#include "protocols/imap/capabilities.hpp"
#include "protocols/imap/response.hpp"
#include "protocols/imap/session_impl.hpp"

namespace mb::imap {

namespace {

struct CommandSpec {
  Handler handler;
  std::uint8_t states;
};

// Indexed by CommandName (command.hpp order).
constexpr std::array<CommandSpec, 32> kCommands{{
    {cmd::capability, kAnyState},          // CAPABILITY
    {cmd::noop, kAnyState},                // NOOP
    {cmd::logout, kAnyState},              // LOGOUT
    {cmd::starttls, kNotAuth},             // STARTTLS
    {cmd::authenticate, kNotAuth},         // AUTHENTICATE
    {cmd::login, kNotAuth},                // LOGIN
    {cmd::select, kAuth | kSelected},      // SELECT
    {cmd::select, kAuth | kSelected},      // EXAMINE
    {cmd::create, kAuth | kSelected},      // CREATE
    {cmd::delete_, kAuth | kSelected},     // DELETE
    {cmd::rename, kAuth | kSelected},      // RENAME
    {cmd::subscribe, kAuth | kSelected},   // SUBSCRIBE
    {cmd::subscribe, kAuth | kSelected},   // UNSUBSCRIBE
    {cmd::list, kAuth | kSelected},        // LIST
    {cmd::list, kAuth | kSelected},        // LSUB
    {cmd::status, kAuth | kSelected},      // STATUS
    {cmd::append, kAuth | kSelected},      // APPEND
    {cmd::check, kSelected},               // CHECK
    {cmd::close, kSelected},               // CLOSE
    {cmd::unselect, kSelected},            // UNSELECT
    {cmd::expunge, kSelected},             // EXPUNGE
    {cmd::search, kSelected},              // SEARCH
    {cmd::fetch, kSelected},               // FETCH
    {cmd::store, kSelected},               // STORE
    {cmd::copy, kSelected},                // COPY
    {cmd::copy, kSelected},                // MOVE
    {cmd::idle, kAuth | kSelected},        // IDLE
    {cmd::namespace_, kAuth | kSelected},  // NAMESPACE
    {cmd::enable, kAuth | kSelected},      // ENABLE
    {cmd::id, kAnyState},                  // ID
    {cmd::sort, kSelected},                // SORT
    {cmd::sort, kSelected},                // THREAD
}};

std::uint8_t state_mask(State s) {
  switch (s) {
    case State::not_authenticated: return kNotAuth;
    case State::authenticated: return kAuth;
    case State::selected: return kSelected;
    case State::logout: return 0;
  }
  return 0;
}

ParserLimits parser_limits(const Settings& settings) {
  ParserLimits limits;
  limits.max_line = settings.max_line_size;
  limits.max_literal = settings.max_literal_size;
  limits.max_append_literal = settings.max_append_size;
  return limits;
}

}  // namespace

proto::SessionPtr make_session(proto::SessionSink& sink, const Settings& settings,
                               Services& services) {
  return std::make_unique<ImapSession>(sink, settings, services);
}

ImapSession::ImapSession(proto::SessionSink& sink, const Settings& settings, Services& services)
    : sink_(sink),
      settings_(settings),
      services_(services),
      parser_(parser_limits(settings)),
      self_(std::make_shared<ImapSession*>(this)) {}

ImapSession::~ImapSession() {
  self_.reset();
  if (mailbox_) mailbox_->remove_observer(this);
}

bool ImapSession::plaintext_allowed() const {
  if (sink_.is_tls()) return true;
  switch (settings_.plaintext) {
    case PlaintextPolicy::always: return true;
    case PlaintextPolicy::loopback: return sink_.is_loopback();
    case PlaintextPolicy::never: return false;
  }
  return false;
}

std::string ImapSession::capabilities() const {
  CapabilityState cs;
  cs.authenticated = state_ == State::authenticated || state_ == State::selected;
  cs.tls = sink_.is_tls();
  cs.plaintext_allowed = plaintext_allowed();
  return capability_list(settings_, cs);
}

bool ImapSession::output_full() const { return sink_.output_queued() > proto::kOutputHighWater; }

// ---- proto::Session --------------------------------------------------------------------

void ImapSession::on_start() {
  if (settings_.events != nullptr) settings_.events->session_started("imap", sink_.is_tls());
  sink_.set_idle_timeout(settings_.preauth_timeout);
  out_ = "* OK [CAPABILITY " + capabilities() + "] " + settings_.greeting + "\r\n";
  send_out();
}

void ImapSession::on_data(std::string_view bytes) {
  if (draining_ && !closed_) {
    // RFC 7888 §4: read and drop the rest of the refused literal, so that the client sees
    // the answer instead of a reset, then close.
    parser_.feed(bytes);
    (void)parser_.next();
    if (parser_.discard_remaining() == 0) {
      draining_ = false;
      sink_.close();
    }
    return;
  }
  if (closed_ || closing_) return;
  parser_.feed(bytes);
  if (!busy_ && !in_input_) process_input();
}

void ImapSession::on_writable() {
  if (closed_ || !waiting_writable_) return;
  waiting_writable_ = false;
  if (job_) job_->resume();
  after_callback();
}

void ImapSession::on_tls_ready() {
  if (closed_) return;
  tls_pending_ = false;
  if (settings_.events != nullptr) settings_.events->tls_upgraded("imap");
  busy_ = false;
  sink_.resume_reading();
  process_input();
}

void ImapSession::on_shutdown() {
  if (closed_) return;
  sink_.send("* BYE Server shutting down\r\n");
  closing_ = true;
  sink_.close();
}

void ImapSession::on_timeout() {
  if (closed_) return;
  sink_.send("* BYE Autologout; idle for too long\r\n");
  closing_ = true;
}

void ImapSession::on_closed() {
  if (!closed_ && settings_.events != nullptr) settings_.events->session_ended("imap");
  closed_ = true;
  if (mailbox_) {
    mailbox_->remove_observer(this);
  }
}

// ---- live updates ----------------------------------------------------------------------

void ImapSession::on_mailbox_changed(std::span<const store::Change> changes) {
  view_.note_changes(changes);
  // RFC 2177: while idling, updates go out at once. Otherwise they wait for a command
  // (RFC 3501 §5.2 / §7.4.1: no EXPUNGE when no command is in progress).
  if (idling_ && !closed_) {
    std::string updates;
    view_.flush(updates, *mailbox_, true);
    if (!updates.empty()) sink_.send(updates);
  }
}

bool ImapSession::expunge_allowed() const {
  // RFC 3501 §7.4.1: never while FETCH, STORE or SEARCH (the non-UID forms) respond.
  switch (command_) {
    case CommandName::fetch:
    case CommandName::store:
    case CommandName::search:
      return command_uid_;
    default:
      return true;
  }
}

void ImapSession::flush_updates(bool allow_expunge) {
  if (state_ == State::selected && mailbox_) view_.flush(out_, *mailbox_, allow_expunge);
}

// ---- command completion ----------------------------------------------------------------

void ImapSession::begin_async() {
  if (!busy_) {
    busy_ = true;
    sink_.pause_reading();
  }
}

void ImapSession::send_out() {
  if (out_.empty() || closed_) return;
  sink_.send(out_);
  out_.clear();
  // A command that streams (FETCH of many bodies) reuses its batch buffer from one batch
  // to the next: growing it afresh per batch (copying as it doubles) was 5.0 % of the
  // server's CPU in imap-fetch, 3.0 % with reuse. Given back when the command ends or waits
  // for the client to read (wait_writable): only a few lines' worth is kept then.
  if (out_.capacity() > (job_ ? kStreamingBufferKeep : kIdleBufferKeep)) std::string().swap(out_);
}

void ImapSession::release_output_buffer() {
  if (out_.capacity() > kIdleBufferKeep) std::string().swap(out_);
}

void ImapSession::finish(std::string_view status, std::string_view text) {
  if (status == "OK" || status == "NO") flush_updates(expunge_allowed());
  if (status == "BAD" && settings_.events != nullptr) settings_.events->protocol_error("imap");
  append_tagged(out_, tag_, status, text);
  send_out();
  command_finished();
  if (job_) retired_job_ = std::move(job_);
  release_output_buffer();
  if (busy_) {
    busy_ = false;
    if (!closing_) sink_.resume_reading();
  }
}

void ImapSession::finish_error(const store::Error& error) {
  if (!error.internal_text.empty()) {
    log::Context ctx{sink_.connection_id(), sink_.peer_address(), user_};
    log::warn(ctx, "{} failed: {}", command_name_text(command_), error.internal_text);
  }
  flush_updates(expunge_allowed());
  append_store_error(out_, tag_, error);
  send_out();
  command_finished();
  if (job_) retired_job_ = std::move(job_);
  release_output_buffer();
  if (busy_) {
    busy_ = false;
    if (!closing_) sink_.resume_reading();
  }
}

// ---- metrics ---------------------------------------------------------------------------

namespace {
// Metric names: a fixed set (RFC 3501 command names; the UID forms apart), so a client
// cannot grow the registry.
const char* metric_name(CommandName name, bool uid) {
  static constexpr const char* kPlain[] = {
      "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
      "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST",
      "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH",
      "STORE", "COPY", "MOVE", "IDLE", "NAMESPACE", "ENABLE", "ID", "SORT", "THREAD"};
  static_assert(std::size(kPlain) == std::size(kCommandNames));
  if (uid) {
    switch (name) {
      case CommandName::fetch: return "UID FETCH";
      case CommandName::search: return "UID SEARCH";
      case CommandName::store: return "UID STORE";
      case CommandName::copy: return "UID COPY";
      case CommandName::move: return "UID MOVE";
      case CommandName::expunge: return "UID EXPUNGE";
      case CommandName::sort: return "UID SORT";
      case CommandName::thread: return "UID THREAD";
      default: break;
    }
  }
  auto index = static_cast<std::size_t>(name);
  return index < std::size(kPlain) ? kPlain[index] : "UNKNOWN";
}
}  // namespace

void ImapSession::command_started(const char* name) {
  if (settings_.events == nullptr) return;
  timed_command_ = name;
  command_start_ = std::chrono::steady_clock::now();
}

void ImapSession::command_finished() {
  if (timed_command_ == nullptr || settings_.events == nullptr) return;
  settings_.events->command_done("imap", timed_command_,
                                 std::chrono::steady_clock::now() - command_start_);
  timed_command_ = nullptr;
}

void ImapSession::report_login(std::string_view result) {
  if (settings_.events != nullptr) settings_.events->login("imap", result);
}

void ImapSession::close_after_output() {
  closing_ = true;
  send_out();
  sink_.close();
}

Job* ImapSession::start_job(std::unique_ptr<Job> job) {
  job_ = std::move(job);
  return job_.get();
}

void ImapSession::after_callback() {
  retired_job_.reset();
  if (!busy_ && !in_input_ && !closed_ && !closing_) process_input();
}

// ---- input loop ------------------------------------------------------------------------

void ImapSession::process_input() {
  in_input_ = true;
  while (!busy_ && !closed_ && !closing_ && state_ != State::logout) {
    retired_job_.reset();
    ParseEvent ev = parser_.next();
    if (std::holds_alternative<NeedMore>(ev)) break;
    if (auto* command = std::get_if<Command>(&ev)) {
      dispatch(*command);
    } else if (std::holds_alternative<NeedContinuation>(ev)) {
      // The parser has checked the size against our limits (RFC 7888 §4 / RFC 3501 §7.5).
      sink_.send("+ Ready for literal data\r\n");
    } else if (auto* raw = std::get_if<RawLine>(&ev)) {
      handle_raw_line(std::move(raw->line));
    } else if (std::holds_alternative<IdleDone>(ev)) {
      end_idle();
    } else if (auto* err = std::get_if<ParseError>(&ev)) {
      handle_parse_error(*err);
    }
  }
  in_input_ = false;
}

void ImapSession::handle_parse_error(const ParseError& error) {
  std::string line;
  bool append_too_big = error.kind == ParseErrorKind::literal_too_big &&
                        error.command == CommandName::append;
  if (error.kind == ParseErrorKind::expected_done && idling_) {
    // RFC 2177: anything but DONE ends nothing; answer BAD and keep idling.
    sink_.send("* BAD Expected DONE\r\n");
    parser_.expect_done();
    return;
  }
  if (!append_too_big && settings_.events != nullptr) settings_.events->protocol_error("imap");
  line += error.tag.empty() ? std::string_view("*") : std::string_view(error.tag);
  if (append_too_big) {
    line += " NO [TOOBIG] ";
  } else {
    line += " BAD ";
  }
  line += error.text.empty() ? std::string_view("Syntax error") : std::string_view(error.text);
  line += "\r\n";
  if (!error.tag.empty() && settings_.events != nullptr) {
    settings_.events->command_done(
        "imap", error.command ? metric_name(*error.command, false) : "UNKNOWN",
        std::chrono::steady_clock::duration::zero());
  }
  if (error.fatal) {
    line += "* BYE Protocol error\r\n";
    sink_.send(line);
    closing_ = true;
    std::uint64_t left = parser_.discard_remaining();
    if (left > 0 && left <= 2 * settings_.max_append_size) {
      draining_ = true;
      (void)parser_.next();  // drops what is already buffered
      if (parser_.discard_remaining() > 0) return;
      draining_ = false;
    }
    sink_.close();
    return;
  }
  sink_.send(line);
}

void ImapSession::dispatch(Command& command) {
  tag_ = std::move(command.tag);
  command_ = command.name;
  command_uid_ = command.uid;
  command_started(metric_name(command.name, command.uid));
  auto index = static_cast<std::size_t>(command.name);
  if (index >= kCommands.size()) {
    finish("BAD", "Unknown command");
    return;
  }
  const CommandSpec& spec = kCommands[index];
  if ((spec.states & state_mask(state_)) == 0) {
    if (state_ == State::not_authenticated) {
      finish("BAD", "Command not allowed before authentication");
    } else if (spec.states == kNotAuth) {
      finish("BAD", "Already authenticated");
    } else {
      finish("BAD", "No mailbox selected");
    }
    return;
  }
  spec.handler(*this, command);
}

// ---- states ----------------------------------------------------------------------------

void ImapSession::logged_in(const auth::AuthOutcome& outcome) {
  user_ = outcome.user;
  sink_.set_user(user_);
  begin_async();
  services_.storage.open_user(
      outcome.user, outcome.home, guarded([this](store::StoreResult<store::UserStorePtr> r) {
        if (!r) {
          user_.clear();
          finish_error(r.error());
          return;
        }
        user_store_ = std::move(*r);
        state_ = State::authenticated;
        sink_.set_idle_timeout(settings_.idle_timeout);
        std::string text = "[CAPABILITY " + capabilities() + "] Logged in";
        finish("OK", text);
      }));
}

void ImapSession::select_mailbox(store::MailboxPtr mailbox, bool read_only) {
  deselect();
  mailbox_ = std::move(mailbox);
  read_only_ = read_only;
  mailbox_->add_observer(this);
  view_.reset(*mailbox_, read_only);
  state_ = State::selected;
}

void ImapSession::deselect() {
  if (mailbox_) {
    mailbox_->remove_observer(this);
    mailbox_.reset();
  }
  view_.clear();
  std::vector<store::Uid>().swap(saved_search_);
  if (state_ == State::selected) state_ = State::authenticated;
}

void ImapSession::start_sasl(proto::sasl::SaslServer server,
                             std::optional<std::string> initial_response) {
  sasl_.emplace(server);
  std::optional<std::string_view> ir;
  if (initial_response) ir = *initial_response;
  finish_sasl_step(sasl_->start(ir));
}

void ImapSession::handle_raw_line(std::string line) {
  if (!sasl_) return;
  finish_sasl_step(sasl_->respond(line));
}

void ImapSession::finish_sasl_step(proto::sasl::Step step) {
  using Kind = proto::sasl::Step::Kind;
  switch (step.kind) {
    case Kind::challenge:
      out_ += "+ ";
      out_ += step.challenge_b64;
      out_ += "\r\n";
      send_out();
      parser_.expect_raw_line();
      return;
    case Kind::cancelled:
      sasl_.reset();
      finish("BAD", "Authentication cancelled");
      return;
    case Kind::failed:
      sasl_.reset();
      finish("BAD", step.error.empty() ? std::string_view("Invalid SASL response")
                                       : std::string_view(step.error));
      return;
    case Kind::done:
      break;
  }
  sasl_.reset();
  begin_async();
  services_.auth.verify(
      std::move(step.credentials.user), std::move(step.credentials.password), peer(),
      guarded([this](auth::AuthOutcome outcome) {
        if (outcome.status == auth::AuthStatus::ok) {
          report_login("ok");
          logged_in(outcome);
        } else if (outcome.status == auth::AuthStatus::temp_failure) {
          report_login("error");
          finish("NO", "[UNAVAILABLE] Temporary authentication failure");
        } else {
          report_login("failed");
          finish("NO", "[AUTHENTICATIONFAILED] Authentication failed");
        }
      }));
}

void ImapSession::start_idle() {
  idling_ = true;
  parser_.expect_done();
  // Updates that arrived before IDLE began go out right away (RFC 2177 §3).
  flush_updates(true);
  send_out();
  // An idling session keeps no output buffer (between commands others keep up to
  // kIdleBufferKeep, see send_out()); the next update allocates a small one.
  std::string().swap(out_);
}

void ImapSession::end_idle() {
  if (!idling_) return;
  idling_ = false;
  finish("OK", "IDLE terminated");
}

void ImapSession::begin_tls() {
  tls_pending_ = true;
  parser_.discard_input();
  begin_async();
  sink_.start_tls();
}

// ---- names -----------------------------------------------------------------------------

std::optional<std::string> ImapSession::to_store_name(std::string_view utf8) const {
  if (settings_.separator == '/') return std::string(utf8);
  std::string s(utf8);
  for (char& c : s) {
    if (c == '/') return std::nullopt;  // cannot be presented in a '.' hierarchy
    if (c == '.') c = '/';
  }
  return s;
}

std::optional<std::string> ImapSession::to_store_name(const MailboxName& name) const {
  if (name.undecodable) return std::nullopt;  // no mailbox can be named so (command.hpp)
  return to_store_name(std::string_view(name.name));
}

}  // namespace mb::imap
