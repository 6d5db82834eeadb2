// File: gateway/net/self_signed.hpp
//
// generate_self_signed: make a self-signed server certificate with mbedTLS (no openssl
// CLI), for `mailbridge --demo` and tests.
//
//   - Key: EC P-256. Certificate: X.509 v3, SHA-256, CN=<common_name>, valid from now for
//     10 years, subjectAltName DNS:localhost, IP:127.0.0.1 (plus DNS:<common_name> when it
//     looks like a host name), basicConstraints CA:TRUE so clients can pin it as a root.
//   - Files are PEM, each written to a temporary file in the same directory, fsync()ed,
//     then rename()d into place (a crash never leaves half a key). The key file is mode
//     0600, the certificate 0644. Existing files are replaced.
//   - Errors are one sentence naming the file or step.
#pragma once

#include <string>

#include "protocols/common/result.hpp"

namespace mb::net {

Result<void, std::string> generate_self_signed(const std::string& cert_path,
                                               const std::string& key_path,
                                               const std::string& common_name);

}  // namespace mb::net
