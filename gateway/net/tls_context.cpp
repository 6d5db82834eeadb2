// File: gateway/net/tls_context.cpp
#include "gateway/net/tls_context.hpp"

#include <mbedtls/error.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace mb::net {

namespace {
// Check readability first: mbedTLS reports every I/O problem as one FILE_IO_ERROR code.
std::string unreadable(const char* what, const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) {
    return fmt::format("TLS {} {}: cannot read file ({})", what, path, std::strerror(errno));
  }
  return {};
}
}  // namespace

std::string TlsContext::error_text(int code) {
  char buf[256] = {};
  mbedtls_strerror(code, buf, sizeof buf);
  return fmt::format("{} (-0x{:04x})", buf, static_cast<unsigned>(-code));
}

TlsContext::TlsContext() {
  mbedtls_entropy_init(&entropy_);
  mbedtls_ctr_drbg_init(&drbg_);
  mbedtls_x509_crt_init(&cert_);
  mbedtls_pk_init(&key_);
  mbedtls_ssl_config_init(&conf_);
}

TlsContext::~TlsContext() {
  mbedtls_ssl_config_free(&conf_);
  mbedtls_pk_free(&key_);
  mbedtls_x509_crt_free(&cert_);
  mbedtls_ctr_drbg_free(&drbg_);
  mbedtls_entropy_free(&entropy_);
}

Result<std::shared_ptr<TlsContext>, std::string> TlsContext::load(const std::string& cert_path,
                                                                  const std::string& key_path) {
  if (auto e = unreadable("certificate", cert_path); !e.empty()) return mb::unexpected(e);
  if (auto e = unreadable("key", key_path); !e.empty()) return mb::unexpected(e);

  std::shared_ptr<TlsContext> ctx(new TlsContext());
  ctx->cert_path_ = cert_path;
  static const char kPers[] = "mailbridge-tls";
  int rc = mbedtls_ctr_drbg_seed(&ctx->drbg_, mbedtls_entropy_func, &ctx->entropy_,
                                 reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1);
  if (rc != 0) return mb::unexpected("TLS: cannot seed the random generator: " + error_text(rc));

  rc = mbedtls_x509_crt_parse_file(&ctx->cert_, cert_path.c_str());
  if (rc != 0) {
    return mb::unexpected(fmt::format("TLS certificate {}: {}", cert_path,
                                      rc > 0 ? fmt::format("{} certificates failed to parse", rc)
                                             : error_text(rc)));
  }
  rc = mbedtls_pk_parse_keyfile(&ctx->key_, key_path.c_str(), nullptr);
  if (rc != 0) {
    return mb::unexpected(fmt::format("TLS key {}: {}", key_path, error_text(rc)));
  }
  rc = mbedtls_pk_check_pair(&ctx->cert_.pk, &ctx->key_);
  if (rc != 0) {
    return mb::unexpected(fmt::format("TLS key {} does not match certificate {}: {}", key_path,
                                      cert_path, error_text(rc)));
  }

  mbedtls_ssl_config* conf = &ctx->conf_;
  rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return mb::unexpected("TLS: config defaults: " + error_text(rc));
  mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, &ctx->drbg_);
  // TLS 1.0/1.1 are compiled into Debian's mbedTLS 2.28; refuse them (RFC 8996).
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
  rc = mbedtls_ssl_conf_own_cert(conf, &ctx->cert_, &ctx->key_);
  if (rc != 0) return mb::unexpected("TLS: own certificate: " + error_text(rc));
  return ctx;
}

}  // namespace mb::net
