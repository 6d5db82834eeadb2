// File: protocols/pop3/session_impl.hpp
//
// Private: the POP3 session state machine behind pop3::make_session(). Split over
// session.cpp (lifecycle, input, dispatch), session_authorization.cpp (AUTHORIZATION:
// USER/PASS/APOP/AUTH/STLS/CAPA and the login sequence) and session_transaction.cpp
// (TRANSACTION and UPDATE: STAT..UIDL, streaming RETR/TOP, QUIT).
//
// States (RFC 1939 §3): authorization -> [sasl] -> transaction -> update; tls_pending between
// STLS and the handshake; closing after close() was asked; closed after on_closed().
// Invariants:
//  - One command at a time. While one is asynchronous (auth, store, a streaming RETR) `busy_`
//    is set, reading is paused and further input stays in `in_` (bounded: kMaxBufferedInput).
//  - Responses are built in `out_` and handed to the sink in one send() per batch or chunk.
//  - Every asynchronous callback holds a weak reference to `alive_` and does nothing once
//    the session is closed or destroyed (session.hpp lifetime rule).
//  - The maildrop is a snapshot taken at login (after Mailbox::rescan()): message numbers and
//    sizes never change during the session; deletions are only marks until QUIT.
#pragma once

#include <chrono>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/auth/authenticator.hpp"
#include "gateway/store/store.hpp"
#include "protocols/common/sasl.hpp"
#include "protocols/common/session.hpp"
#include "protocols/pop3/body_writer.hpp"
#include "protocols/pop3/command.hpp"
#include "protocols/pop3/settings.hpp"

namespace mb::pop3 {

// Consecutive -ERR answers after which the connection is closed (issue #4 "Bad input").
inline constexpr unsigned kMaxConsecutiveErrors = 10;
// Input kept while a command runs (pipelined commands); beyond this the client is cut off.
inline constexpr std::size_t kMaxBufferedInput = 256 * 1024;
// RETR/TOP read size from the store.
inline constexpr std::size_t kReadChunk = 64 * 1024;
// RETR read size from the page cache on the loop (send_chunk_now): one write per 128 KB of a
// large message; the (one per loop) output buffer holds twice that, stuffed.
inline constexpr std::size_t kNowChunk = 128 * 1024;
// Pipelined RETRs completed synchronously from inside one another (see read_next_chunk).
inline constexpr unsigned kMaxSyncRetrDepth = 8;
// Read size on the thread pool for the rest of a RETR whose first chunk was served from the
// page cache on the loop (read_next_chunk): few pool round trips per message; with the
// output high-water mark it bounds what one RETR holds (< 1 MB, issue #4 asks < 2 MB).
inline constexpr std::size_t kPoolChunk = 256 * 1024;
// RETRs of messages (or rests) this long are sent by the transport's body pump thread
// (SessionSink::offload_body), up to kOffloadMax per hand-over; see try_offload().
inline constexpr std::uint64_t kOffloadMin = 64 * 1024;
inline constexpr std::uint64_t kOffloadMax = 1024 * 1024;

// Whether RETR reads the rest of a large message on the thread pool (default off: more CPU
// per message, see read_next_chunk; the environment's MAILBRIDGE_RETR_POOL=1 at the first
// RETR turns it on, to compare on other hardware). Test hook.
void set_retr_pool_streaming(bool enabled);
bool retr_pool_streaming();

class Pop3Session final : public proto::Session, public store::MailboxObserver {
 public:
  Pop3Session(proto::SessionSink& sink, const Settings& settings, Services& services);
  ~Pop3Session() override;
  Pop3Session(const Pop3Session&) = delete;
  Pop3Session& operator=(const Pop3Session&) = delete;

  void on_start() override;
  void on_data(std::string_view bytes) override;
  void on_writable() override;
  void on_tls_ready() override;
  void on_shutdown() override;
  void on_timeout() override;
  void on_closed() override;

  void on_mailbox_changed(std::span<const store::Change> changes) override;

 private:
  enum class State { authorization, sasl, transaction, update, tls_pending, closing, closed };

  struct Message {
    store::Uid uid = 0;
    std::uint64_t size = 0;
    bool deleted = false;       // DELE in this session
    bool seen_pending = false;  // RETR with seen_on_retr = quit
    bool seen_requested = false;  // RETR with seen_on_retr = immediate asked the store for \Seen
    bool retrieved = false;     // a RETR of it completed in this session (EXPIRE)
  };

  struct Transfer {
    std::size_t index = 0;  // into messages_
    store::Uid uid = 0;
    std::uint64_t size = 0;
    std::uint64_t offset = 0;
    bool is_retr = true;
    bool header_sent = false;
    bool waiting_writable = false;
    // Past its first chunk a RETR is read and converted on the thread pool (the loop only
    // scans for dot-stuffing and sends): the byte work of large messages leaves the loop.
    bool pool_stream = false;
    std::size_t requested = 0;  // size of the read in flight: a shorter answer is the end
    BodyWriter writer;
    // The rest of the message as a source another thread may read (open_body_now, stuffed),
    // at `offset`: with the pump, or read here by send_chunk_now().
    std::unique_ptr<proto::BodySource> body;
  };

  // ---- plumbing (session.cpp)
  // Wraps a completion callback: it runs only while the session exists and is not closed.
  template <class F>
  auto guarded(F f) {
    return [weak = std::weak_ptr<int>(alive_), this, f = std::move(f)](auto&&... args) mutable {
      if (weak.expired() || state_ == State::closed) return;
      f(std::forward<decltype(args)>(args)...);
    };
  }
  bool active() const { return state_ != State::closing && state_ != State::closed; }
  void flush();
  void ok(std::string_view text);
  void err(std::string_view text, bool counts = true);
  void set_busy(bool busy);
  void finish_async();  // an asynchronous command completed: flush, resume input
  void close_session();
  void release();
  void process_input();
  void handle_line(std::string_view line);
  void handle_command(const Command& cmd);
  void dispatch_command(const Command& cmd);
  // Metrics (Settings::events): a command is timed from its line to its final response.
  void command_finished();
  void report_login(std::string_view result);
  void report_protocol_error();  // SessionEvents::protocol_error, before the -ERR
  bool plaintext_allowed() const;
  void log_info(std::string_view what) const;

  // ---- AUTHORIZATION (session_authorization.cpp)
  void cmd_capa();
  void cmd_user(const Command& cmd);
  void cmd_pass(const Command& cmd);
  void cmd_apop(const Command& cmd);
  void cmd_auth(const Command& cmd);
  void cmd_stls(const Command& cmd);
  void sasl_line(std::string_view line);
  void sasl_step(const proto::sasl::Step& step);
  void verify_password(std::string user, std::string password);
  void on_auth(const auth::AuthOutcome& outcome);
  void login_failed(std::string_view text);
  void open_maildrop(const std::string& user, const std::string& home);
  void take_snapshot();
  bool apop_offered() const;

  // ---- TRANSACTION / UPDATE (session_transaction.cpp)
  // The message for a message-number argument, or nullptr after answering -ERR.
  Message* lookup(std::string_view arg, bool check_store);
  void cmd_stat(const Command& cmd);
  void cmd_list(const Command& cmd);
  void cmd_uidl(const Command& cmd);
  void cmd_retr_top(const Command& cmd, bool is_retr);
  // Hands the rest of a large RETR (up to kOffloadMax) to the transport's body pump; false
  // when it cannot (no source without waiting, TLS, output in flight): stream it here.
  bool try_offload();
  void on_offloaded(proto::SessionSink::OffloadResult result);
  void cmd_dele(const Command& cmd);
  void cmd_rset(const Command& cmd);
  void cmd_noop(const Command& cmd);
  void cmd_quit_transaction();
  // RFC 2449 §6.7: marks what Settings::expire_days expires as deleted; returns the count.
  std::size_t mark_expired();
  void read_next_chunk();
  // RETR's fast path: one read_now() chunk stuffed straight into retr_buf_ and sent from
  // there. `more`: send the next; `stop`: ended, failed or waiting for on_writable();
  // `would_block`: read it with read() on the pool.
  enum class ChunkStep { more, stop, would_block };
  ChunkStep send_chunk_now();
  // A RETR/TOP marks the session busy without pausing the connection's reads: most finish
  // inside the call that started them (page-cache hits), and a pause + resume costs two
  // epoll_ctl calls per message. This pauses them once the command really waits (pool
  // read, output back-pressure), before control returns to the loop.
  void pause_while_waiting();
  void on_chunk(store::StoreResult<std::string> result);
  void transfer_done();
  // seen_on_retr = immediate: \Seen is stored behind the RETR, not before the next command.
  // While one store runs, later RETRs' UIDs gather in seen_batch_ and go in the next one:
  // one rename each but one directory fsync per batch. QUIT waits for them (seen_drained).
  void request_seen(store::Uid uid);
  void store_seen_batch();
  void seen_drained();
  void update_apply_deletes();
  void update_finished(bool ok, std::string_view error_text);

  proto::SessionSink& sink_;
  const Settings& settings_;
  Services& services_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  State state_ = State::authorization;
  bool busy_ = false;
  bool paused_ = false;
  bool waiting_output_ = false;  // pipelined commands wait for on_writable()
  unsigned consecutive_errors_ = 0;

  std::string in_;
  std::size_t in_pos_ = 0;
  LineReader reader_;
  std::string out_;

  std::string apop_timestamp_;      // "<...@host>" from the greeting, if APOP is offered
  std::string pending_user_;        // from USER, for the next PASS
  bool have_pending_user_ = false;
  std::optional<proto::sasl::SaslServer> sasl_;

  std::string user_;                // authenticated user
  bool locked_ = false;             // we hold the LockRegistry lock for user_
  store::UserStorePtr user_store_;
  store::MailboxPtr mailbox_;
  bool observing_ = false;
  std::uint32_t uidvalidity_ = 0;
  std::vector<Message> messages_;
  std::uint32_t live_count_ = 0;    // messages not marked deleted
  std::uint64_t live_size_ = 0;
  std::optional<Transfer> transfer_;
  unsigned sync_retr_depth_ = 0;  // nested synchronous RETRs (read_next_chunk)
  // Message index of the RETR in progress; set when it is dispatched, cleared by any -ERR,
  // and turned into Message::retrieved when the command completes (finish_async).
  std::optional<std::size_t> retr_pending_;
  std::vector<store::Uid> seen_batch_;  // \Seen not yet handed to the store
  bool seen_storing_ = false;           // a \Seen store_flags is in flight
  bool quit_waits_for_seen_ = false;    // QUIT resumes once the \Seen stores are done

  const char* command_name_ = nullptr;  // the command being timed, or null
  std::chrono::steady_clock::time_point command_start_{};
};

}  // namespace mb::pop3
