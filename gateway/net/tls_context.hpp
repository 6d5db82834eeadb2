// File: gateway/net/tls_context.hpp
//
// TlsContext: one loaded server certificate + key and the mbedTLS configuration built from
// them (TLS 1.2 minimum; TLS 1.3 too when mbedTLS was built with it). Immutable after load;
// shared (std::shared_ptr) by every TLS connection accepted while it was current, so a
// reload (SIGHUP -> Server::set_tls_context) never disturbs open connections: they keep the
// context they started with until they close.
//
// Threading: loop thread only (the ctr_drbg inside is not locked).
//
//   auto ctx = mb::net::TlsContext::load("/etc/mailbridge/cert.pem", "/etc/mailbridge/key.pem");
//   if (!ctx) mb::log::error("{}", ctx.error());   // e.g. "TLS key /x/key.pem: cannot read
//                                                  //  file (No such file or directory)"
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <memory>
#include <string>

#include "protocols/common/result.hpp"

namespace mb::net {

class TlsContext {
 public:
  // Reads the PEM (or DER) certificate chain and private key, checks that they match.
  // Errors name the file and the reason.
  static Result<std::shared_ptr<TlsContext>, std::string> load(const std::string& cert_path,
                                                               const std::string& key_path);

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  ~TlsContext();

  const mbedtls_ssl_config* config() const { return &conf_; }
  const std::string& cert_path() const { return cert_path_; }

  // Human-readable text for an mbedTLS error code ("X509 - ... (-0x2180)").
  static std::string error_text(int code);

 private:
  TlsContext();

  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
  mbedtls_x509_crt cert_;
  mbedtls_pk_context key_;
  mbedtls_ssl_config conf_;
  std::string cert_path_;
};

}  // namespace mb::net
