// File: gateway/app.hpp
//
// The running gateway: turns a validated Config into the objects of one process (loop,
// authenticator, store, IMAP and POP3 listeners, metrics exporter) and runs the loop until
// SIGTERM/SIGINT. SIGHUP reloads the passwd-file and the TLS certificate without dropping
// open connections. This is wiring only: no protocol or storage logic lives here.
#pragma once

#include <string>

#include "gateway/config/config.hpp"

namespace mb::app {

// Runs in the foreground. Returns the process exit code: 0 after a graceful shutdown, 1 when
// start-up fails (the reason is logged: unreadable certificate, passwd-file, busy port...).
int run(const config::Config& config, const std::string& config_path);

}  // namespace mb::app
