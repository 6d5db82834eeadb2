// File: gateway/demo.hpp
//
// `mailbridge --demo DIR`: the embedded default (DESIGN.md "Contracts"). On first run it
// creates under DIR a config (mailbridge.toml), a passwd-file with the user `demo` (password
// `demo`, stored {SHA512-CRYPT}), a Maildir with a welcome message, and a self-signed
// certificate made with mbedTLS. Later runs reuse what exists (a missing piece is made again),
// so the demo's mail and UIDs survive restarts.
#pragma once

#include <string>

#include "protocols/common/result.hpp"

namespace mb::app {

// Prepares DIR and returns the path of its config file, or an error naming the file and step.
mb::Result<std::string, std::string> prepare_demo(const std::string& dir);

}  // namespace mb::app
