// File: gateway/auth/digest_scheme.cpp
#include "gateway/auth/digest_scheme.hpp"

#include <mbedtls/base64.h>
#include <mbedtls/md5.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <cstring>
#include <optional>
#include <vector>

namespace mb::auth {
namespace {

enum class Algo { md5, sha1, sha256, sha512 };

struct Spec {
  Algo algo;
  std::size_t digest_len;
  bool salted;
  DigestEncoding default_encoding;
};

std::optional<Spec> spec_of(Scheme s) {
  using E = DigestEncoding;
  switch (s) {
    case Scheme::sha1: return Spec{Algo::sha1, 20, false, E::base64};
    case Scheme::ssha: return Spec{Algo::sha1, 20, true, E::base64};
    case Scheme::sha256: return Spec{Algo::sha256, 32, false, E::base64};
    case Scheme::ssha256: return Spec{Algo::sha256, 32, true, E::base64};
    case Scheme::sha512: return Spec{Algo::sha512, 64, false, E::base64};
    case Scheme::ssha512: return Spec{Algo::sha512, 64, true, E::base64};
    case Scheme::plain_md5: return Spec{Algo::md5, 16, false, E::hex};
    case Scheme::ldap_md5: return Spec{Algo::md5, 16, false, E::base64};
    case Scheme::smd5: return Spec{Algo::md5, 16, true, E::base64};
    default: return std::nullopt;
  }
}

bool is_hex(std::string_view v) {
  for (char c : v) {
    const bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

std::optional<std::vector<unsigned char>> decode(const Spec& spec, DigestEncoding enc, std::string_view v) {
  if (enc == DigestEncoding::automatic) {
    enc = spec.default_encoding;
    if (v.size() == 2 * spec.digest_len && is_hex(v)) enc = DigestEncoding::hex;
  }
  std::vector<unsigned char> out;
  if (enc == DigestEncoding::hex) {
    if (v.size() % 2 != 0 || !is_hex(v)) return std::nullopt;
    for (std::size_t i = 0; i < v.size(); i += 2) {
      out.push_back(static_cast<unsigned char>(hex_value(v[i]) * 16 + hex_value(v[i + 1])));
    }
    return out;
  }
  out.resize(v.size());
  std::size_t len = 0;
  if (mbedtls_base64_decode(out.data(), out.size(), &len, reinterpret_cast<const unsigned char*>(v.data()),
                            v.size()) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::vector<unsigned char> digest(Algo algo, const std::string& input) {
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  std::vector<unsigned char> out;
  switch (algo) {
    case Algo::md5: out.resize(16); mbedtls_md5_ret(in, input.size(), out.data()); break;
    case Algo::sha1: out.resize(20); mbedtls_sha1_ret(in, input.size(), out.data()); break;
    case Algo::sha256: out.resize(32); mbedtls_sha256_ret(in, input.size(), out.data(), 0); break;
    case Algo::sha512: out.resize(64); mbedtls_sha512_ret(in, input.size(), out.data(), 0); break;
  }
  return out;
}

}  // namespace

bool is_digest_scheme(Scheme scheme) { return spec_of(scheme).has_value(); }

std::string check_digest_value(Scheme scheme, DigestEncoding encoding, std::string_view value) {
  const auto spec = spec_of(scheme);
  if (!spec) return "is not a digest scheme";
  const auto raw = decode(*spec, encoding, value);
  if (!raw) return "value is not valid base64/hex";
  if (spec->salted ? raw->size() <= spec->digest_len : raw->size() != spec->digest_len) {
    return "value has the wrong length for this digest";
  }
  return {};
}

bool verify_digest(Scheme scheme, DigestEncoding encoding, std::string_view value, std::string_view password) {
  const auto spec = spec_of(scheme);
  if (!spec) return false;
  const auto raw = decode(*spec, encoding, value);
  if (!raw || raw->size() < spec->digest_len) return false;
  std::string input(password);
  input.append(reinterpret_cast<const char*>(raw->data()) + spec->digest_len, raw->size() - spec->digest_len);
  const auto computed = digest(spec->algo, input);
  explicit_bzero(input.data(), input.size());
  const std::string_view expected(reinterpret_cast<const char*>(raw->data()), spec->digest_len);
  const std::string_view got(reinterpret_cast<const char*>(computed.data()), computed.size());
  return constant_time_equal(got, expected);
}

}  // namespace mb::auth
