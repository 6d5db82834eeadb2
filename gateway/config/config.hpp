// File: gateway/config/config.hpp
//
// The one TOML configuration file, parsed into typed, validated structs with defaults.
//
//   auto cfg = mb::config::load_config("/etc/mailbridge/mailbridge.toml");
//   if (!cfg) { std::cerr << cfg.error() << '\n'; return 1; }   // --check-config does the same
//
// Contract (shared/DESIGN.md "Contracts"): the keys listen.{imap,imaps,pop3,pop3s},
// tls.{cert,key}, auth.{passwd_file,plaintext}, store.{driver,path}, pop3.{seen_on_retr,
// delete_mode,uidl_format} keep their names and meaning; everything else here is an extension.
//
// Errors: load_config()/parse_config() never throw. The error string holds one line per
// problem found (all problems are reported, not only the first), each of the form
//   "<file>:<line>:<column>: <dotted.key>: <what is wrong>"
// (line/column omitted when the problem is a missing key). Unknown tables and unknown keys
// are errors, so a typo never silently falls back to a default. TOML syntax errors give
// file:line:column and the parser's description.
//
// Nothing here touches the network or the file system beyond reading the one file: paths
// (cert, passwd_file, store.path) are checked for shape, not existence, so a config can be
// validated on a build host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/log/log.hpp"
#include "protocols/common/result.hpp"

namespace mb::config {

// One listening address. `host` is an IP literal without brackets ("127.0.0.1", "::1",
// "0.0.0.0", "::"); port 0 asks the kernel for an ephemeral port (useful in tests).
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  bool ipv6 = false;

  // "127.0.0.1:143" or "[::1]:143" (the form accepted in the file).
  std::string to_string() const;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// [listen]: an empty list means that listener is off.
struct ListenConfig {
  std::vector<ListenAddress> imap;
  std::vector<ListenAddress> imaps;    // implicit TLS (RFC 8314)
  std::vector<ListenAddress> pop3;
  std::vector<ListenAddress> pop3s;    // implicit TLS (RFC 8314)
  std::vector<ListenAddress> metrics;  // plain HTTP, Prometheus text format
  friend bool operator==(const ListenConfig&, const ListenConfig&) = default;
};

// [tls]: both empty = no TLS (no imaps/pop3s allowed, STARTTLS/STLS not offered).
struct TlsConfig {
  std::string cert;  // PEM certificate chain
  std::string key;   // PEM private key
  bool enabled() const { return !cert.empty(); }
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// Where plaintext passwords (LOGIN, USER/PASS, AUTH PLAIN/LOGIN) are accepted without TLS.
enum class PlaintextPolicy { never, loopback, always };

struct AuthConfig {
  std::string passwd_file;                            // required
  PlaintextPolicy plaintext = PlaintextPolicy::loopback;
  std::uint32_t failure_delay_ms = 1000;              // first failure from an address
  std::uint32_t failure_delay_max_ms = 15000;         // cap of the doubling
  friend bool operator==(const AuthConfig&, const AuthConfig&) = default;
};

enum class StoreDriver { maildir, mbox, pop3 };

// [store.special_use]: folder names (first one that exists wins; the first is created when
// none exists) marked with the RFC 6154 attributes \Sent \Drafts \Trash \Junk \Archive.
struct SpecialUseConfig {
  std::vector<std::string> sent{"Sent", "Sent Messages"};
  std::vector<std::string> drafts{"Drafts"};
  std::vector<std::string> trash{"Trash", "Deleted Messages"};
  std::vector<std::string> junk{"Junk", "Spam"};
  std::vector<std::string> archive{"Archive"};
  friend bool operator==(const SpecialUseConfig&, const SpecialUseConfig&) = default;
};

struct StoreConfig {
  StoreDriver driver = StoreDriver::maildir;  // only maildir is accepted for now
  std::string path;                           // required; %u user, %n local part, %d domain, %%
  char separator = '/';                       // IMAP hierarchy separator presented: '/' or '.'
  bool fsync = true;                          // fsync new messages and uidlists (Maildir)
  bool fsync_flags = false;                   // also fsync cur/ after flag renames
  SpecialUseConfig special_use;
  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

enum class SeenOnRetr { immediate, quit, never };
enum class DeleteMode { expunge, flag, keyword };

struct Pop3Config {
  SeenOnRetr seen_on_retr = SeenOnRetr::immediate;
  DeleteMode delete_mode = DeleteMode::expunge;
  std::string uidl_format = "%08Xu%08Xv";  // Dovecot's default; see check_uidl_format()
  bool lock_session = false;       // one POP3 session per maildrop at a time (RFC 1939 §8)
  std::uint32_t login_delay_s = 0; // advertised as LOGIN-DELAY (RFC 2449 §6.5); 0 = none
  // RFC 2449 §6.7 EXPIRE, advertised and enforced at QUIT (README "POP3"): nullopt = NEVER
  // (TOML "never", the default); 0 = messages RETR'd in the session are deleted at QUIT;
  // n = messages retrieved (in the session, or \Seen) and delivered at least n days ago are
  // deleted at QUIT (per delete_mode).
  std::optional<std::uint32_t> expire_days;
  // RFC 1939 §3 autologout timer once logged in (TRANSACTION): at least 10 minutes.
  std::uint32_t idle_timeout_s = 600;
  friend bool operator==(const Pop3Config&, const Pop3Config&) = default;
};

struct ImapConfig {
  std::uint64_t max_literal = 64ull * 1024 * 1024;  // largest APPEND literal, octets
  std::uint32_t max_line = 64 * 1024;               // longest command line, octets
  std::uint32_t idle_timeout_s = 1800;              // >= 30 min (RFC 3501 §5.4)
  friend bool operator==(const ImapConfig&, const ImapConfig&) = default;
};

struct LimitsConfig {
  std::uint32_t max_connections = 1000;              // whole process
  std::uint32_t auth_timeout_s = 60;                 // idle timeout before login
  std::uint64_t output_buffer_max = 4 * 1024 * 1024; // per connection, octets
  friend bool operator==(const LimitsConfig&, const LimitsConfig&) = default;
};

struct LogConfig {
  mb::log::Level level = mb::log::Level::info;
  mb::log::Format format = mb::log::Format::text;
  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct Config {
  ListenConfig listen;
  TlsConfig tls;
  AuthConfig auth;
  StoreConfig store;
  Pop3Config pop3;
  ImapConfig imap;
  LimitsConfig limits;
  LogConfig log;
  friend bool operator==(const Config&, const Config&) = default;
};

// Reads and validates `path`. Error: see the file comment (starts with `path`).
mb::Result<Config, std::string> load_config(const std::string& path);

// Same on text already in memory; `source_name` stands in for the file name in errors.
mb::Result<Config, std::string> parse_config(std::string_view text, const std::string& source_name);

// For --check-config: the files the config names exist and are readable by this process
// (tls.cert, tls.key, auth.passwd_file) and the fixed part of store.path (up to the first
// %-escape) has an existing directory. Blocking. Error: one "<key>: <path>: <why>" line per
// problem. Contents are not parsed here (auth::load_passwd_file, the TLS loader do that).
mb::Result<void, std::string> check_referenced_files(const Config& config);

// A complete TOML document (every key, with comments) that parse_config() reads back into an
// equal Config. Used by --demo and the Docker entrypoint.
std::string render_config_toml(const Config& config);

// The --demo configuration: listens on 127.0.0.1 (imap 1143, pop3 1110, imaps 1993,
// pop3s 1995); cert "<dir>/cert.pem", key "<dir>/key.pem", users "<dir>/users", mail
// "<dir>/mail/%u/Maildir", plaintext "always" (loopback only anyway). Creates nothing.
Config demo_config(const std::string& dir);

// store.path expansion: %u -> user, %n -> part before '@' (the whole user without '@'),
// %d -> part after '@' (empty without '@'), %% -> '%'. The pattern must have passed
// validation (load_config does it); unknown escapes are copied verbatim.
std::string expand_store_path(std::string_view pattern, std::string_view user);

// Checks a uidl_format as the POP3 server compiles it: escapes are %[0width][X|x]u (UID),
// ...v (UIDVALIDITY) or %%, %u must appear, at most 70 characters result (RFC 1939 §7).
// Returns an error description, or "" when valid.
std::string check_uidl_format(std::string_view format);

// Stable names used in the file and in logs ("loopback", "maildir", "expunge", ...).
std::string_view to_string(PlaintextPolicy v);
std::string_view to_string(StoreDriver v);
std::string_view to_string(SeenOnRetr v);
std::string_view to_string(DeleteMode v);

}  // namespace mb::config
