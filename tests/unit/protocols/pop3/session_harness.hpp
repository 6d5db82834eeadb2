// File: tests/unit/protocols/pop3/session_harness.hpp
//
// A POP3 session wired to RecordingSink, TestAuth and MemoryStorage, with a Deferred queue
// standing in for the loop. `send()` feeds input and runs completions until quiet (draining
// the modelled socket queue, which triggers on_writable() like the transport does).
#pragma once

#include <string>

#include "gateway/log/log.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session.hpp"
#include "test_support.hpp"

namespace mb::pop3::test {

struct Pop3Harness {
  Deferred q;
  RecordingSink sink;
  TestAuth auth{q};
  MemoryStorage storage{q};
  LockRegistry locks;
  Settings settings;
  Services services{auth, storage, locks};
  Deferred* loop = &q;  // the queue completions run on (the first client's, when shared)
  proto::SessionPtr session;
  bool auto_drain = true;  // the peer reads everything at once

  Pop3Harness() {
    settings.plaintext = Plaintext::always;
    log::set_level(log::Level::warn);
  }
  // A second client of the same server: same auth, store, lock registry and loop.
  explicit Pop3Harness(Pop3Harness& server)
      : settings(server.settings), services{server.auth, server.storage, server.locks}, loop(&server.q) {}

  std::shared_ptr<MemoryMailbox>& inbox(const std::string& user = "alice") {
    return static_cast<MemoryStorage&>(services.storage).inbox(user);
  }

  std::string start() {
    session = make_session(sink, settings, services);
    session->on_start();
    run();
    return sink.take();
  }
  // Runs completions until nothing is pending.
  void run() {
    for (;;) {
      bool progress = loop->run_one();
      if (auto_drain && sink.queued > 0 && !sink.closed) {
        const bool was_high = sink.queued > proto::kOutputHighWater;
        sink.queued = 0;
        if (was_high) session->on_writable();
        progress = true;
      }
      if (!progress) break;
    }
  }
  std::string send(std::string_view input) {
    session->on_data(input);
    run();
    return sink.take();
  }
  std::string login(const std::string& user = "alice", const std::string& pw = "secret") {
    send("USER " + user + "\r\n");
    return send("PASS " + pw + "\r\n");
  }
};

}  // namespace mb::pop3::test
