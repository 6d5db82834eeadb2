// File: tests/unit/protocols/common/counting_events.hpp
//
// CountingEvents: a proto::SessionEvents (the metrics seam) for the IMAP and POP3 session tests
// that counts protocol_error() calls and records the protocol each named; the other events
// are ignored. Free of GoogleTest: tests assert on the fields.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "protocols/common/session_events.hpp"

namespace mb::proto::test {

class CountingEvents final : public SessionEvents {
 public:
  void session_started(std::string_view, bool) override {}
  void session_ended(std::string_view) override {}
  void tls_upgraded(std::string_view) override {}
  void login(std::string_view, std::string_view) override {}
  void command_done(std::string_view, std::string_view, std::chrono::steady_clock::duration) override {}
  void protocol_error(std::string_view protocol) override {
    ++protocol_errors;
    if (last_protocol.empty() || last_protocol == protocol) last_protocol = std::string(protocol);
    else last_protocol = "mixed";
  }

  int protocol_errors = 0;
  std::string last_protocol;  // the protocol every call named ("mixed" if they differed)
};

}  // namespace mb::proto::test
