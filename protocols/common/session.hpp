// File: protocols/common/session.hpp
//
// The seam between the transport (gateway/net) and a protocol session (protocols/imap,
// protocols/pop3). Sessions are sans-I/O: they receive bytes and events through `Session`
// and act on the connection only through `SessionSink`. Protocol code never includes libuv
// or mbedTLS headers; the transport never parses protocol bytes.
//
// Threading: everything here runs on the one loop thread.
//
// Lifetime: the connection owns the session (std::unique_ptr<Session>) and outlives it.
// A session must not be destroyed from inside its own callbacks; when a session wants to
// end it calls `SessionSink::close()`, and the connection destroys it later, after
// `on_closed()`. Asynchronous completions (store, auth) that arrive after `on_closed()` must
// be ignored by the session (hold a weak "alive" token or cancel them in the destructor).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/common/body_source.hpp"

namespace mb::proto {

// What a session can ask of its connection.
class SessionSink {
 public:
  virtual ~SessionSink() = default;

  // Queue bytes for the peer (copied). Never blocks; may be called at any time before
  // close(). Output is encrypted when the connection is TLS.
  virtual void send(std::string_view bytes) = 0;

  // What a body offload (offload_body) did, told on the loop.
  struct OffloadResult {
    std::uint64_t consumed = 0;  // wire octets of the source sent or queued (in order)
    std::unique_ptr<BodySource> source;  // back to the caller, positioned after them
    bool source_stopped = false;  // would_block / failed: read the rest another way
    int last_byte = -1;  // the last byte of those octets as made (escapes included); -1: none
    bool source_ended = false;  // the source had fewer octets than asked: the file ended
  };
  // Sends `head` and then up to `length` octets of `source` from the transport's own thread
  // (the body pump), so reading, converting and copying a large literal into the socket
  // runs beside the loop instead of on it. True: `source` was taken and `done` is called
  // later on the loop (never from inside this call; not at all if the connection closes
  // meanwhile); the session sends nothing until then. False: `head` was queued as by
  // send(), `source` is untouched (the caller streams it itself): TLS connections, output
  // still in flight, a closing connection, or no pump thread. Default: always false.
  virtual bool offload_body(std::string_view head, std::unique_ptr<BodySource>& /*source*/,
                            std::uint64_t /*length*/, std::function<void(OffloadResult)> /*done*/) {
    send(head);
    return false;
  }

  // Octets queued but not yet accepted by the kernel. Streaming senders (RETR, FETCH
  // BODY[]) stop producing while this is above `kOutputHighWater` and resume on
  // `Session::on_writable()`.
  virtual std::size_t output_queued() const = 0;

  // Stop / resume delivering `on_data()`. A session pauses while an asynchronous command
  // (store, auth) is running, so pipelined input waits in the kernel, not in our memory.
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

  // Begin a TLS handshake once everything queued so far has been written (STARTTLS/STLS:
  // the "OK, begin TLS" reply goes out in clear first). On success `Session::on_tls_ready()`
  // fires; on failure the connection is closed. Any bytes the client pipelined after the
  // STARTTLS command are discarded (RFC 3501 §6.2.1, RFC 2595 §3.1: plaintext injection).
  virtual void start_tls() = 0;

  // Flush queued output, then close. Idempotent.
  virtual void close() = 0;

  // Idle timeout for this connection from now on (RFC 3501 §5.4: at least 30 min once
  // authenticated; shorter before login). Reset by every byte received.
  virtual void set_idle_timeout(std::chrono::seconds timeout) = 0;

  virtual bool is_tls() const = 0;
  // True when the peer address is loopback (127.0.0.0/8, ::1): `[auth] plaintext = "loopback"`.
  virtual bool is_loopback() const = 0;
  // Numeric peer address without port, e.g. "127.0.0.1" or "::1" (auth delay, logging).
  virtual const std::string& peer_address() const = 0;
  // Connection id for log lines ("c17").
  virtual const std::string& connection_id() const = 0;
  // Tell the transport (and so the log lines) which user this connection belongs to.
  virtual void set_user(std::string_view user) = 0;
};

// Above this many queued output octets a streaming session stops producing.
inline constexpr std::size_t kOutputHighWater = 256 * 1024;

// What the connection tells its session.
class Session {
 public:
  virtual ~Session() = default;

  // The connection is up (and, for implicit TLS, the handshake is done): send the greeting.
  virtual void on_start() = 0;
  // Bytes from the peer (already decrypted). The session consumes or buffers all of them,
  // within its own limits.
  virtual void on_data(std::string_view bytes) = 0;
  // Queued output fell below the low-water mark after having been above kOutputHighWater.
  virtual void on_writable() = 0;
  // The STARTTLS/STLS handshake requested by start_tls() completed.
  virtual void on_tls_ready() = 0;
  // The server is shutting down (SIGTERM): say goodbye (IMAP "* BYE", POP3 nothing) and
  // call close(). A POP3 session in TRANSACTION state deletes nothing (RFC 1939 §6).
  virtual void on_shutdown() = 0;
  // The idle timeout expired: send a goodbye if the protocol has one; the connection
  // closes right after.
  virtual void on_timeout() = 0;
  // The connection is gone (peer closed, error, or after close()). No sink calls after this.
  virtual void on_closed() = 0;
  // Octets of output buffer the session holds between calls (memory per connection: an
  // idle session should hold next to nothing).
  virtual std::size_t held_output_bytes() const { return 0; }
};

using SessionPtr = std::unique_ptr<Session>;

}  // namespace mb::proto
