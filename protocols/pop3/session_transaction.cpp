// File: protocols/pop3/session_transaction.cpp
//
// TRANSACTION and UPDATE states of the POP3 session (RFC 1939 §5, §6): STAT, LIST, UIDL,
// RETR and TOP (streamed from the store with back-pressure), DELE, RSET, NOOP, QUIT.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "gateway/log/log.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session_impl.hpp"

namespace mb::pop3 {
namespace {

std::atomic<int> g_pool_stream{-1};  // -1: not decided yet (environment), 0 off, 1 on

// RETR's output buffer (pipelined answers + status line + a stuffed chunk + terminator):
// one per loop thread, shared by its sessions, because send() has taken (written or
// copied) the bytes when it returns. Grown to the largest need and kept: no allocation per
// message, no per-session 128 KB, and it stays in the cache across sessions.
char* retr_buffer(std::size_t need) {
  thread_local std::unique_ptr<char[]> t_buf;
  thread_local std::size_t t_cap = 0;
  if (t_cap < need) {
    t_cap = std::max(need, t_cap * 2);
    t_buf = std::make_unique_for_overwrite<char[]>(t_cap);
  }
  return t_buf.get();
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  char* end = buf + sizeof buf;
  char* p = end;
  do {
    *--p = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out.append(p, static_cast<std::size_t>(end - p));
}

}  // namespace

void set_retr_pool_streaming(bool enabled) { g_pool_stream.store(enabled ? 1 : 0, std::memory_order_relaxed); }

bool retr_pool_streaming() {
  int v = g_pool_stream.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* e = std::getenv("MAILBRIDGE_RETR_POOL");
    v = (e != nullptr && std::strcmp(e, "1") == 0) ? 1 : 0;
    g_pool_stream.store(v, std::memory_order_relaxed);
  }
  return v == 1;
}

Pop3Session::Message* Pop3Session::lookup(std::string_view arg, bool check_store) {
  const auto n = parse_number(arg);
  if (!n || *n > messages_.size()) {
    err(fmt::format("There's no message {}.", arg.substr(0, 12)));
    return nullptr;
  }
  Message& m = messages_[*n - 1];
  if (m.deleted) {
    err("Message is deleted.");
    return nullptr;
  }
  if (check_store && mailbox_->find(m.uid) == nullptr) {
    // Expunged by another session (IMAP) meanwhile: the number stays, the message is gone.
    err("Message was expunged by another session.", false);
    return nullptr;
  }
  return &m;
}

void Pop3Session::cmd_stat(const Command& cmd) {
  if (cmd.argc != 0) return err("Too many arguments.");
  consecutive_errors_ = 0;
  out_.append("+OK ");
  append_number(out_, live_count_);
  out_.push_back(' ');
  append_number(out_, live_size_);
  out_.append("\r\n");
}

void Pop3Session::cmd_list(const Command& cmd) {
  if (cmd.argc > 1) return err("Too many arguments.");
  if (cmd.argc == 1) {
    Message* m = lookup(cmd.args[0], false);
    if (m == nullptr) return;
    consecutive_errors_ = 0;
    out_.append("+OK ");
    append_number(out_, static_cast<std::uint64_t>(m - messages_.data()) + 1);
    out_.push_back(' ');
    append_number(out_, m->size);
    out_.append("\r\n");
    return;
  }
  consecutive_errors_ = 0;
  out_.append("+OK ");
  append_number(out_, live_count_);
  out_.append(" messages:\r\n");
  out_.reserve(out_.size() + messages_.size() * 16);
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].deleted) continue;
    append_number(out_, i + 1);
    out_.push_back(' ');
    append_number(out_, messages_[i].size);
    out_.append("\r\n");
  }
  out_.append(".\r\n");
}

void Pop3Session::cmd_uidl(const Command& cmd) {
  if (cmd.argc > 1) return err("Too many arguments.");
  if (cmd.argc == 1) {
    Message* m = lookup(cmd.args[0], false);
    if (m == nullptr) return;
    consecutive_errors_ = 0;
    out_.append("+OK ");
    append_number(out_, static_cast<std::uint64_t>(m - messages_.data()) + 1);
    out_.push_back(' ');
    settings_.uidl_format.append(m->uid, uidvalidity_, out_);
    out_.append("\r\n");
    return;
  }
  consecutive_errors_ = 0;
  out_.append("+OK\r\n");
  out_.reserve(out_.size() + messages_.size() * 28);
  for (std::size_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].deleted) continue;
    append_number(out_, i + 1);
    out_.push_back(' ');
    settings_.uidl_format.append(messages_[i].uid, uidvalidity_, out_);
    out_.append("\r\n");
  }
  out_.append(".\r\n");
}

void Pop3Session::cmd_retr_top(const Command& cmd, bool is_retr) {
  std::optional<std::uint32_t> lines;
  if (is_retr) {
    if (cmd.argc != 1) return err(cmd.argc == 0 ? "Message number required." : "Too many arguments.");
  } else {
    if (cmd.argc != 2) return err("TOP needs a message number and a line count.");
    lines = parse_number(cmd.args[1], true);
    if (!lines) return err("Invalid line count.");
  }
  Message* m = lookup(cmd.args[0], true);
  if (m == nullptr) return;
  Transfer t;
  t.index = static_cast<std::size_t>(m - messages_.data());
  t.uid = m->uid;
  t.size = m->size;
  t.is_retr = is_retr;
  t.writer = BodyWriter(lines);
  transfer_.emplace(std::move(t));
  busy_ = true;  // reads paused only if it comes to wait (pause_while_waiting)
  read_next_chunk();
}

bool Pop3Session::try_offload() {
  Transfer& t = *transfer_;
  const std::uint64_t left = t.size > t.offset ? t.size - t.offset : 0;
  if (!t.is_retr || t.pool_stream || left < kOffloadMin) return false;
  if (!t.body) t.body = mailbox_->open_body_now(t.uid, t.offset, BodyWriter::kStuffByte);
  if (!t.body) return false;
  if (!t.header_sent) {
    // Committed now: the source is open, so the answer is this message (or a cut-off
    // connection if the disk fails mid-way, as on the other paths).
    t.header_sent = true;
    consecutive_errors_ = 0;
    out_.append("+OK ");
    append_number(out_, t.size);
    out_.append(" octets\r\n");
  }
  const std::uint64_t length = std::min(left, kOffloadMax);
  const bool taken = sink_.offload_body(
      out_, t.body, length,
      guarded([this](proto::SessionSink::OffloadResult r) { on_offloaded(std::move(r)); }));
  out_.clear();  // sent or queued either way
  if (!taken) return false;
  pause_while_waiting();
  return true;
}

void Pop3Session::on_offloaded(proto::SessionSink::OffloadResult r) {
  if (!active() || !transfer_) return;
  Transfer& t = *transfer_;
  t.offset += r.consumed;
  if (r.last_byte >= 0) t.writer.wrote(static_cast<char>(r.last_byte));
  if (!r.source_stopped) t.body = std::move(r.source);
  // The file may end before its size said (as with read_now): the message ends there.
  if (t.offset >= t.size || r.source_ended) {
    t.writer.finish(out_);
    return transfer_done();
  }
  if (sink_.output_queued() > 0) {  // a full socket: the unsent rest is queued
    t.waiting_writable = true;  // resumed by on_writable()
    return;
  }
  read_next_chunk();
}

void Pop3Session::read_next_chunk() {
  if (try_offload()) return;
  // Page-cache hits are served on the loop; the thread pool only when the disk is needed.
  // A RETR that completes here runs finish_async(), which may start the next pipelined
  // RETR from inside this call: past kMaxSyncRetrDepth nested ones the pool read unwinds
  // the stack.
  if (transfer_->is_retr && !transfer_->pool_stream && sync_retr_depth_ < kMaxSyncRetrDepth) {
    ++sync_retr_depth_;
    ChunkStep step = ChunkStep::more;
    while (step == ChunkStep::more) {
      step = send_chunk_now();
      // Optional (retr_pool_streaming()): the first chunk went out from the page cache with
      // the status line; the rest of a large message is read on the pool, so the page-cache
      // copy and CRLF conversion of most bytes (large messages carry them) leave the loop
      // thread. Off by default: measured on the shared 2-core machine (pop3-drain c=10) it
      // cost ~30% more server CPU per message (hand-offs, and every chunk crosses cores
      // between the pool thread that writes it and the loop that sends it) and won no rate.
      if (step == ChunkStep::more && retr_pool_streaming()) {
        transfer_->pool_stream = true;
        step = ChunkStep::would_block;
      }
    }
    --sync_retr_depth_;
    if (step == ChunkStep::stop) return;
  }
  Transfer& t = *transfer_;
  t.requested = t.pool_stream ? kPoolChunk : kReadChunk;
  pause_while_waiting();
  mailbox_->read(t.uid, t.offset, t.requested,
                 guarded([this](store::StoreResult<std::string> r) { on_chunk(std::move(r)); }));
}

Pop3Session::ChunkStep Pop3Session::send_chunk_now() {
  Transfer& t = *transfer_;
  const std::uint64_t left = t.size > t.offset ? t.size - t.offset : 0;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kNowChunk));
  // The response so far (pipelined answers, the +OK line), the stuffed chunk (at most twice
  // its wire octets) and the terminator, in one buffer and one send().
  const std::size_t head = out_.size() + (t.header_sent ? 0 : 32);
  const std::size_t need = head + 2 * want + BodyWriter::kMaxFinish + 2;
  char* buf = retr_buffer(need);
  std::size_t used = 0;
  if (!t.header_sent) {
    // Built aside and committed only once the chunk is in hand: on "would block" the pool
    // path answers instead (and an error answers -ERR).
    std::string line = "+OK ";
    append_number(line, t.size);
    line.append(" octets\r\n");
    std::memcpy(buf + out_.size(), line.data(), line.size());
    used = line.size();
  }
  std::optional<store::StoreResult<store::Mailbox::ReadNow>> r;
  if (t.body) {
    // The source try_offload() opened (the pump declined): the same open file, in place.
    proto::BodySource::Step step = t.body->read(buf + out_.size() + used, want);
    if (step.status != proto::BodySource::Status::ok) {
      t.body.reset();  // what it wrote is not sent: the pool path reads from t.offset
      return ChunkStep::would_block;
    }
    r = store::StoreResult<store::Mailbox::ReadNow>(store::Mailbox::ReadNow{step.wire, step.written});
  } else {
    r = mailbox_->read_now(t.uid, t.offset, want, buf + out_.size() + used, BodyWriter::kStuffByte);
  }
  if (!r) return ChunkStep::would_block;
  if (!*r) {
    on_chunk(store::StoreResult<std::string>(mb::unexpected(r->error())));
    return ChunkStep::stop;
  }
  const store::Mailbox::ReadNow got = **r;
  if (!out_.empty()) std::memcpy(buf, out_.data(), out_.size());
  used += out_.size() + got.written;
  out_.clear();
  if (!t.header_sent) {
    t.header_sent = true;
    consecutive_errors_ = 0;
  }
  if (got.written > 0) t.writer.wrote(buf[used - 1]);
  t.offset += got.wire;
  const bool end = got.wire < want || t.offset >= t.size;
  if (end) used += t.writer.finish(buf + used);
  sink_.send(std::string_view(buf, used));
  if (end) {
    transfer_done();  // may start the next pipelined command: `t` is gone
    return ChunkStep::stop;
  }
  if (!active()) return ChunkStep::stop;
  if (sink_.output_queued() > proto::kOutputHighWater) {
    t.waiting_writable = true;  // resumed by on_writable()
    pause_while_waiting();
    return ChunkStep::stop;
  }
  return ChunkStep::more;
}

void Pop3Session::pause_while_waiting() {
  if (!paused_) {
    paused_ = true;
    sink_.pause_reading();
  }
}

void Pop3Session::on_chunk(store::StoreResult<std::string> result) {
  if (!active() || !transfer_) return;
  Transfer& t = *transfer_;
  if (!result) {
    if (t.header_sent) {
      // Mid-stream failure: the response cannot be completed or retracted; drop the client.
      log_info(fmt::format("read failed during RETR: {}", result.error().internal_text));
      transfer_.reset();
      return close_session();
    }
    transfer_.reset();
    if (result.error().kind == store::ErrorKind::expunged) {
      err("Message was expunged by another session.", false);
    } else {
      log_info(fmt::format("read failed: {}", result.error().internal_text));
      err("[SYS/TEMP] Cannot read the message.");
    }
    return finish_async();
  }
  const std::string& chunk = *result;
  if (t.is_retr && t.header_sent && out_.empty() && t.writer.passes_unchanged(chunk)) {
    // Wire octets with no line starting with '.': sent as they are, from the pool's buffer
    // (no copy on the loop unless the socket leaves some of it queued).
    t.offset += chunk.size();
    const bool end = chunk.size() < t.requested || t.offset >= t.size;
    if (!chunk.empty()) {
      t.writer.wrote(chunk.back());
      sink_.send(chunk);
    }
    if (end) {
      t.writer.finish(out_);
      return transfer_done();
    }
    if (!active()) return;
    if (sink_.output_queued() > proto::kOutputHighWater) {
      t.waiting_writable = true;  // resumed by on_writable()
      return;
    }
    return read_next_chunk();
  }
  if (!t.header_sent) {
    t.header_sent = true;
    consecutive_errors_ = 0;
    out_.reserve(out_.size() + chunk.size() + chunk.size() / 32 + 64);
    if (t.is_retr) {
      out_.append("+OK ");
      append_number(out_, t.size);
      out_.append(" octets\r\n");
    } else {
      out_.append("+OK\r\n");
    }
  }
  t.offset += chunk.size();
  const bool limit_reached = t.writer.feed(chunk, out_);
  if (limit_reached || chunk.size() < t.requested || t.offset >= t.size) {
    t.writer.finish(out_);
    return transfer_done();
  }
  flush();
  // A kPoolChunk response is not kept for the rest of the session.
  if (out_.capacity() > 2 * kReadChunk) std::string().swap(out_);
  if (sink_.output_queued() > proto::kOutputHighWater) {
    t.waiting_writable = true;  // resumed by on_writable()
    return;
  }
  read_next_chunk();
}

void Pop3Session::transfer_done() {
  const Transfer t = std::move(*transfer_);
  transfer_.reset();
  if (t.is_retr) {
    // RFC 1939 leaves \Seen to the server; DESIGN.md: RETR sets it per seen_on_retr, TOP never.
    if (settings_.seen_on_retr == SeenOnRetr::immediate) {
      Message& m = messages_[t.index];
      const store::MessageInfo* info = mailbox_->find(t.uid);
      if (info != nullptr && (info->flags & store::kSeen) == 0 && !m.seen_requested) {
        m.seen_requested = true;
        request_seen(t.uid);
      }
    } else if (settings_.seen_on_retr == SeenOnRetr::quit) {
      messages_[t.index].seen_pending = true;
    }
  }
  finish_async();
}

void Pop3Session::request_seen(store::Uid uid) {
  seen_batch_.push_back(uid);
  if (!seen_storing_) store_seen_batch();
}

void Pop3Session::store_seen_batch() {
  seen_storing_ = true;
  std::vector<store::Uid> uids;
  uids.swap(seen_batch_);
  mailbox_->store_flags(std::move(uids), store::FlagOp::add, store::kSeen, {}, this,
                        guarded([this](store::StoreResult<std::vector<store::Change>> r) {
                          if (!r) log_info(fmt::format("setting \\Seen failed: {}", r.error().internal_text));
                          seen_storing_ = false;
                          if (!seen_batch_.empty() && mailbox_) return store_seen_batch();
                          seen_drained();
                        }));
}

void Pop3Session::seen_drained() {
  if (!quit_waits_for_seen_) return;
  quit_waits_for_seen_ = false;
  cmd_quit_transaction();
}

void Pop3Session::cmd_dele(const Command& cmd) {
  if (cmd.argc != 1) return err(cmd.argc == 0 ? "Message number required." : "Too many arguments.");
  Message* m = lookup(cmd.args[0], true);
  if (m == nullptr) return;
  m->deleted = true;
  --live_count_;
  live_size_ -= m->size;
  ok("Marked to be deleted.");
}

void Pop3Session::cmd_rset(const Command& cmd) {
  if (cmd.argc != 0) return err("Too many arguments.");
  // RFC 1939 §5: unmark all messages marked as deleted. Pending \Seen (seen_on_retr = quit)
  // is forgotten too, as Dovecot does: RSET undoes the session's changes.
  live_count_ = static_cast<std::uint32_t>(messages_.size());
  live_size_ = 0;
  for (Message& m : messages_) {
    m.deleted = false;
    m.seen_pending = false;
    live_size_ += m.size;
  }
  out_.append("+OK ");
  append_number(out_, live_count_);
  out_.append(" messages.\r\n");
  consecutive_errors_ = 0;
}

void Pop3Session::cmd_noop(const Command& cmd) {
  if (cmd.argc != 0) return err("Too many arguments.");
  ok("");
}

// ------------------------------------------------------------------------------------------
// UPDATE (RFC 1939 §6): apply \Seen (quit mode) then the deletions, and answer +OK only once
// the store has confirmed them.

std::size_t Pop3Session::mark_expired() {
  if (!settings_.expire_days) return 0;
  const unsigned days = *settings_.expire_days;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t cutoff = now - static_cast<std::int64_t>(days) * 86400;
  std::size_t count = 0;
  for (Message& m : messages_) {
    if (m.deleted) continue;
    const store::MessageInfo* info = mailbox_->find(m.uid);
    if (info == nullptr) continue;  // expunged meanwhile
    // EXPIRE 0: "an implicit DELE for each message which was downloaded with RETR" (§6.7).
    // EXPIRE n: retrieved now or read before (\Seen, which RETR sets, by any client), and
    // delivered at least n days ago: retention counts from delivery, never unread mail.
    const bool expired = days == 0 ? m.retrieved
                                   : (m.retrieved || (info->flags & store::kSeen) != 0) &&
                                         info->internal_date <= cutoff;
    if (!expired) continue;
    m.deleted = true;
    --live_count_;
    live_size_ -= m.size;
    ++count;
  }
  return count;
}

void Pop3Session::cmd_quit_transaction() {
  state_ = State::update;
  set_busy(true);
  // +OK means every RETR's \Seen is stored (a client may look over IMAP right after).
  if (seen_storing_) {
    quit_waits_for_seen_ = true;
    return;
  }
  if (const std::size_t n = mark_expired(); n > 0) {
    log_info(fmt::format("QUIT: {} messages expired (EXPIRE {})", n, *settings_.expire_days));
  }
  std::vector<store::Uid> seen;
  for (const Message& m : messages_) {
    if (m.seen_pending && !m.deleted) seen.push_back(m.uid);
  }
  if (seen.empty()) return update_apply_deletes();
  mailbox_->store_flags(std::move(seen), store::FlagOp::add, store::kSeen, {}, this,
                        guarded([this](store::StoreResult<std::vector<store::Change>> r) {
                          if (!r) {
                            log_info(fmt::format("QUIT: setting \\Seen failed: {}", r.error().internal_text));
                            return update_finished(false, "[SYS/TEMP] Failed to update the mailbox.");
                          }
                          update_apply_deletes();
                        }));
}

void Pop3Session::update_apply_deletes() {
  std::vector<store::Uid> uids;
  for (const Message& m : messages_) {
    if (m.deleted) uids.push_back(m.uid);
  }
  if (uids.empty()) return update_finished(true, {});
  const std::size_t count = uids.size();
  auto on_error = [this](const store::Error& e) {
    log_info(fmt::format("QUIT: deleting failed: {}", e.internal_text));
    update_finished(false, e.kind == store::ErrorKind::internal
                               ? "[SYS/PERM] Failed to delete messages, none deleted."
                               : "[SYS/TEMP] Failed to delete messages, none deleted.");
  };
  switch (settings_.delete_mode) {
    case DeleteMode::expunge:
      mailbox_->expunge(std::move(uids), this,
                        guarded([this, on_error, count](store::StoreResult<std::vector<store::Uid>> r) {
                          if (!r) return on_error(r.error());
                          log_info(fmt::format("QUIT: {} marked, {} expunged", count, r->size()));
                          update_finished(true, {});
                        }));
      return;
    case DeleteMode::flag:
    case DeleteMode::keyword: {
      const bool flag = settings_.delete_mode == DeleteMode::flag;
      std::vector<std::string> keywords;
      if (!flag) keywords.emplace_back(kPop3DeletedKeyword);
      mailbox_->store_flags(std::move(uids), store::FlagOp::add, flag ? store::kDeleted : 0,
                            std::move(keywords), this,
                            guarded([this, on_error](store::StoreResult<std::vector<store::Change>> r) {
                              if (!r) return on_error(r.error());
                              update_finished(true, {});
                            }));
      return;
    }
  }
}

void Pop3Session::update_finished(bool success, std::string_view error_text) {
  if (state_ != State::update) return;
  if (success) {
    ok("Logging out.");
  } else {
    err(error_text, false);
  }
  log_info("QUIT");
  // Release the RFC 1939 §8 lock now: the client may reconnect before on_closed() arrives.
  if (locked_) services_.locks.unlock(user_);
  locked_ = false;
  close_session();
}

}  // namespace mb::pop3
