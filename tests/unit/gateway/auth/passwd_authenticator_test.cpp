// Tests for gateway/auth/passwd_authenticator over a real libuv loop and thread pool, with
// passwd-files in a temp directory. Delays are asserted on computed values, not wall time.
#include "gateway/auth/passwd_authenticator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/auth/password_hash.hpp"
#include "gateway/uv/loop.hpp"

namespace mb::auth {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mb_auth_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, std::string_view text) const {
    const std::string file = path_ + "/" + name;
    std::ofstream out(file, std::ios::trunc);
    out << text;
    return file;
  }

 private:
  std::string path_;
};

AuthSettings fast_settings() {
  AuthSettings s;
  s.failure_delay_ms = 1;
  s.failure_delay_max_ms = 4;
  return s;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(loop_.ok()); }

  std::unique_ptr<PasswdAuthenticator> make(const std::string& file, AuthSettings s = fast_settings()) {
    return std::make_unique<PasswdAuthenticator>(loop_.get(), file, s);
  }
  std::string data_users() const { return std::string(MB_TEST_DATA_DIR) + "/auth/users"; }

  // Runs one verify to completion.
  AuthOutcome check(PasswdAuthenticator& a, std::string user, std::string pw,
                    std::string peer = "192.0.2.10") {
    std::optional<AuthOutcome> got;
    bool returned = false;
    a.verify(std::move(user), std::move(pw), std::move(peer), [&](AuthOutcome o) {
      EXPECT_TRUE(returned) << "callback ran inside verify()";
      EXPECT_FALSE(got) << "callback ran twice";
      got = std::move(o);
    });
    returned = true;
    loop_.run();
    EXPECT_TRUE(got);
    return got.value_or(AuthOutcome{AuthStatus::temp_failure, "<none>", {}});
  }

  AuthOutcome check_apop(PasswdAuthenticator& a, std::string user, std::string ts, std::string digest) {
    std::optional<AuthOutcome> got;
    bool returned = false;
    a.verify_apop(std::move(user), std::move(ts), std::move(digest), "192.0.2.20", [&](AuthOutcome o) {
      EXPECT_TRUE(returned);
      got = std::move(o);
    });
    returned = true;
    loop_.run();
    EXPECT_TRUE(got);
    return got.value_or(AuthOutcome{AuthStatus::temp_failure, "<none>", {}});
  }

  mb::uv::Loop loop_;
};

TEST_F(AuthenticatorTest, EveryDoveadmSchemeLogsIn) {
  auto a = make(data_users());
  ASSERT_TRUE(a->reload());
  EXPECT_EQ(a->user_count(), 8u);
  for (const char* user : {"alice", "bob@example.org", "carol", "dave", "erin", "Frank", "grace"}) {
    SCOPED_TRACE(user);
    const AuthOutcome o = check(*a, user, "secret");
    EXPECT_EQ(o.status, AuthStatus::ok);
    EXPECT_EQ(o.user, user);
  }
  EXPECT_EQ(check(*a, "alice", "secret").home, "/home/alice");
  EXPECT_EQ(check(*a, "carol", "secret").home, "/srv/carol");
}

TEST_F(AuthenticatorTest, CaseInsensitiveLoginReportsCanonicalName) {
  auto a = make(data_users());
  ASSERT_TRUE(a->reload());
  const AuthOutcome o = check(*a, "FRANK", "secret");
  EXPECT_EQ(o.status, AuthStatus::ok);
  EXPECT_EQ(o.user, "Frank");
  EXPECT_EQ(check(*a, "ALICE", "secret").user, "alice");
}

TEST_F(AuthenticatorTest, WrongPasswordUnknownUserLockedAndInvalidNames) {
  auto a = make(data_users());
  ASSERT_TRUE(a->reload());
  EXPECT_EQ(check(*a, "alice", "Secret").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "dave", "wrong").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "erin", "secre").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "nobody", "secret").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "heidi", "").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "../alice", "secret").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, std::string("alice\0", 6), "secret").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, std::string(300, 'a'), "secret").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "", "secret").status, AuthStatus::bad_credentials);
  const AuthOutcome o = check(*a, "alice", "wrong");
  EXPECT_TRUE(o.user.empty());
  EXPECT_TRUE(o.home.empty());
}

TEST_F(AuthenticatorTest, FailureDelayGrowsPerAddressAndResetsOnSuccess) {
  AuthSettings s;
  s.failure_delay_ms = 2;
  s.failure_delay_max_ms = 16;
  auto a = make(data_users(), s);
  ASSERT_TRUE(a->reload());
  const std::string peer = "198.51.100.7";
  EXPECT_EQ(a->next_failure_delay_ms(peer), 2u);
  std::vector<std::uint64_t> next;
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(check(*a, "erin", "bad", peer).status, AuthStatus::bad_credentials);
    EXPECT_EQ(a->failure_count(peer), static_cast<std::uint32_t>(i));
    next.push_back(a->next_failure_delay_ms(peer));
  }
  EXPECT_EQ(next, (std::vector<std::uint64_t>{4, 8, 16, 16, 16}));
  // An unknown user counts like a wrong password.
  check(*a, "nobody", "bad", peer);
  EXPECT_EQ(a->failure_count(peer), 6u);
  // Another address is not slowed.
  EXPECT_EQ(a->next_failure_delay_ms("198.51.100.8"), 2u);
  EXPECT_EQ(check(*a, "erin", "secret", peer).status, AuthStatus::ok);
  EXPECT_EQ(a->failure_count(peer), 0u);
  EXPECT_EQ(a->next_failure_delay_ms(peer), 2u);
}

TEST_F(AuthenticatorTest, FailureIsHeldBackAndDroppedIfAuthenticatorGoes) {
  AuthSettings s;
  s.failure_delay_ms = 60000;  // never reached: the authenticator is destroyed first
  s.failure_delay_max_ms = 60000;
  auto a = make(data_users(), s);
  ASSERT_TRUE(a->reload());
  bool called = false;
  a->verify("erin", "bad", "203.0.113.5", [&](AuthOutcome) { called = true; });
  while (a->failure_count("203.0.113.5") == 0) uv_run(loop_.get(), UV_RUN_ONCE);
  // The check is done and counted, but the answer waits for its timer.
  EXPECT_FALSE(called);
  EXPECT_EQ(a->pending(), 1u);
  a.reset();
  loop_.run();  // returns at once: no timer keeps the loop alive
  EXPECT_FALSE(called);
}

TEST_F(AuthenticatorTest, SuccessIsNotHeldBack) {
  AuthSettings s;
  s.failure_delay_ms = 60000;
  s.failure_delay_max_ms = 60000;
  auto a = make(data_users(), s);
  ASSERT_TRUE(a->reload());
  // A prior failure from another address does not delay this one; loop.run() would take a
  // minute if the success waited behind a timer.
  bool other = false;
  a->verify("erin", "bad", "203.0.113.6", [&](AuthOutcome) { other = true; });
  bool ok = false;
  a->verify("erin", "secret", "203.0.113.7", [&](AuthOutcome o) { ok = o.status == AuthStatus::ok; });
  while (!ok) uv_run(loop_.get(), UV_RUN_ONCE);
  EXPECT_FALSE(other);
  a.reset();
  loop_.run();
}

TEST_F(AuthenticatorTest, ReloadPicksUpChangesAndKeepsOldTableOnError) {
  TempDir dir;
  const std::string file = dir.write("users", "alice:{PLAIN}one\n");
  auto a = make(file);
  ASSERT_TRUE(a->reload());
  EXPECT_EQ(check(*a, "alice", "one").status, AuthStatus::ok);
  EXPECT_EQ(check(*a, "bob", "two").status, AuthStatus::bad_credentials);

  dir.write("users", "alice:{PLAIN}two\nbob:" + *hash_password("two", "SHA256-CRYPT") + "\n");
  ASSERT_TRUE(a->reload());
  EXPECT_EQ(a->user_count(), 2u);
  EXPECT_EQ(check(*a, "alice", "one").status, AuthStatus::bad_credentials);
  EXPECT_EQ(check(*a, "alice", "two").status, AuthStatus::ok);
  EXPECT_EQ(check(*a, "bob", "two").status, AuthStatus::ok);

  dir.write("users", "alice:{PLAIN}three\nbob:{NOPE}x\n");
  auto r = a->reload();
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr(file + ":2: user bob: unsupported password scheme {NOPE}"));
  EXPECT_EQ(check(*a, "alice", "two").status, AuthStatus::ok);
  EXPECT_EQ(check(*a, "alice", "three").status, AuthStatus::bad_credentials);

  std::filesystem::remove(file);
  EXPECT_FALSE(a->reload());
  EXPECT_EQ(check(*a, "bob", "two").status, AuthStatus::ok);
}

TEST_F(AuthenticatorTest, ReloadDuringChecksUsesStartSnapshot) {
  TempDir dir;
  const std::string file = dir.write("users", "alice:{PLAIN}one\n");
  auto a = make(file);
  ASSERT_TRUE(a->reload());
  std::vector<AuthStatus> got;
  for (int i = 0; i < 6; ++i) {
    a->verify("alice", "one", "192.0.2.1", [&](AuthOutcome o) { got.push_back(o.status); });
  }
  dir.write("users", "alice:{PLAIN}two\n");
  ASSERT_TRUE(a->reload());
  loop_.run();
  ASSERT_EQ(got.size(), 6u);
  // Two checks had started (max_parallel) with the old table; the queued ones use the new.
  EXPECT_EQ(std::count(got.begin(), got.end(), AuthStatus::ok), 2);
}

TEST_F(AuthenticatorTest, TempFailureWithoutPasswdFile) {
  auto a = make("/nonexistent/users");
  auto r = a->reload();
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("/nonexistent/users: cannot open"));
  EXPECT_EQ(check(*a, "alice", "secret").status, AuthStatus::temp_failure);
  EXPECT_FALSE(a->apop_available());
}

TEST_F(AuthenticatorTest, ManyChecksInFlight) {
  TempDir dir;
  std::string text;
  constexpr int kUsers = 8;
  for (int i = 0; i < kUsers; ++i) {
    const char* scheme = i % 3 == 0 ? "SHA512-CRYPT" : i % 3 == 1 ? "SHA256-CRYPT" : "PLAIN";
    text += "u" + std::to_string(i) + ":" + *hash_password("pw" + std::to_string(i), scheme) + "\n";
  }
  AuthSettings s = fast_settings();
  s.max_parallel = 3;
  auto a = make(dir.write("users", text), s);
  ASSERT_TRUE(a->reload());
  constexpr int kChecks = 64;
  std::vector<int> calls(kChecks, 0);
  std::vector<AuthStatus> status(kChecks, AuthStatus::temp_failure);
  for (int i = 0; i < kChecks; ++i) {
    const int u = i % kUsers;
    const bool good = (i / kUsers) % 2 == 0;
    a->verify("u" + std::to_string(u), good ? "pw" + std::to_string(u) : "nope",
              "10.0." + std::to_string(i % 5) + ".1", [&, i](AuthOutcome o) {
                ++calls[i];
                status[i] = o.status;
              });
  }
  EXPECT_EQ(a->pending(), static_cast<std::size_t>(kChecks));
  loop_.run();
  EXPECT_EQ(a->pending(), 0u);
  for (int i = 0; i < kChecks; ++i) {
    const bool good = (i / kUsers) % 2 == 0;
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_EQ(status[i], good ? AuthStatus::ok : AuthStatus::bad_credentials) << i;
  }
}

TEST_F(AuthenticatorTest, QueueLimitGivesTempFailure) {
  AuthSettings s = fast_settings();
  s.max_parallel = 1;
  s.max_queued = 2;
  auto a = make(data_users(), s);
  ASSERT_TRUE(a->reload());
  int ok = 0, temp = 0;
  for (int i = 0; i < 10; ++i) {
    a->verify("erin", "secret", "192.0.2.1", [&](AuthOutcome o) {
      if (o.status == AuthStatus::ok) ++ok;
      if (o.status == AuthStatus::temp_failure) ++temp;
    });
  }
  loop_.run();
  EXPECT_EQ(ok, 3);  // one running + two queued
  EXPECT_EQ(temp, 7);
}

TEST_F(AuthenticatorTest, Apop) {
  auto a = make(data_users());
  ASSERT_TRUE(a->reload());
  EXPECT_TRUE(a->apop_available());
  const std::string ts = "<1896.697170952@dbc.mtview.ca.us>";
  const std::string good = apop_digest_hex(ts, "secret");
  const AuthOutcome o = check_apop(*a, "erin", ts, good);
  EXPECT_EQ(o.status, AuthStatus::ok);
  EXPECT_EQ(o.user, "erin");
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(check_apop(*a, "frank", ts, upper).status, AuthStatus::ok);
  EXPECT_EQ(check_apop(*a, "erin", ts, apop_digest_hex(ts, "wrong")).status, AuthStatus::bad_credentials);
  EXPECT_EQ(check_apop(*a, "erin", "<other@ts>", good).status, AuthStatus::bad_credentials);
  // Hashed users cannot use APOP even with the right secret.
  EXPECT_EQ(check_apop(*a, "alice", ts, good).status, AuthStatus::bad_credentials);
  EXPECT_EQ(check_apop(*a, "nobody", ts, good).status, AuthStatus::bad_credentials);
}

TEST_F(AuthenticatorTest, ApopUnavailableWithoutPlainUsers) {
  TempDir dir;
  auto a = make(dir.write("users", "alice:" + *hash_password("x", "SHA256-CRYPT") + "\n"));
  ASSERT_TRUE(a->reload());
  EXPECT_FALSE(a->apop_available());
}

}  // namespace
}  // namespace mb::auth

namespace mb::auth {
namespace {

TEST_F(AuthenticatorTest, ReloadAsyncSwapsTableOnTheLoop) {
  TempDir dir;
  const std::string file = dir.write("users", "alice:{PLAIN}one\n");
  auto a = make(file);
  ASSERT_TRUE(a->reload());
  dir.write("users", "alice:{PLAIN}two\n");
  std::optional<mb::Result<void, std::string>> got;
  a->reload_async([&](mb::Result<void, std::string> r) { got = std::move(r); });
  EXPECT_FALSE(got) << "completes later, on the loop";
  // A check started now still uses the table in place when it starts.
  EXPECT_EQ(check(*a, "alice", "one").status, AuthStatus::ok);  // runs the loop
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got);
  EXPECT_EQ(check(*a, "alice", "two").status, AuthStatus::ok);
  EXPECT_EQ(check(*a, "alice", "one").status, AuthStatus::bad_credentials);

  dir.write("users", "alice:{PLAIN}three\nbroken\n");
  got.reset();
  a->reload_async([&](mb::Result<void, std::string> r) { got = std::move(r); });
  loop_.run();
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_THAT(got->error(), HasSubstr(file + ":2: expected user:{SCHEME}hash"));
  EXPECT_EQ(check(*a, "alice", "two").status, AuthStatus::ok);
}

TEST_F(AuthenticatorTest, ReloadAsyncDroppedWhenAuthenticatorGoes) {
  TempDir dir;
  auto a = make(dir.write("users", "alice:{PLAIN}one\n"));
  bool called = false;
  a->reload_async([&](mb::Result<void, std::string>) { called = true; });
  a.reset();
  loop_.run();
  EXPECT_FALSE(called);
}

TEST_F(AuthenticatorTest, OverlappingReloadsNeverGoBackwards) {
  TempDir dir;
  const std::string file = dir.write("users", "alice:{PLAIN}one\n");
  auto a = make(file);
  int done = 0;
  a->reload_async([&](mb::Result<void, std::string> r) { EXPECT_TRUE(r); ++done; });
  ASSERT_TRUE(a->reload());  // newer generation applied first
  dir.write("users", "alice:{PLAIN}two\n");
  loop_.run();
  EXPECT_EQ(done, 1);
  // Whatever the pool read for the older reload (before or after the rewrite), the newer
  // synchronous reload's table stays in use.
  EXPECT_EQ(check(*a, "alice", "one").status, AuthStatus::ok);
  EXPECT_EQ(check(*a, "alice", "two").status, AuthStatus::bad_credentials);
}

}  // namespace
}  // namespace mb::auth

namespace mb::auth {
namespace {

TEST_F(AuthenticatorTest, CallbackMayStartAnotherCheck) {
  // A client retrying from inside the failure callback (as a session does on the next
  // command): re-entering verify() from the delay timer's callback is safe.
  auto a = make(data_users());
  ASSERT_TRUE(a->reload());
  std::vector<AuthStatus> got;
  std::function<void(AuthOutcome)> retry = [&](AuthOutcome o) {
    got.push_back(o.status);
    if (got.size() < 4) a->verify("erin", got.size() < 3 ? "bad" : "secret", "192.0.2.99", retry);
  };
  a->verify("erin", "bad", "192.0.2.99", retry);
  a->verify("erin", "bad", "192.0.2.98", [&](AuthOutcome o) { got.push_back(o.status); });
  loop_.run();
  ASSERT_EQ(got.size(), 4u);  // 192.0.2.99: bad, bad, ok; 192.0.2.98: bad
  EXPECT_EQ(std::count(got.begin(), got.end(), AuthStatus::ok), 1);
  EXPECT_EQ(a->failure_count("192.0.2.99"), 0u);
  EXPECT_EQ(a->failure_count("192.0.2.98"), 1u);
}

}  // namespace
}  // namespace mb::auth
