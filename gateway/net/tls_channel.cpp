// File: gateway/net/tls_channel.cpp
#include "gateway/net/tls_channel.hpp"

#include <algorithm>
#include <cstring>

namespace mb::net {

TlsChannel::TlsChannel(std::shared_ptr<TlsContext> context, std::string* out)
    : context_(std::move(context)), out_(out) {
  mbedtls_ssl_init(&ssl_);
}

TlsChannel::~TlsChannel() { mbedtls_ssl_free(&ssl_); }

int TlsChannel::init() {
  int rc = mbedtls_ssl_setup(&ssl_, context_->config());
  if (rc != 0) return rc;
  mbedtls_ssl_set_bio(&ssl_, this, &TlsChannel::bio_send, &TlsChannel::bio_recv, nullptr);
  return 0;
}

int TlsChannel::bio_send(void* ctx, const unsigned char* buf, std::size_t len) {
  auto* self = static_cast<TlsChannel*>(ctx);
  self->out_->append(reinterpret_cast<const char*>(buf), len);
  return static_cast<int>(len);
}

int TlsChannel::bio_recv(void* ctx, unsigned char* buf, std::size_t len) {
  auto* self = static_cast<TlsChannel*>(ctx);
  std::size_t left = self->in_len_ - self->in_pos_;
  if (left == 0) return MBEDTLS_ERR_SSL_WANT_READ;
  std::size_t n = std::min(left, len);
  std::memcpy(buf, self->in_ + self->in_pos_, n);
  self->in_pos_ += n;
  return static_cast<int>(n);
}

void TlsChannel::set_input(const char* data, std::size_t len) {
  in_ = data;
  in_len_ = len;
  in_pos_ = 0;
}

int TlsChannel::handshake() {
  if (done_) return 0;
  int rc = mbedtls_ssl_handshake(&ssl_);
  if (rc == 0) done_ = true;
  return rc;
}

int TlsChannel::read(unsigned char* buf, std::size_t cap) {
  return mbedtls_ssl_read(&ssl_, buf, cap);
}

int TlsChannel::write(std::string_view plain) {
  const auto* p = reinterpret_cast<const unsigned char*>(plain.data());
  std::size_t left = plain.size();
  while (left > 0) {
    int rc = mbedtls_ssl_write(&ssl_, p, left);
    if (rc < 0) return rc;  // WANT_WRITE cannot happen: bio_send always takes everything
    p += rc;
    left -= static_cast<std::size_t>(rc);
  }
  return 0;
}

void TlsChannel::close_notify() {
  if (done_) (void)mbedtls_ssl_close_notify(&ssl_);
}

void TlsChannel::stash_rest() {
  if (in_ == stash_.data() && in_len_ == stash_.size()) {
    stash_.erase(0, in_pos_);
  } else {
    stash_.assign(in_ + in_pos_, in_len_ - in_pos_);
  }
  in_ = nullptr;
  in_len_ = in_pos_ = 0;
}

void TlsChannel::use_stash() { set_input(stash_.data(), stash_.size()); }

void TlsChannel::drop_stash_if_used() {
  if (!stash_.empty() && in_ == stash_.data() && in_pos_ == in_len_) {
    std::string().swap(stash_);
    in_ = nullptr;
    in_len_ = in_pos_ = 0;
  }
}

const char* TlsChannel::version() const { return mbedtls_ssl_get_version(&ssl_); }
const char* TlsChannel::ciphersuite() const { return mbedtls_ssl_get_ciphersuite(&ssl_); }

}  // namespace mb::net
