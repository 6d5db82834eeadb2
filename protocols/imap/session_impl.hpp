// File: protocols/imap/session_impl.hpp
//
// The IMAP session object shared by session.cpp (input loop, state machine, dispatch) and the
// command families in commands/*.cpp. Not a public header: other modules use session.hpp.
//
// Execution model: one command at a time. The input loop takes the next event from the
// Parser, checks the command's state mask in the dispatch table, and calls its handler. A
// handler either completes at once (finish()) or starts a store/auth call after
// begin_async(); its callback, wrapped by guarded(), later calls finish(). finish() appends
// the untagged updates that RFC 3501 §7.4.1 allows at that point and the tagged line, sends
// the whole batch with one SessionSink::send(), and resumes the input loop.
//
// Responses for one command are built in out_ and sent in one piece; streaming commands
// (FETCH) call send_out() whenever out_ grows large and stop while the sink is above
// proto::kOutputHighWater, continuing in on_writable().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/auth/authenticator.hpp"
#include "gateway/store/store.hpp"
#include "protocols/common/sasl.hpp"
#include "protocols/common/session.hpp"
#include "protocols/imap/command.hpp"
#include "protocols/imap/parser.hpp"
#include "protocols/imap/selected_view.hpp"
#include "protocols/imap/session_settings.hpp"

namespace mb::imap {

enum class State : std::uint8_t { not_authenticated, authenticated, selected, logout };

// State masks for the dispatch table.
inline constexpr std::uint8_t kNotAuth = 1;
inline constexpr std::uint8_t kAuth = 2;
inline constexpr std::uint8_t kSelected = 4;
inline constexpr std::uint8_t kAnyState = kNotAuth | kAuth | kSelected;

class ImapSession;

// A command that runs over several loop turns (FETCH, SEARCH over bodies). The session owns
// it while it runs; resume() is called from on_writable() after the job stopped at the
// output high-water mark (wait_writable()).
class Job {
 public:
  virtual ~Job() = default;
  virtual void resume() = 0;
};

using Handler = void (*)(ImapSession&, Command&);

class ImapSession final : public proto::Session, public store::MailboxObserver {
 public:
  ImapSession(proto::SessionSink& sink, const Settings& settings, Services& services);
  ~ImapSession() override;
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  // proto::Session
  void on_start() override;
  void on_data(std::string_view bytes) override;
  void on_writable() override;
  void on_tls_ready() override;
  void on_shutdown() override;
  void on_timeout() override;
  void on_closed() override;
  std::size_t held_output_bytes() const override { return out_.capacity(); }

  // store::MailboxObserver
  void on_mailbox_changed(std::span<const store::Change> changes) override;

  // ---- for command handlers -------------------------------------------------------------
  proto::SessionSink& sink() { return sink_; }
  const Settings& settings() const { return settings_; }
  Services& services() { return services_; }
  State state() const { return state_; }
  const std::string& tag() const { return tag_; }
  std::string& out() { return out_; }
  bool plaintext_allowed() const;
  std::string capabilities() const;

  // The command continues asynchronously: input is paused until finish().
  void begin_async();
  // Completes the current command: allowed untagged updates, then "<tag> <status> <text>".
  void finish(std::string_view status, std::string_view text);
  void finish_error(const store::Error& error);
  // Sends out_ now (streaming commands and continuation requests).
  void send_out();
  // Drops out_'s capacity beyond kIdleBufferKeep (a command ends or waits for the client).
  void release_output_buffer();
  static constexpr std::size_t kIdleBufferKeep = 4096;
  static constexpr std::size_t kStreamingBufferKeep = 1024 * 1024;
  // The connection is over after what is queued (LOGOUT, fatal errors).
  void close_after_output();

  // Wraps a store/auth completion so that it runs only while the session is alive and open.
  template <class F>
  auto guarded(F f) {
    // The wrapper runs f, then the deferred work (retired jobs, pipelined input) outside f.
    return [token = std::weak_ptr<ImapSession*>(self_), f = std::move(f)](auto&&... args) mutable {
      auto p = token.lock();
      if (!p || (*p)->closed_) return;
      f(std::forward<decltype(args)>(args)...);
      (*p)->after_callback();
    };
  }

  // Login state.
  void logged_in(const auth::AuthOutcome& outcome);  // async: opens the user store, finishes
  // Metrics: the authenticator's verdict, "ok" | "failed" | "error" (SessionEvents::login).
  void report_login(std::string_view result);
  store::UserStore& user_store() { return *user_store_; }
  const std::string& user() const { return user_; }

  // Selected state.
  void select_mailbox(store::MailboxPtr mailbox, bool read_only);
  void deselect();
  store::Mailbox& mailbox() { return *mailbox_; }
  const store::MailboxPtr& mailbox_ptr() const { return mailbox_; }
  bool read_only() const { return read_only_; }
  SelectedView& view() { return view_; }
  // RFC 5182 SEARCHRES: the UIDs (ascending) of the last SEARCH ... RETURN (SAVE), what "$"
  // stands for; emptied on SELECT/EXAMINE/CLOSE/UNSELECT (§2.1) and by a failed SAVE search.
  std::vector<store::Uid>& saved_search() { return saved_search_; }

  // SASL exchange in progress (AUTHENTICATE); the input loop feeds raw lines to it.
  void start_sasl(proto::sasl::SaslServer server, std::optional<std::string> initial_response);
  void expect_raw_line() { parser_.expect_raw_line(); }

  // IDLE (RFC 2177): enter after "+ idling" is sent; leaves on DONE.
  void start_idle();

  // Streaming commands: the session owns the running job; finish() retires it (it is
  // destroyed later, never inside its own call). wait_writable(): resume on on_writable().
  Job* start_job(std::unique_ptr<Job> job);
  // While it waits, the session keeps no batch buffer: a client that stops reading costs
  // the connection's queue only.
  void wait_writable() {
    waiting_writable_ = true;
    release_output_buffer();
    begin_async();
  }
  // True when the sink is above the high-water mark: a streaming job should stop.
  bool output_full() const;

  // STARTTLS: after the OK, the transport starts TLS; buffered input is discarded.
  void begin_tls();

  // Session-chosen UTF-8 store name <-> client presentation (separator conversion).
  // nullopt when the client name contains the store separator in a '.' hierarchy.
  std::optional<std::string> to_store_name(const MailboxName& name) const;
  std::optional<std::string> to_store_name(std::string_view utf8) const;
  // UTF-8 store name -> modified UTF-7 with the presented separator.
  std::string to_wire_name(std::string_view store_name) const;

  const std::string& peer() const { return sink_.peer_address(); }

 private:
  void process_input();
  void after_callback();
  void dispatch(Command& command);
  void handle_parse_error(const ParseError& error);
  void handle_raw_line(std::string line);
  void finish_sasl_step(proto::sasl::Step step);
  void end_idle();
  void flush_updates(bool allow_expunge);
  bool expunge_allowed() const;
  // Metrics (Settings::events): a command is timed from its parse to its tagged response.
  void command_started(const char* name);
  void command_finished();

  proto::SessionSink& sink_;
  const Settings& settings_;
  Services services_;
  Parser parser_;
  std::shared_ptr<ImapSession*> self_;

  State state_ = State::not_authenticated;
  bool busy_ = false;
  bool closed_ = false;
  bool idling_ = false;
  bool closing_ = false;
  bool tls_pending_ = false;
  bool draining_ = false;  // fatal LITERAL+ error: discarding the literal, then close
  CommandName command_ = CommandName::noop;
  bool command_uid_ = false;
  std::string tag_;
  std::string out_;

  std::optional<proto::sasl::SaslServer> sasl_;

  std::string user_;
  store::UserStorePtr user_store_;
  store::MailboxPtr mailbox_;
  bool read_only_ = false;
  SelectedView view_;
  std::vector<store::Uid> saved_search_;

  bool in_input_ = false;
  bool waiting_writable_ = false;
  std::unique_ptr<Job> job_;
  std::unique_ptr<Job> retired_job_;

  const char* timed_command_ = nullptr;  // the command being timed, or null
  std::chrono::steady_clock::time_point command_start_{};
};

// ---- command families (commands/*.cpp) --------------------------------------------------
namespace cmd {
void capability(ImapSession& s, Command& c);
void noop(ImapSession& s, Command& c);
void logout(ImapSession& s, Command& c);
void id(ImapSession& s, Command& c);
void enable(ImapSession& s, Command& c);
void namespace_(ImapSession& s, Command& c);

void starttls(ImapSession& s, Command& c);
void login(ImapSession& s, Command& c);
void authenticate(ImapSession& s, Command& c);

void select(ImapSession& s, Command& c);  // SELECT and EXAMINE
void close(ImapSession& s, Command& c);
void unselect(ImapSession& s, Command& c);
void check(ImapSession& s, Command& c);
void expunge(ImapSession& s, Command& c);  // EXPUNGE and UID EXPUNGE

void create(ImapSession& s, Command& c);
void delete_(ImapSession& s, Command& c);
void rename(ImapSession& s, Command& c);
void subscribe(ImapSession& s, Command& c);  // SUBSCRIBE and UNSUBSCRIBE
void list(ImapSession& s, Command& c);       // LIST and LSUB
void status(ImapSession& s, Command& c);

void append(ImapSession& s, Command& c);
void fetch(ImapSession& s, Command& c);
void store(ImapSession& s, Command& c);
void copy(ImapSession& s, Command& c);  // COPY and MOVE
void search(ImapSession& s, Command& c);
void sort(ImapSession& s, Command& c);  // SORT, THREAD and UID forms (RFC 5256), search.cpp
void idle(ImapSession& s, Command& c);
}  // namespace cmd

// Helpers shared by command files (commands/common.cpp).
// Resolves a sequence set (or UID set when `uid`) against the view: ascending UIDs present
// in the view ("$" is the saved search result, never bad). `bad` is set when a message sequence number exceeds the message count, except
// that in an empty mailbox a set made only of '*' elements ("1:*", "*") matches nothing.
std::vector<store::Uid> resolve_set(ImapSession& s, const SequenceSet& set, bool uid, bool* bad);
// Splits flag names into system flags and keywords; false if a name is not a valid flag.
bool split_flags(const std::vector<std::string>& names, store::FlagSet& flags,
                 std::vector<std::string>& keywords);

}  // namespace mb::imap
