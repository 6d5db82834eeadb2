// File: tests/unit/protocols/imap/session/session_fixture.hpp
//
// Test fixture for IMAP session suites: a recording SessionSink (the I/O seam), the real
// Maildir store in a temp directory, the real PasswdAuthenticator over a temp passwd-file,
// and a libuv loop that the helpers run until a tagged response arrives.
//
//   ImapSessionTest: Client c = connect();  c.login();
//   std::string r = c.cmd("a1 SELECT INBOX");   // everything sent up to "a1 OK|NO|BAD ..."
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "gateway/auth/passwd_authenticator.hpp"
#include "gateway/store/registry.hpp"
#include "gateway/uv/loop.hpp"
#include "protocols/imap/session.hpp"
#include "tests/unit/protocols/common/recording_sink.hpp"

namespace mb::imap::test {

// The recording SessionSink shared with the POP3 tests; a send after close() is counted there
// and checked in TearDown.
using RecordingSink = proto::test::RecordingSink;

class ImapSessionTest;

// One client connection: a sink plus its session.
struct Client {
  ImapSessionTest* fixture = nullptr;
  std::unique_ptr<RecordingSink> sink = std::make_unique<RecordingSink>();
  proto::SessionPtr session;

  // Feeds `line` + CRLF and runs the loop until a line starting with "<tag> " arrives (the
  // tag is the first word of `line`). Returns all output since the last call.
  std::string cmd(std::string_view line);
  // Feeds raw bytes and runs the loop until `until` appears in the output (or the session
  // settles when `until` is empty). Returns all output since the last call.
  std::string feed(std::string_view bytes, std::string_view until = {});
  // Feeds raw bytes (a whole command, literals included) and waits for "<tag> ".
  std::string raw(std::string_view bytes, std::string_view tag);
  // Runs the loop until `until` is in the output; returns the output.
  std::string wait_for(std::string_view until);
  void login(std::string_view user = "alice", std::string_view password = "secret");
};

class ImapSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mb_imap_session_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    passwd_ = root_ / "users";
    std::ofstream(passwd_) << "alice:{PLAIN}secret\nbob:{PLAIN}hunter2\n";
    auth::AuthSettings as;
    as.failure_delay_ms = 1;
    as.failure_delay_max_ms = 1;
    auth_ = std::make_unique<auth::PasswdAuthenticator>(loop_.get(), passwd_.string(), as);
    ASSERT_TRUE(auth_->reload());
    store::StoreSettings ss;
    ss.path_template = (root_ / "mail" / "%u" / "Maildir").string();
    ss.fsync = false;
    ss.special_use_names[store::SpecialUse::sent] = {"Sent"};
    ss.special_use_names[store::SpecialUse::trash] = {"Trash"};
    auto storage = store::make_storage(ss, loop_.get());
    ASSERT_TRUE(storage) << storage.error();
    storage_ = std::move(*storage);
  }

  void TearDown() override {
    for (const auto& c : clients_) EXPECT_EQ(c->sink->sends_after_close, 0u) << "send after close";
    clients_.clear();
    for (int i = 0; i < 100; ++i) loop_.run(UV_RUN_NOWAIT);
    storage_.reset();
    auth_.reset();
    // Let pending store work (cache persistence) finish and its mailboxes close their
    // handles before the Loop destructor closes whatever is left.
    loop_.run(UV_RUN_DEFAULT);
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  Client& connect(Settings settings = {}) {
    settings_.push_back(std::make_unique<Settings>(std::move(settings)));
    auto c = std::make_unique<Client>();
    c->fixture = this;
    services_ = std::make_unique<Services>(Services{*auth_, *storage_});
    c->session = make_session(*c->sink, *settings_.back(), *services_);
    c->session->on_start();
    clients_.push_back(std::move(c));
    return *clients_.back();
  }

  // Drops a message into the user's INBOX new/ as an MDA would.
  void deliver(std::string_view user, std::string_view message, std::string_view name = "") {
    auto dir = root_ / "mail" / std::string(user) / "Maildir" / "new";
    std::filesystem::create_directories(dir);
    static int n = 0;
    std::string file = name.empty() ? "1700000000.M" + std::to_string(++n) + "P1.test"
                                    : std::string(name);
    std::ofstream(dir / file, std::ios::binary) << message;
  }

 public:
  // Runs the loop until pred() or a generous safety cap (a hang is a failure, not a wait).
  template <class Pred>
  bool run_until(Pred pred) {
    for (int i = 0; i < 20000; ++i) {
      if (pred()) return true;
      loop_.run(UV_RUN_NOWAIT);
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return pred();
  }
  void settle() {
    for (int i = 0; i < 50; ++i) {
      loop_.run(UV_RUN_NOWAIT);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

 protected:
  uv::Loop loop_;
  std::filesystem::path root_;
  std::filesystem::path passwd_;
  std::unique_ptr<auth::PasswdAuthenticator> auth_;
  std::unique_ptr<store::Storage> storage_;
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<Settings>> settings_;
  std::vector<std::unique_ptr<Client>> clients_;
};

inline bool has_tagged(const std::string& out, std::string_view tag) {
  std::string needle = std::string(tag) + " ";
  if (out.compare(0, needle.size(), needle) == 0) return true;
  return out.find("\r\n" + needle) != std::string::npos &&
         out.find("\r\n", out.find("\r\n" + needle) + 2) != std::string::npos;
}

inline std::string Client::cmd(std::string_view line) {
  std::string tag(line.substr(0, line.find(' ')));
  session->on_data(std::string(line) + "\r\n");
  fixture->run_until([&] { return has_tagged(sink->output, tag); });
  return sink->take();
}

inline std::string Client::feed(std::string_view bytes, std::string_view until) {
  session->on_data(bytes);
  if (until.empty()) {
    fixture->settle();
  } else {
    fixture->run_until([&] { return sink->output.find(until) != std::string::npos; });
  }
  return sink->take();
}

inline std::string Client::raw(std::string_view bytes, std::string_view tag) {
  session->on_data(bytes);
  fixture->run_until([&] { return has_tagged(sink->output, tag); });
  return sink->take();
}

inline std::string Client::wait_for(std::string_view until) {
  fixture->run_until([&] { return sink->output.find(until) != std::string::npos; });
  return sink->take();
}

inline void Client::login(std::string_view user, std::string_view password) {
  sink->take();
  std::string r = cmd("L1 LOGIN " + std::string(user) + " " + std::string(password));
  ASSERT_NE(r.find("L1 OK"), std::string::npos) << r;
}

}  // namespace mb::imap::test
