// File: tests/fuzz/pop3_session.cpp
//
// Fuzz target: arbitrary client bytes into a POP3 session (parser, SASL, every state, RETR
// streaming) over the in-memory store of the unit tests. Byte 0 picks the chunk size the input
// is split into and whether the session logs in first; the rest is the client's input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/unit/protocols/pop3/session_harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace mb::pop3;
  test::Pop3Harness h;
  h.settings.tls_available = true;
  h.settings.apop = (data[0] & 0x80) != 0;
  h.auth.apop = true;
  h.inbox()->add("Subject: a\r\n\r\n.one\r\ntwo\r\n");
  h.inbox()->add(std::string(70000, 'x') + "\r\n.\r\n");
  h.inbox()->add("no header end");
  h.start();
  if ((data[0] & 1) != 0) h.login();
  const std::size_t chunk = 1 + (data[0] >> 1) % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  for (std::size_t i = 0; i < input.size() && !h.sink.closed; i += chunk) {
    h.send(input.substr(i, chunk));
    if (h.sink.tls_requested && !h.sink.tls) {
      h.sink.tls = true;
      h.session->on_tls_ready();
    }
  }
  h.session->on_closed();
  h.run();
  return 0;
}
