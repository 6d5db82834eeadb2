// File: gateway/net/tls_channel.hpp
//
// TlsChannel: one connection's TLS state (mbedtls_ssl_context) working on memory buffers,
// never on a socket (h2o read_bio/write_bio shape): mbedtls_ssl_set_bio callbacks read
// ciphertext from the chunk the connection just received and append ciphertext to the
// connection's output queue. Allocated only for TLS connections (~35 KB with mbedTLS's
// default 16 KB record buffers), after accept (implicit TLS) or at STARTTLS.
//
// Contract:
//   - set_input(p, n): the bytes stay owned by the caller and must stay valid until the
//     next set_input()/stash_rest(); the channel consumes them only through handshake()/read().
//   - handshake() / read(): return mbedTLS codes: 0 (handshake done), >0 (plaintext bytes),
//     MBEDTLS_ERR_SSL_WANT_READ (input used up), other negative = fatal for this connection.
//   - write(): encrypts everything into the output string (the bio never blocks).
//   - stash_rest(): keeps the unconsumed input (a paused session) in the channel's own
//     buffer; use_stash() feeds it back. Only a paused TLS connection holds such bytes.
//   - The TlsContext is kept alive by the channel (shared_ptr): a reload never frees the
//     configuration under an open connection.
#pragma once

#include <mbedtls/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/net/tls_context.hpp"

namespace mb::net {

class TlsChannel {
 public:
  // `out` receives ciphertext; it must outlive the channel.
  TlsChannel(std::shared_ptr<TlsContext> context, std::string* out);
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;
  ~TlsChannel();

  // mbedtls_ssl_setup; 0 or an mbedTLS error code.
  int init();

  void set_input(const char* data, std::size_t len);
  std::size_t input_left() const { return in_len_ - in_pos_; }
  void discard_input() { in_pos_ = in_len_; }

  int handshake();
  bool handshake_done() const { return done_; }
  int read(unsigned char* buf, std::size_t cap);
  int write(std::string_view plain);
  // Queues a close_notify alert (best effort).
  void close_notify();

  void stash_rest();
  bool has_stash() const { return !stash_.empty(); }
  void use_stash();
  // Call when input_left() == 0 after use_stash(): frees the stash buffer.
  void drop_stash_if_used();

  const char* version() const;
  const char* ciphersuite() const;
  const std::shared_ptr<TlsContext>& context() const { return context_; }

 private:
  static int bio_send(void* ctx, const unsigned char* buf, std::size_t len);
  static int bio_recv(void* ctx, unsigned char* buf, std::size_t len);

  std::shared_ptr<TlsContext> context_;
  std::string* out_;
  mbedtls_ssl_context ssl_;
  const char* in_ = nullptr;
  std::size_t in_len_ = 0;
  std::size_t in_pos_ = 0;
  std::string stash_;
  bool done_ = false;
};

}  // namespace mb::net
