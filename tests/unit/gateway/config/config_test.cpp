// Tests for gateway/config: every error class names its key; render -> parse round trip.
#include "gateway/config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace mb::config {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kMinimal = R"(
[listen]
imap = ["127.0.0.1:143"]
[auth]
passwd_file = "/etc/mailbridge/users"
[store]
path = "/srv/mail/%u/Maildir"
)";

std::string parse_error(std::string_view text) {
  auto r = parse_config(text, "test.toml");
  EXPECT_FALSE(r.has_value()) << "expected an error for:\n" << text;
  return r ? std::string() : r.error();
}

std::string with(std::string_view extra) { return std::string(kMinimal) + std::string(extra); }

TEST(ConfigTest, MinimalHasDefaults) {
  auto r = parse_config(kMinimal, "test.toml");
  ASSERT_TRUE(r) << r.error();
  const Config& c = *r;
  ASSERT_EQ(c.listen.imap.size(), 1u);
  EXPECT_EQ(c.listen.imap[0].host, "127.0.0.1");
  EXPECT_EQ(c.listen.imap[0].port, 143);
  EXPECT_TRUE(c.listen.pop3.empty());
  EXPECT_FALSE(c.tls.enabled());
  EXPECT_EQ(c.auth.plaintext, PlaintextPolicy::loopback);
  EXPECT_EQ(c.auth.failure_delay_ms, 1000u);
  EXPECT_EQ(c.store.driver, StoreDriver::maildir);
  EXPECT_EQ(c.store.separator, '/');
  EXPECT_TRUE(c.store.fsync);
  EXPECT_FALSE(c.store.fsync_flags);
  EXPECT_EQ(c.store.special_use.sent, (std::vector<std::string>{"Sent", "Sent Messages"}));
  EXPECT_EQ(c.pop3.seen_on_retr, SeenOnRetr::immediate);
  EXPECT_EQ(c.pop3.delete_mode, DeleteMode::expunge);
  EXPECT_EQ(c.pop3.uidl_format, "%08Xu%08Xv");
  EXPECT_FALSE(c.pop3.lock_session);
  EXPECT_EQ(c.imap.max_literal, 64u * 1024 * 1024);
  EXPECT_EQ(c.imap.max_line, 64u * 1024);
  EXPECT_EQ(c.imap.idle_timeout_s, 1800u);
  EXPECT_EQ(c.log.level, mb::log::Level::info);
  EXPECT_EQ(c.log.format, mb::log::Format::text);
}

TEST(ConfigTest, FullFileLoads) {
  auto r = load_config(std::string(MB_TEST_DATA_DIR) + "/config/full.toml");
  ASSERT_TRUE(r) << r.error();
  const Config& c = *r;
  ASSERT_EQ(c.listen.imap.size(), 2u);
  EXPECT_TRUE(c.listen.imap[1].ipv6);
  EXPECT_EQ(c.listen.imap[1].host, "::1");
  EXPECT_EQ(c.listen.imap[1].to_string(), "[::1]:143");
  EXPECT_EQ(c.listen.pop3s[0].host, "::");
  EXPECT_EQ(c.listen.metrics[0].port, 9100);
  EXPECT_EQ(c.tls.key, "/etc/mailbridge/key.pem");
  EXPECT_EQ(c.auth.plaintext, PlaintextPolicy::never);
  EXPECT_EQ(c.auth.failure_delay_max_ms, 8000u);
  EXPECT_EQ(c.store.separator, '.');
  EXPECT_FALSE(c.store.fsync);
  EXPECT_TRUE(c.store.fsync_flags);
  EXPECT_EQ(c.store.special_use.sent, std::vector<std::string>{"Sent Items"});
  EXPECT_EQ(c.store.special_use.drafts, std::vector<std::string>{"Drafts"});
  EXPECT_EQ(c.pop3.seen_on_retr, SeenOnRetr::quit);
  EXPECT_EQ(c.pop3.delete_mode, DeleteMode::keyword);
  EXPECT_TRUE(c.pop3.lock_session);
  EXPECT_EQ(c.pop3.login_delay_s, 300u);
  EXPECT_EQ(c.pop3.expire_days, std::optional<std::uint32_t>(30));
  EXPECT_EQ(c.imap.max_literal, 32u * 1024 * 1024);
  EXPECT_EQ(c.imap.idle_timeout_s, 3600u);
  EXPECT_EQ(c.limits.max_connections, 500u);
  EXPECT_EQ(c.limits.output_buffer_max, 8u * 1024 * 1024);
  EXPECT_EQ(c.log.level, mb::log::Level::debug);
  EXPECT_EQ(c.log.format, mb::log::Format::json);
}

TEST(ConfigTest, MissingFileNamesIt) {
  auto r = load_config("/nonexistent/mailbridge.toml");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("/nonexistent/mailbridge.toml: cannot open"));
}

TEST(ConfigTest, SyntaxErrorGivesLineAndColumn) {
  const std::string e = parse_error("[listen]\nimap = [\"127.0.0.1:143\"\n[auth]\n");
  EXPECT_THAT(e, HasSubstr("test.toml:"));
  EXPECT_THAT(e, HasSubstr("TOML syntax error"));
  EXPECT_THAT(e, ::testing::MatchesRegex("test\\.toml:[0-9]+:[0-9]+: .*"));
}

TEST(ConfigTest, UnknownTable) {
  EXPECT_THAT(parse_error(with("[smtp]\nport = 25\n")), HasSubstr("test.toml:8:2: smtp: unknown table"));
}

TEST(ConfigTest, UnknownKeyInEachTable) {
  EXPECT_THAT(parse_error(with("[pop3]\ndelete_mod = \"flag\"\n")),
              HasSubstr("test.toml:9:1: pop3.delete_mod: unknown key"));
  EXPECT_THAT(parse_error(with("[log]\nlevle = \"info\"\n")), HasSubstr("log.levle: unknown key"));
  EXPECT_THAT(parse_error(with("[store.special_use]\nspam = [\"x\"]\n")),
              HasSubstr("store.special_use.spam: unknown key"));
  EXPECT_THAT(parse_error(std::string(kMinimal) + "[listen.x]\n"), HasSubstr("listen.x: unknown key"));
}

TEST(ConfigTest, TableExpected) {
  EXPECT_THAT(parse_error(std::string("log = \"info\"\n") + std::string(kMinimal)),
              HasSubstr("log: expected a table [log], got a string"));
}

TEST(ConfigTest, EnumErrorsListChoices) {
  EXPECT_THAT(parse_error(with("[pop3]\ndelete_mode = \"erase\"\n")),
              HasSubstr("pop3.delete_mode: expected one of \"expunge\", \"flag\", \"keyword\" (got \"erase\")"));
  EXPECT_THAT(parse_error(with("[pop3]\nseen_on_retr = 1\n")),
              HasSubstr("pop3.seen_on_retr: expected one of \"immediate\", \"quit\", \"never\" (got an integer)"));
  EXPECT_THAT(parse_error(with("[auth]\n")), HasSubstr("cannot redefine existing table 'auth'"));
  EXPECT_THAT(parse_error(with("[log]\nlevel = \"trace\"\n")), HasSubstr("log.level: expected one of"));
  EXPECT_THAT(parse_error(with("[log]\nformat = \"xml\"\n")), HasSubstr("log.format: expected one of"));
}

TEST(ConfigTest, PlaintextPolicy) {
  auto r = parse_config(std::string(R"(
[listen]
imap = ["127.0.0.1:143"]
[auth]
passwd_file = "/u"
plaintext = "sometimes"
[store]
path = "/m/%u"
)"), "test.toml");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), HasSubstr("test.toml:6:13: auth.plaintext: expected one of \"never\", \"loopback\", \"always\""));
}

TEST(ConfigTest, ListenErrors) {
  auto bad = [](std::string_view value) {
    return parse_error(std::string("[listen]\nimap = ") + std::string(value) +
                       "\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m/%u\"\n");
  };
  EXPECT_THAT(bad("\"127.0.0.1:143\""), HasSubstr("listen.imap: expected a list of host:port strings"));
  EXPECT_THAT(bad("[143]"), HasSubstr("listen.imap: expected a list of host:port strings"));
  EXPECT_THAT(bad("[\"127.0.0.1\"]"), HasSubstr("listen.imap: item 0 \"127.0.0.1\": missing \":port\""));
  EXPECT_THAT(bad("[\"127.0.0.1:99999\"]"), HasSubstr("listen.imap: item 0 \"127.0.0.1:99999\": \"99999\" is not a port number"));
  EXPECT_THAT(bad("[\"localhost:143\"]"), HasSubstr("\"localhost\" is not an IPv4 address"));
  EXPECT_THAT(bad("[\"::1:143\"]"), HasSubstr("IPv6 addresses are written \"[addr]:port\""));
  EXPECT_THAT(bad("[\"[::1]143\"]"), HasSubstr("IPv6 addresses are written"));
  EXPECT_THAT(bad("[\"[zz]:143\"]"), HasSubstr("\"zz\" is not an IPv6 address"));
  EXPECT_THAT(bad("[\"127.0.0.1:143\", \"127.0.0.1:x\"]"), HasSubstr("listen.imap: item 1"));
}

TEST(ConfigTest, ListenDuplicatesAndNone) {
  auto e = parse_error(R"(
[listen]
imap = ["127.0.0.1:143"]
pop3 = ["127.0.0.1:143"]
[auth]
passwd_file = "/u"
[store]
path = "/m/%u"
)");
  EXPECT_THAT(e, HasSubstr("listen.pop3: 127.0.0.1:143 is already used by listen.imap"));
  e = parse_error("[listen]\nmetrics = [\"127.0.0.1:9100\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n");
  EXPECT_THAT(e, HasSubstr("listen: no listener configured"));
  // Port 0 (ephemeral) may repeat.
  auto ok = parse_config("[listen]\nimap = [\"127.0.0.1:0\"]\npop3 = [\"127.0.0.1:0\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n", "t");
  EXPECT_TRUE(ok) << ok.error();
}

TEST(ConfigTest, TlsRequiredForImplicitTls) {
  auto e = parse_error(R"(
[listen]
imaps = ["0.0.0.0:993"]
pop3s = ["0.0.0.0:995"]
[auth]
passwd_file = "/u"
[store]
path = "/m/%u"
)");
  EXPECT_THAT(e, HasSubstr("tls.cert: required because listen.imaps is set"));
  EXPECT_THAT(e, HasSubstr("tls.cert: required because listen.pop3s is set"));
  EXPECT_THAT(parse_error(with("[tls]\ncert = \"/c.pem\"\n")),
              HasSubstr("tls.key: tls.cert and tls.key must be set together"));
  EXPECT_THAT(parse_error(with("[tls]\ncert = \"\"\nkey = \"/k\"\n")), HasSubstr("tls.cert: must not be empty"));
}

TEST(ConfigTest, PlaintextNeverNeedsTls) {
  EXPECT_THAT(parse_error(R"(
[listen]
imap = ["127.0.0.1:143"]
[auth]
passwd_file = "/u"
plaintext = "never"
[store]
path = "/m/%u"
)"),
              HasSubstr("auth.plaintext: \"never\" without [tls] would let no client log in"));
}

TEST(ConfigTest, RequiredKeys) {
  const std::string e = parse_error("[listen]\nimap = [\"127.0.0.1:143\"]\n");
  EXPECT_THAT(e, HasSubstr("test.toml: auth.passwd_file: required key is missing"));
  EXPECT_THAT(e, HasSubstr("test.toml: store.path: required key is missing"));
}

TEST(ConfigTest, StoreDriverNotSupportedYet) {
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n";
  EXPECT_THAT(parse_error(base + "driver = \"mbox\"\n"),
              HasSubstr("store.driver: \"mbox\" is not supported yet (only \"maildir\")"));
  EXPECT_THAT(parse_error(base + "driver = \"pop3\"\n"),
              HasSubstr("store.driver: \"pop3\" is not supported yet"));
  EXPECT_THAT(parse_error(base + "driver = \"imap\"\n"),
              HasSubstr("store.driver: expected one of \"maildir\", \"mbox\", \"pop3\" (got \"imap\")"));
}

TEST(ConfigTest, StorePathEscapes) {
  auto path = [](std::string_view p) {
    return parse_error(std::string("[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"") +
                       std::string(p) + "\"\n");
  };
  EXPECT_THAT(path("/srv/%x/Maildir"), HasSubstr("store.path: bad %-escape \"%x\""));
  EXPECT_THAT(path("/srv/%U/Maildir"), HasSubstr("store.path: bad %-escape \"%U\""));
  EXPECT_THAT(path("/srv/mail%"), HasSubstr("store.path: ends with a lone '%'"));
  EXPECT_THAT(path(""), HasSubstr("store.path: must not be empty"));
}

TEST(ConfigTest, StoreSeparatorAndSpecialUse) {
  EXPECT_THAT(parse_error(with("[store.special_use]\nsent = \"Sent\"\n")),
              HasSubstr("store.special_use.sent: expected a list of non-empty strings"));
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n";
  EXPECT_THAT(parse_error(base + "separator = \"\\\\\"\n"), HasSubstr("store.separator: expected one of \"/\", \".\""));
  EXPECT_THAT(parse_error(base + "fsync = \"yes\"\n"), HasSubstr("store.fsync: expected true or false, got a string"));
}

TEST(ConfigTest, UidlFormat) {
  EXPECT_EQ(check_uidl_format("%08Xu%08Xv"), "");
  EXPECT_EQ(check_uidl_format("%u-%v"), "");
  EXPECT_EQ(check_uidl_format("%xu.%010v"), "");
  EXPECT_EQ(check_uidl_format("x%%%u"), "");
  EXPECT_THAT(check_uidl_format("%08Xv"), HasSubstr("must contain %u"));
  EXPECT_EQ(check_uidl_format("%08X{uid}%08X{uidvalidity}"), "");  // Dovecot 2.3 long names
  // Dovecot's other variables: refused with the reason, never silently different UIDLs.
  EXPECT_THAT(check_uidl_format("%m"), HasSubstr("%m (Dovecot: MD5 of the message headers, mbox only) is not supported"));
  EXPECT_THAT(check_uidl_format("%{md5}"), HasSubstr("%{md5} (Dovecot: MD5"));
  EXPECT_THAT(check_uidl_format("%f"), HasSubstr("%f (Dovecot: the Maildir file name / GUID) is not supported"));
  EXPECT_THAT(check_uidl_format("%{filename}"), HasSubstr("%{filename} (Dovecot: the Maildir file name"));
  EXPECT_THAT(check_uidl_format("%g"), HasSubstr("%g (Dovecot: the Maildir file name / GUID) is not supported"));
  EXPECT_THAT(check_uidl_format("%u%{guid}"), HasSubstr("%{guid} (Dovecot"));
  EXPECT_THAT(check_uidl_format("%08Xq"), HasSubstr("at offset 0: unknown variable %q (supported: %u"));
  EXPECT_THAT(check_uidl_format("%{uid"), HasSubstr("unterminated"));
  EXPECT_THAT(check_uidl_format("%8Xu"), HasSubstr("needs a leading 0"));
  EXPECT_THAT(check_uidl_format("%021u"), HasSubstr("larger than 20"));
  EXPECT_THAT(check_uidl_format("%08"), HasSubstr("ends inside"));
  EXPECT_THAT(check_uidl_format("a b%u"), HasSubstr("RFC 1939"));
  EXPECT_THAT(check_uidl_format(std::string(61, 'a') + "%u"), HasSubstr("exceed 70"));
  EXPECT_EQ(check_uidl_format(std::string(60, 'a') + "%u"), "");
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n[pop3]\n";
  EXPECT_THAT(parse_error(base + "uidl_format = \"%08Xz\"\n"), HasSubstr("pop3.uidl_format: at offset 0: unknown variable %z"));
  EXPECT_THAT(parse_error(base + "uidl_format = \"%f\"\n"), HasSubstr("pop3.uidl_format: at offset 0: %f"));
  EXPECT_THAT(parse_error(base + "uidl_format = 5\n"), HasSubstr("pop3.uidl_format: expected a string, got an integer"));
}

TEST(ConfigTest, Pop3ExpireDays) {
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n[pop3]\n";
  auto never = parse_config(base, "t.toml");
  ASSERT_TRUE(never) << never.error();
  EXPECT_FALSE(never->pop3.expire_days.has_value());  // default: EXPIRE NEVER
  auto explicit_never = parse_config(base + "expire_days = \"never\"\n", "t.toml");
  ASSERT_TRUE(explicit_never) << explicit_never.error();
  EXPECT_FALSE(explicit_never->pop3.expire_days.has_value());
  auto zero = parse_config(base + "expire_days = 0\n", "t.toml");
  ASSERT_TRUE(zero) << zero.error();
  EXPECT_EQ(zero->pop3.expire_days, std::optional<std::uint32_t>(0));
  auto days = parse_config(base + "expire_days = 30\n", "t.toml");
  ASSERT_TRUE(days) << days.error();
  EXPECT_EQ(days->pop3.expire_days, std::optional<std::uint32_t>(30));
  EXPECT_THAT(parse_error(base + "expire_days = \"soon\"\n"),
              HasSubstr("pop3.expire_days: expected \"never\" or an integer between 0 and 36500, got a string"));
  EXPECT_THAT(parse_error(base + "expire_days = 36501\n"),
              HasSubstr("pop3.expire_days: expected an integer between 0 and 36500, got 36501"));
  EXPECT_THAT(parse_error(base + "expire_days = -1\n"), HasSubstr("pop3.expire_days"));
  // The rendered form parses back to the same value.
  for (auto* c : {&*never, &*zero, &*days}) {
    auto again = parse_config(render_config_toml(*c), "r.toml");
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(again->pop3.expire_days, c->pop3.expire_days);
  }
}

TEST(ConfigTest, Pop3IdleTimeout) {
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n[pop3]\n";
  auto def = parse_config(base, "t.toml");
  ASSERT_TRUE(def) << def.error();
  EXPECT_EQ(def->pop3.idle_timeout_s, 600u);
  auto longer = parse_config(base + "idle_timeout_s = 1200\n", "t.toml");
  ASSERT_TRUE(longer) << longer.error();
  EXPECT_EQ(longer->pop3.idle_timeout_s, 1200u);
  // RFC 1939 §3: the autologout timer is at least 10 minutes.
  EXPECT_THAT(parse_error(base + "idle_timeout_s = 599\n"),
              HasSubstr("pop3.idle_timeout_s: expected an integer between 600 and 86400, got 599"));
  EXPECT_THAT(parse_error(base + "idle_timeout_s = 86401\n"), HasSubstr("pop3.idle_timeout_s"));
  auto again = parse_config(render_config_toml(*longer), "r.toml");
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->pop3.idle_timeout_s, 1200u);
}

TEST(ConfigTest, IntegerRanges) {
  const std::string base = "[listen]\nimap = [\"127.0.0.1:143\"]\n[auth]\npasswd_file = \"/u\"\n[store]\npath = \"/m\"\n";
  EXPECT_THAT(parse_error(base + "[imap]\nidle_timeout_s = 60\n"),
              HasSubstr("imap.idle_timeout_s: expected an integer between 1800 and 86400, got 60"));
  EXPECT_THAT(parse_error(base + "[imap]\nmax_line = 100\n"), HasSubstr("imap.max_line: expected a size between 8000"));
  EXPECT_THAT(parse_error(base + "[imap]\nmax_literal = \"12X\"\n"), HasSubstr("imap.max_literal: expected a size"));
  EXPECT_THAT(parse_error(base + "[limits]\nmax_connections = 0\n"), HasSubstr("limits.max_connections: expected an integer between 1"));
  EXPECT_THAT(parse_error(base + "[limits]\nauth_timeout_s = -5\n"), HasSubstr("limits.auth_timeout_s: expected an integer"));
  EXPECT_THAT(parse_error(base + "[limits]\nauth_timeout_s = 1.5\n"), HasSubstr("limits.auth_timeout_s: expected an integer between 1 and 3600, got a number"));
  EXPECT_THAT(parse_error(base + "[pop3]\nlock_session = 1\n"), HasSubstr("pop3.lock_session: expected true or false"));
}

TEST(ConfigTest, FailureDelayOrder) {
  const std::string e = parse_error(R"(
[listen]
imap = ["127.0.0.1:143"]
[auth]
passwd_file = "/u"
failure_delay_ms = 2000
failure_delay_max_ms = 1000
[store]
path = "/m/%u"
)");
  EXPECT_THAT(e, HasSubstr("test.toml:7:24: auth.failure_delay_max_ms: must be >= auth.failure_delay_ms (2000)"));
}

TEST(ConfigTest, ReportsAllErrors) {
  const std::string e = parse_error(with("[pop3]\ndelete_mode = \"x\"\nseen_on_retr = \"y\"\nbogus = 1\n"));
  EXPECT_THAT(e, HasSubstr("pop3.delete_mode"));
  EXPECT_THAT(e, HasSubstr("pop3.seen_on_retr"));
  EXPECT_THAT(e, HasSubstr("pop3.bogus: unknown key"));
}

TEST(ConfigTest, RenderRoundTripFull) {
  auto r = load_config(std::string(MB_TEST_DATA_DIR) + "/config/full.toml");
  ASSERT_TRUE(r) << r.error();
  const std::string text = render_config_toml(*r);
  auto back = parse_config(text, "rendered.toml");
  ASSERT_TRUE(back) << back.error() << "\n" << text;
  EXPECT_TRUE(*back == *r) << text;
}

TEST(ConfigTest, RenderRoundTripQuotesOddStrings) {
  auto r = parse_config(kMinimal, "t");
  ASSERT_TRUE(r);
  Config c = *r;
  c.auth.passwd_file = "/etc/mail \"bridge\"\\users";
  c.store.special_use.trash = {"Gel\xc3\xb6scht", "Pa\"pier"};
  auto back = parse_config(render_config_toml(c), "rendered.toml");
  ASSERT_TRUE(back) << back.error();
  EXPECT_TRUE(*back == c);
}

TEST(ConfigTest, DemoConfigRoundTripsAndMatchesContract) {
  const Config c = demo_config("/tmp/demo/");
  EXPECT_EQ(c.listen.imap.at(0).to_string(), "127.0.0.1:1143");
  EXPECT_EQ(c.listen.pop3.at(0).to_string(), "127.0.0.1:1110");
  EXPECT_EQ(c.listen.imaps.at(0).to_string(), "127.0.0.1:1993");
  EXPECT_EQ(c.listen.pop3s.at(0).to_string(), "127.0.0.1:1995");
  EXPECT_EQ(c.tls.cert, "/tmp/demo/cert.pem");
  EXPECT_EQ(c.tls.key, "/tmp/demo/key.pem");
  EXPECT_EQ(c.auth.passwd_file, "/tmp/demo/users");
  EXPECT_EQ(c.store.path, "/tmp/demo/mail/%u/Maildir");
  auto back = parse_config(render_config_toml(c), "demo.toml");
  ASSERT_TRUE(back) << back.error();
  EXPECT_TRUE(*back == c);
}

TEST(ConfigTest, RenderedFileLoadsFromDisk) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mb_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "mailbridge.toml").string();
  {
    std::ofstream out(file);
    out << render_config_toml(demo_config(dir.string()));
  }
  auto r = load_config(file);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->listen.imap.at(0).port, 1143);
}

TEST(ConfigTest, ExpandStorePath) {
  EXPECT_EQ(expand_store_path("/srv/%u/Maildir", "alice"), "/srv/alice/Maildir");
  EXPECT_EQ(expand_store_path("/srv/%d/%n", "bob@example.org"), "/srv/example.org/bob");
  EXPECT_EQ(expand_store_path("/srv/%d/%n", "bob"), "/srv//bob");
  EXPECT_EQ(expand_store_path("/srv/100%%/%u", "x"), "/srv/100%/x");
}

}  // namespace
}  // namespace mb::config

namespace mb::config {
namespace {

TEST(ConfigFilesTest, ReportsMissingFilesByKey) {
  const auto dir = std::filesystem::temp_directory_path() / ("mb_config_files_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "mail");
  Config c = demo_config(dir.string());
  auto r = check_referenced_files(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("tls.cert: " + (dir / "cert.pem").string() + ": No such file or directory"));
  EXPECT_THAT(r.error(), ::testing::HasSubstr("tls.key: "));
  EXPECT_THAT(r.error(), ::testing::HasSubstr("auth.passwd_file: "));
  EXPECT_THAT(r.error(), ::testing::Not(::testing::HasSubstr("store.path")));
  for (const char* f : {"cert.pem", "key.pem", "users"}) std::ofstream(dir / f) << "x";
  EXPECT_TRUE(check_referenced_files(c)) << check_referenced_files(c).error();
  c.store.path = (dir / "nope" / "%u").string();
  r = check_referenced_files(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("store.path: " + (dir / "nope").string()));
  c.store.path = (dir / "mail" / "%u").string();
  c.auth.passwd_file = (dir / "mail").string();
  r = check_referenced_files(c);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("auth.passwd_file: " + (dir / "mail").string() + ": not a regular file"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mb::config

namespace mb::config {
namespace {

TEST(ConfigLimitsTest, GarbageAndDeepNestingAreErrorsNotCrashes) {
  auto r = parse_config(std::string("\0\xff\xfe[[", 5), "bin.toml");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("bin.toml:"));
  r = parse_config("a = " + std::string(100000, '['), "deep.toml");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("deep.toml:1:"));
  r = parse_config("[listen]\nimap = [[\"127.0.0.1:143\"]]\n", "nested.toml");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("listen.imap: expected a list of host:port strings"));
}

TEST(ConfigLimitsTest, OversizedFileRejected) {
  const auto file = std::filesystem::temp_directory_path() / ("mb_config_big_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(file);
    out << "# " << std::string(2 * 1024 * 1024, 'x') << "\n";
  }
  auto r = load_config(file.string());
  std::filesystem::remove(file);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error(), ::testing::HasSubstr("larger than 1 MiB"));
}

}  // namespace
}  // namespace mb::config
