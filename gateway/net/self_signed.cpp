// File: gateway/net/self_signed.cpp
#include "gateway/net/self_signed.hpp"

#include <fcntl.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "gateway/net/tls_context.hpp"

namespace mb::net {

namespace {

// RAII for the mbedTLS contexts used here.
struct Crypto {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_pk_context key;
  mbedtls_x509write_cert crt;
  mbedtls_mpi serial;
  Crypto() {
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
  }
  ~Crypto() {
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  Crypto(const Crypto&) = delete;
  Crypto& operator=(const Crypto&) = delete;
};

std::string fail(std::string_view step, int rc) {
  return fmt::format("self-signed certificate: {}: {}", step, TlsContext::error_text(rc));
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// temp + fsync + rename + fsync(dir).
Result<void, std::string> write_file_atomic(const std::string& path, std::string_view data,
                                            mode_t mode) {
  std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return mb::unexpected(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  ::fchmod(fd, mode);  // umask must not widen or narrow what we promise
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return mb::unexpected(fmt::format("cannot write {}: {}", tmp, std::strerror(err)));
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return mb::unexpected(fmt::format("cannot sync {}: {}", tmp, std::strerror(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return mb::unexpected(fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(err)));
  }
  int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

void der_append(std::vector<unsigned char>& out, unsigned char tag, std::string_view bytes) {
  out.push_back(tag);
  out.push_back(static_cast<unsigned char>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

bool looks_like_hostname(std::string_view name) {
  if (name.empty() || name.size() > 100 || name == "localhost") return false;
  for (char ch : name) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.';
    if (!ok) return false;
  }
  return true;
}

// GeneralNames ::= SEQUENCE OF GeneralName (RFC 5280 §4.2.1.6); short forms only (< 128).
std::vector<unsigned char> subject_alt_names(std::string_view cn) {
  std::vector<unsigned char> body;
  der_append(body, 0x82, "localhost");                    // [2] dNSName
  der_append(body, 0x87, std::string_view("\x7f\x00\x00\x01", 4));  // [7] iPAddress
  if (looks_like_hostname(cn)) der_append(body, 0x82, cn);
  std::vector<unsigned char> seq{0x30, static_cast<unsigned char>(body.size())};
  seq.insert(seq.end(), body.begin(), body.end());
  return seq;
}

std::string validity_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

// X.509 names use ',' and '=' as syntax: keep the CN to a safe character set.
std::string sanitize_cn(std::string_view cn) {
  std::string out;
  for (char ch : cn)
    if (ch != ',' && ch != '=' && ch != '\\' && ch != '+' && ch != '"' && ch >= 0x20) out += ch;
  if (out.empty()) out = "localhost";
  return out.substr(0, 64);
}

}  // namespace

Result<void, std::string> generate_self_signed(const std::string& cert_path,
                                               const std::string& key_path,
                                               const std::string& common_name) {
  Crypto c;
  static const char kPers[] = "mailbridge-selfsigned";
  int rc = mbedtls_ctr_drbg_seed(&c.drbg, mbedtls_entropy_func, &c.entropy,
                                 reinterpret_cast<const unsigned char*>(kPers), sizeof kPers - 1);
  if (rc != 0) return mb::unexpected(fail("seeding the random generator", rc));
  rc = mbedtls_pk_setup(&c.key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
  if (rc == 0)
    rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(c.key),
                             mbedtls_ctr_drbg_random, &c.drbg);
  if (rc != 0) return mb::unexpected(fail("generating the P-256 key", rc));

  unsigned char serial_bytes[16];
  rc = mbedtls_ctr_drbg_random(&c.drbg, serial_bytes, sizeof serial_bytes);
  serial_bytes[0] &= 0x7f;  // positive (RFC 5280 §4.1.2.2)
  serial_bytes[0] |= 0x01;
  if (rc == 0) rc = mbedtls_mpi_read_binary(&c.serial, serial_bytes, sizeof serial_bytes);
  if (rc != 0) return mb::unexpected(fail("serial number", rc));

  std::string subject = "CN=" + sanitize_cn(common_name) + ",O=mailbridge";
  std::time_t now = std::time(nullptr);
  std::string not_before = validity_time(now - 3600);  // tolerate small clock skew
  std::string not_after = validity_time(now + 10L * 365 * 24 * 3600 + 3 * 24 * 3600);
  std::vector<unsigned char> san = subject_alt_names(common_name);

  mbedtls_x509write_crt_set_version(&c.crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&c.crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&c.crt, &c.key);
  mbedtls_x509write_crt_set_issuer_key(&c.crt, &c.key);
  if ((rc = mbedtls_x509write_crt_set_subject_name(&c.crt, subject.c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_issuer_name(&c.crt, subject.c_str())) != 0)
    return mb::unexpected(fail("subject name", rc));
  if ((rc = mbedtls_x509write_crt_set_serial(&c.crt, &c.serial)) != 0 ||
      (rc = mbedtls_x509write_crt_set_validity(&c.crt, not_before.c_str(), not_after.c_str())) != 0 ||
      (rc = mbedtls_x509write_crt_set_basic_constraints(&c.crt, 1, 0)) != 0 ||
      (rc = mbedtls_x509write_crt_set_subject_key_identifier(&c.crt)) != 0 ||
      (rc = mbedtls_x509write_crt_set_authority_key_identifier(&c.crt)) != 0 ||
      (rc = mbedtls_x509write_crt_set_extension(
           &c.crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
           san.data(), san.size())) != 0)
    return mb::unexpected(fail("certificate fields", rc));

  std::vector<unsigned char> pem(8192);
  rc = mbedtls_x509write_crt_pem(&c.crt, pem.data(), pem.size(), mbedtls_ctr_drbg_random, &c.drbg);
  if (rc != 0) return mb::unexpected(fail("signing the certificate", rc));
  std::string cert_pem(reinterpret_cast<const char*>(pem.data()));

  std::fill(pem.begin(), pem.end(), 0);
  rc = mbedtls_pk_write_key_pem(&c.key, pem.data(), pem.size());
  if (rc != 0) return mb::unexpected(fail("encoding the key", rc));
  std::string key_pem(reinterpret_cast<const char*>(pem.data()));
  std::fill(pem.begin(), pem.end(), 0);

  if (auto r = write_file_atomic(key_path, key_pem, 0600); !r)
    return mb::unexpected("self-signed certificate: " + r.error());
  std::fill(key_pem.begin(), key_pem.end(), '\0');
  if (auto r = write_file_atomic(cert_path, cert_pem, 0644); !r)
    return mb::unexpected("self-signed certificate: " + r.error());
  return {};
}

}  // namespace mb::net
