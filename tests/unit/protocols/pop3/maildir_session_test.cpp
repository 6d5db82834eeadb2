// File: tests/unit/protocols/pop3/maildir_session_test.cpp
//
// The POP3 session over the REAL stack below it: gateway/store's Maildir backend
// (make_storage) and gateway/auth's PasswdAuthenticator on a real libuv loop, in a temp dir.
// Only the connection is replaced (RecordingSink, the I/O seam). Checks what must hold on
// disk: snapshot after rescan, \Seen in the file name, expunge/flag/keyword at QUIT only,
// nothing deleted without QUIT, UIDL from the uidlist, expunge by another session meanwhile.
#include <gtest/gtest.h>
#include <uv.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "gateway/auth/passwd_authenticator.hpp"
#include "gateway/log/log.hpp"
#include "gateway/store/maildir/wire_reader.hpp"
#include "gateway/store/registry.hpp"
#include "protocols/pop3/lock_registry.hpp"
#include "protocols/pop3/session.hpp"
#include "protocols/pop3/session_impl.hpp"
#include "test_support.hpp"

namespace mb::pop3::test {
namespace {

namespace fs = std::filesystem;

class MaildirSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_level(log::Level::warn);
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    std::string templ = (fs::temp_directory_path() / "mb-pop3-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    maildir_ = root_ / "mail" / "alice" / "Maildir";
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(maildir_ / sub);
    std::ofstream(root_ / "users") << "alice:{PLAIN}secret\nbob:{PLAIN}other\n";
    store::StoreSettings ss;
    ss.path_template = (root_ / "mail" / "%u" / "Maildir").string();
    ss.fsync = false;
    auto storage = store::make_storage(ss, &loop_);
    ASSERT_TRUE(storage) << storage.error();
    storage_ = std::move(*storage);
    auth::AuthSettings as;
    as.failure_delay_ms = 0;
    as.failure_delay_max_ms = 0;
    auth_ = std::make_unique<auth::PasswdAuthenticator>(&loop_, (root_ / "users").string(), as);
    ASSERT_TRUE(auth_->reload());
    services_ = std::make_unique<Services>(Services{*auth_, *storage_, locks_});
    settings_.plaintext = Plaintext::always;
  }

  void TearDown() override {
    for (auto& c : clients_) {
      if (c->session) c->session->on_closed();
    }
    clients_.clear();
    auth_.reset();
    storage_.reset();
    // Every mailbox is gone: its handles close and in-flight operations finish.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    fs::remove_all(root_);
  }

  struct Client {
    RecordingSink sink;
    proto::SessionPtr session;
  };

  Client& connect() {
    clients_.push_back(std::make_unique<Client>());
    Client& c = *clients_.back();
    c.session = make_session(c.sink, settings_, *services_);
    c.session->on_start();
    c.sink.take();
    return c;
  }

  // Feeds `input` and runs the loop until the output ends with `until` (bounded by a
  // watchdog so that a bug fails the test instead of hanging it).
  std::string exchange(Client& c, std::string_view input, std::string_view until) {
    c.session->on_data(input);
    std::string out;
    uv_timer_t watchdog;
    bool expired = false;
    uv_timer_init(&loop_, &watchdog);
    watchdog.data = &expired;
    uv_timer_start(&watchdog, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; }, 20000, 0);
    for (;;) {
      out += c.sink.take();
      if (out.ends_with(until) || expired || c.sink.closed) break;
      if (c.sink.queued > proto::kOutputHighWater) {
        c.sink.queued = 0;
        c.session->on_writable();
        continue;
      }
      c.sink.queued = 0;
      uv_run(&loop_, UV_RUN_ONCE);
    }
    uv_timer_stop(&watchdog);
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
    EXPECT_FALSE(expired) << "no answer ending in " << until << "; got " << out;
    return out;
  }

  std::string login(Client& c) {
    return exchange(c, "USER alice\r\nPASS secret\r\n", "Logged in.\r\n");
  }

  void deliver(const std::string& name, const std::string& content, const std::string& info = "") {
    const fs::path dir = info.empty() ? maildir_ / "new" : maildir_ / "cur";
    std::ofstream(dir / (name + info), std::ios::binary) << content;
  }

  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const char* sub : {"new", "cur"}) {
      for (const auto& e : fs::directory_iterator(maildir_ / sub)) out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  uv_loop_t loop_{};
  fs::path root_;
  fs::path maildir_;
  std::unique_ptr<store::Storage> storage_;
  std::unique_ptr<auth::PasswdAuthenticator> auth_;
  LockRegistry locks_;
  Settings settings_;
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<Client>> clients_;
};

const std::string kA = "Subject: a\n\n.dot\nline\n";  // LF on disk: CRLF on the wire
const std::string kB = "Subject: b\r\n\r\nbody b\r\n";

TEST_F(MaildirSessionTest, LoginSnapshotRetrAndSeen) {
  deliver("1000.a.host", kA);
  deliver("1001.b.host", kB);
  Client& c = connect();
  EXPECT_EQ(login(c), "+OK\r\n+OK Logged in.\r\n");
  EXPECT_EQ(exchange(c, "STAT\r\n", "\r\n"), "+OK 2 48\r\n");
  EXPECT_EQ(exchange(c, "LIST\r\n", ".\r\n"), "+OK 2 messages:\r\n1 26\r\n2 22\r\n.\r\n");
  EXPECT_EQ(exchange(c, "RETR 1\r\n", ".\r\n"), "+OK 26 octets\r\nSubject: a\r\n\r\n..dot\r\nline\r\n.\r\n");
  EXPECT_EQ(exchange(c, "TOP 2 0\r\n", ".\r\n"), "+OK\r\nSubject: b\r\n\r\n.\r\n");
  const std::string uidl = exchange(c, "UIDL\r\n", ".\r\n");
  EXPECT_EQ(exchange(c, "QUIT\r\n", "\r\n"), "+OK Logging out.\r\n");
  // \Seen reached the file name of message 1 only (RETR, not TOP).
  auto f = files();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_NE(f[0].find(":2,S"), std::string::npos) << f[0];
  EXPECT_EQ(f[1].find('S', f[1].find(":2,")), std::string::npos) << f[1];
  // UIDLs stay the same in a new session (the flag change must not alter them).
  Client& d = connect();
  login(d);
  EXPECT_EQ(exchange(d, "UIDL\r\n", ".\r\n"), uidl);
  EXPECT_EQ(uidl.size(), std::string("+OK\r\n1 0000000100000000\r\n2 0000000200000000\r\n.\r\n").size());
}

TEST_F(MaildirSessionTest, QuitExpungesOnlyMarkedAndDropDeletesNothing) {
  deliver("1000.a.host", kA);
  deliver("1001.b.host", kB);
  Client& c = connect();
  login(c);
  exchange(c, "DELE 1\r\nDELE 2\r\n", "deleted.\r\n+OK Marked to be deleted.\r\n");
  c.session->on_closed();  // dropped without QUIT
  EXPECT_EQ(files().size(), 2u);
  Client& d = connect();
  login(d);
  EXPECT_EQ(exchange(d, "DELE 2\r\nQUIT\r\n", "Logging out.\r\n"), "+OK Marked to be deleted.\r\n+OK Logging out.\r\n");
  auto f = files();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rfind("1000.a.host", 0), 0u);
}

TEST_F(MaildirSessionTest, KeywordModeKeepsFileAndHidesFromPop3) {
  settings_.delete_mode = DeleteMode::keyword;
  deliver("1000.a.host", kA);
  deliver("1001.b.host", kB);
  Client& c = connect();
  login(c);
  exchange(c, "DELE 1\r\nQUIT\r\n", "Logging out.\r\n");
  EXPECT_EQ(files().size(), 2u);
  Client& d = connect();
  login(d);
  EXPECT_EQ(exchange(d, "LIST\r\n", ".\r\n"), "+OK 1 messages:\r\n1 22\r\n.\r\n");
}

TEST_F(MaildirSessionTest, FlagModeSetsDeleted) {
  settings_.delete_mode = DeleteMode::flag;
  deliver("1000.a.host", kA);
  Client& c = connect();
  login(c);
  exchange(c, "DELE 1\r\nQUIT\r\n", "Logging out.\r\n");
  auto f = files();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].find('T', f[0].find(":2,")), std::string::npos) << f[0];  // Maildir 'T' = \Deleted
}

TEST_F(MaildirSessionTest, ExpungedByAnotherSessionMeanwhile) {
  deliver("1000.a.host", kA);
  deliver("1001.b.host", kB);
  Client& c = connect();
  login(c);
  // Another session (think IMAP) expunges message 1 through the shared mailbox state.
  Client& other = connect();
  login(other);
  exchange(other, "DELE 1\r\nQUIT\r\n", "Logging out.\r\n");
  EXPECT_EQ(exchange(c, "RETR 1\r\n", "\r\n"), "-ERR Message was expunged by another session.\r\n");
  EXPECT_EQ(exchange(c, "DELE 1\r\n", "\r\n"), "-ERR Message was expunged by another session.\r\n");
  EXPECT_EQ(exchange(c, "RETR 2\r\n", ".\r\n"), "+OK 22 octets\r\nSubject: b\r\n\r\nbody b\r\n.\r\n");
  EXPECT_EQ(exchange(c, "QUIT\r\n", "\r\n"), "+OK Logging out.\r\n");
}

TEST_F(MaildirSessionTest, NewMailAppearsAtNextLogin) {
  deliver("1000.a.host", kA);
  Client& c = connect();
  login(c);
  deliver("1001.b.host", kB);
  EXPECT_EQ(exchange(c, "STAT\r\n", "\r\n"), "+OK 1 26\r\n");
  Client& d = connect();
  login(d);
  EXPECT_EQ(exchange(d, "STAT\r\n", "\r\n"), "+OK 2 48\r\n");
}

TEST_F(MaildirSessionTest, WrongPasswordAndLargeMessage) {
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 600 * 1024) big += ".line of the big message\r\n";
  deliver("1000.big.host", big);
  Client& c = connect();
  EXPECT_EQ(exchange(c, "USER alice\r\nPASS nope\r\n", "failed.\r\n"), "+OK\r\n-ERR [AUTH] Authentication failed.\r\n");
  login(c);
  const std::string out = exchange(c, "RETR 1\r\n", "\r\n.\r\n");
  EXPECT_EQ(out.size(), std::string("+OK  octets\r\n").size() + std::to_string(big.size()).size() +
                            big.size() + (big.size() - 16) / 26 + 3);
}

// A large LF-stored message whose rest is read on the thread pool (kPoolChunk reads after
// the first kNowChunk from the page cache), with dot lines right at the edges of those reads
// (first octet of a chunk, last octet of one, CR | LF split across two) and between them: the
// same bytes whether the rest streams from the pool, from the page cache on the loop, or
// everything comes from the pool (uncached fallback).
TEST_F(MaildirSessionTest, LargeRetrSameBytesOnEveryReadPath) {
  std::string stored = "Subject: big\n\n";
  std::mt19937 rng(5);
  while (stored.size() < 1300 * 1024) {
    stored.append(1 + rng() % 90, static_cast<char>('a' + rng() % 26));
    stored += '\n';
  }
  // The wire form inserts a CR before each LF: a line start at wire offset w is at stored
  // offset w - (LFs before w). Dots go at the line start at or right after every multiple
  // of 64 KB (kReadChunk; kNowChunk and kNowChunk + n * kPoolChunk are such multiples), one
  // octet before, and one and two after.
  std::string wire;
  for (char ch : stored) {
    if (ch == '\n') wire += '\r';
    wire += ch;
  }
  for (std::size_t edge = kReadChunk; edge < wire.size(); edge += kReadChunk) {
    for (std::size_t at : {edge - 1, edge, edge + 1, edge + 2}) {
      const std::size_t lf = wire.find('\n', at - 1);
      if (lf == std::string::npos || lf + 1 >= wire.size()) continue;
      const auto lfs_before = static_cast<std::size_t>(
          std::count(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(lf + 1), '\n'));
      wire[lf + 1] = '.';  // a letter before: lengths do not change
      stored[lf + 1 - lfs_before] = '.';
    }
  }
  std::string stuffed;
  bool line_start = true;
  for (char ch : wire) {
    if (line_start && ch == '.') stuffed += '.';
    stuffed += ch;
    line_start = ch == '\n';
  }
  deliver("1000.big.host", stored);
  const std::string expect = "+OK " + std::to_string(wire.size()) + " octets\r\n" + stuffed + ".\r\n";
  struct Path {
    bool pool_stream;
    bool nowait;
  };
  for (Path path : {Path{true, true}, Path{false, true}, Path{true, false}}) {
    set_retr_pool_streaming(path.pool_stream);
    store::maildir::set_read_nowait_enabled(path.nowait);
    Client& c = connect();
    login(c);
    c.sink.model_queue = true;  // back-pressure: the session waits for on_writable()
    const std::string out = exchange(c, "RETR 1\r\n", "\r\n.\r\n");
    EXPECT_EQ(out.size(), expect.size()) << path.pool_stream << path.nowait;
    EXPECT_TRUE(out == expect) << "pool " << path.pool_stream << " nowait " << path.nowait;
    EXPECT_EQ(exchange(c, "LIST 1\r\n", "\r\n"), "+OK 1 " + std::to_string(wire.size()) + "\r\n");
    exchange(c, "QUIT\r\n", "\r\n");
  }
  set_retr_pool_streaming(false);  // the default
  store::maildir::set_read_nowait_enabled(true);
}

// Large RETRs go to the transport's body pump (SessionSink::offload_body) when it takes
// them. Wherever the pump stops (all sent, a full socket after any number of octets, a
// source that met an uncached block), the client gets the bytes the loop alone sends:
// stuffed dot lines, a last line without a line end terminated, messages over the per-job
// limit handed over in parts, and pipelined commands answered after the terminator.
TEST_F(MaildirSessionTest, LargeRetrThroughTheBodyPumpSameBytesWhereverItStops) {
  std::mt19937 rng(7);
  auto stored_message = [&](std::size_t size, bool final_lf) {
    std::string m = "Subject: pump\n\n";
    while (m.size() < size) {
      if (rng() % 4 == 0) m += '.';
      m.append(1 + rng() % 90, static_cast<char>('a' + rng() % 26));
      m += '\n';
    }
    if (!final_lf) m += "no final line end";
    return m;
  };
  auto expected = [](const std::string& stored) {
    std::string wire;
    for (char ch : stored) {
      if (ch == '\n') wire += '\r';
      wire += ch;
    }
    std::string out = "+OK " + std::to_string(wire.size()) + " octets\r\n";
    bool line_start = true;
    for (char ch : wire) {
      if (line_start && ch == '.') out += '.';
      out += ch;
      line_start = ch == '\n';
    }
    if (!line_start) out += "\r\n";
    return out + ".\r\n";
  };
  const std::vector<std::string> stored = {stored_message(80 * 1024, true), stored_message(2500 * 1024, false),
                                           stored_message(300 * 1024, false), stored_message(5 * 1024, true)};
  for (std::size_t i = 0; i < stored.size(); ++i) deliver(std::to_string(1000 + i) + ".pump.host", stored[i]);

  struct Plan {
    std::uint64_t max;
    bool stopped;
  };
  const std::vector<std::vector<Plan>> plans = {
      {{UINT64_MAX, false}},
      {{50'001, false}, {1, false}, {123'457, false}},
      {{70'000, true}, {UINT64_MAX, false}, {0, true}},
  };
  for (std::size_t p = 0; p < plans.size(); ++p) {
    Client& c = connect();
    login(c);
    c.sink.offload = true;
    std::string input;
    std::string want;
    for (std::size_t i = 0; i < stored.size(); ++i) {
      input += "RETR " + std::to_string(i + 1) + "\r\n";
      want += expected(stored[i]);
    }
    c.session->on_data(input + "NOOP\r\n");  // pipelined
    want += "+OK\r\n";
    std::string out;
    std::size_t step = 0;
    for (int i = 0; i < 20000 && out.size() < want.size(); ++i) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      out += c.sink.take();
      const Plan& plan = plans[p][step++ % plans[p].size()];
      if (c.sink.pump(plan.max, plan.stopped)) out += c.sink.take();
      if (c.sink.queued > 0) {
        c.sink.queued = 0;
        c.session->on_writable();
      }
    }
    EXPECT_GE(c.sink.offloads, 3u) << "plan " << p;
    EXPECT_EQ(out.size(), want.size()) << "plan " << p;
    EXPECT_TRUE(out == want) << "plan " << p << ": bytes differ";
    exchange(c, "QUIT\r\n", "\r\n");
  }
}

}  // namespace
}  // namespace mb::pop3::test
