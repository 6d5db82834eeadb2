// File: gateway/config/config.cpp
//
// TOML -> Config. One read_<section>() per table; each walks the keys actually present so
// that an unknown key is reported where it is, then cross-field checks run on the result.
// toml++ reports syntax errors by exception; this is start-up code, so we catch it here and
// the public functions never throw.
#include "gateway/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gateway/config/config_reader.hpp"
#include "protocols/pop3/uidl_format.hpp"

namespace mb::config {
namespace {

using namespace detail;

void read_listen(Reader& r, const toml::table& t, ListenConfig& out) {
  for (auto&& [k, v] : t) {
    const std::string key = fmt::format("listen.{}", k.str());
    if (k == "imap") get_addresses(r, v, key, out.imap);
    else if (k == "imaps") get_addresses(r, v, key, out.imaps);
    else if (k == "pop3") get_addresses(r, v, key, out.pop3);
    else if (k == "pop3s") get_addresses(r, v, key, out.pop3s);
    else if (k == "metrics") get_addresses(r, v, key, out.metrics);
    else unknown_key(r, k, "listen");
  }
}

void read_tls(Reader& r, const toml::table& t, TlsConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "cert") get_path(r, v, "tls.cert", out.cert);
    else if (k == "key") get_path(r, v, "tls.key", out.key);
    else unknown_key(r, k, "tls");
  }
}

constexpr std::pair<std::string_view, PlaintextPolicy> kPlaintext[] = {
    {"never", PlaintextPolicy::never},
    {"loopback", PlaintextPolicy::loopback},
    {"always", PlaintextPolicy::always}};
constexpr std::pair<std::string_view, StoreDriver> kDrivers[] = {
    {"maildir", StoreDriver::maildir}, {"mbox", StoreDriver::mbox}, {"pop3", StoreDriver::pop3}};
constexpr std::pair<std::string_view, SeenOnRetr> kSeen[] = {{"immediate", SeenOnRetr::immediate},
                                                             {"quit", SeenOnRetr::quit},
                                                             {"never", SeenOnRetr::never}};
constexpr std::pair<std::string_view, DeleteMode> kDelete[] = {{"expunge", DeleteMode::expunge},
                                                               {"flag", DeleteMode::flag},
                                                               {"keyword", DeleteMode::keyword}};
constexpr std::pair<std::string_view, char> kSeparators[] = {{"/", '/'}, {".", '.'}};
constexpr std::pair<std::string_view, mb::log::Level> kLevels[] = {
    {"debug", mb::log::Level::debug},
    {"info", mb::log::Level::info},
    {"warn", mb::log::Level::warn},
    {"error", mb::log::Level::error}};
constexpr std::pair<std::string_view, mb::log::Format> kFormats[] = {
    {"text", mb::log::Format::text}, {"json", mb::log::Format::json}};

template <class E, std::size_t N>
std::string_view name_of(const std::pair<std::string_view, E> (&choices)[N], E value) {
  for (const auto& [name, v] : choices) {
    if (v == value) return name;
  }
  return "?";
}

void read_auth(Reader& r, const toml::table& t, AuthConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "passwd_file") get_path(r, v, "auth.passwd_file", out.passwd_file);
    else if (k == "plaintext") get_enum(r, v, "auth.plaintext", kPlaintext, out.plaintext);
    else if (k == "failure_delay_ms") get_uint(r, v, "auth.failure_delay_ms", 0, 60000, out.failure_delay_ms);
    else if (k == "failure_delay_max_ms")
      get_uint(r, v, "auth.failure_delay_max_ms", 0, 600000, out.failure_delay_max_ms);
    else unknown_key(r, k, "auth");
  }
}

// store.path: only %u %n %d %% (shared/DESIGN.md "Contracts").
std::string check_path_escapes(std::string_view path) {
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') continue;
    if (i + 1 >= path.size()) return "ends with a lone '%' (write %% for a literal '%')";
    const char c = path[i + 1];
    if (c != 'u' && c != 'n' && c != 'd' && c != '%') {
      return fmt::format("bad %-escape \"%{}\" (expected %u user, %n local part, %d domain or %%)",
                         c);
    }
    ++i;
  }
  return {};
}

void read_special_use(Reader& r, const toml::table& t, SpecialUseConfig& out) {
  for (auto&& [k, v] : t) {
    const std::string key = fmt::format("store.special_use.{}", k.str());
    if (k == "sent") get_string_list(r, v, key, out.sent);
    else if (k == "drafts") get_string_list(r, v, key, out.drafts);
    else if (k == "trash") get_string_list(r, v, key, out.trash);
    else if (k == "junk") get_string_list(r, v, key, out.junk);
    else if (k == "archive") get_string_list(r, v, key, out.archive);
    else unknown_key(r, k, "store.special_use");
  }
}

void read_store(Reader& r, const toml::table& t, StoreConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "driver") {
      get_enum(r, v, "store.driver", kDrivers, out.driver);
      if (out.driver != StoreDriver::maildir) {
        r.error_at(v, "store.driver",
                   fmt::format("{} is not supported yet (only \"maildir\")",
                               quoted(to_string(out.driver))));
      }
    } else if (k == "path") {
      get_path(r, v, "store.path", out.path);
      const std::string why = check_path_escapes(out.path);
      if (!why.empty()) r.error_at(v, "store.path", why);
    } else if (k == "separator") {
      get_enum(r, v, "store.separator", kSeparators, out.separator);
    } else if (k == "fsync") {
      get_bool(r, v, "store.fsync", out.fsync);
    } else if (k == "fsync_flags") {
      get_bool(r, v, "store.fsync_flags", out.fsync_flags);
    } else if (k == "special_use") {
      if (const auto* st = section_table(r, v, "store.special_use")) read_special_use(r, *st, out.special_use);
    } else {
      unknown_key(r, k, "store");
    }
  }
}

void read_pop3(Reader& r, const toml::table& t, Pop3Config& out) {
  for (auto&& [k, v] : t) {
    if (k == "seen_on_retr") get_enum(r, v, "pop3.seen_on_retr", kSeen, out.seen_on_retr);
    else if (k == "delete_mode") get_enum(r, v, "pop3.delete_mode", kDelete, out.delete_mode);
    else if (k == "uidl_format") {
      if (get_string(r, v, "pop3.uidl_format", out.uidl_format)) {
        const std::string why = check_uidl_format(out.uidl_format);
        if (!why.empty()) r.error_at(v, "pop3.uidl_format", why);
      }
    } else if (k == "lock_session") get_bool(r, v, "pop3.lock_session", out.lock_session);
    else if (k == "login_delay_s") get_uint(r, v, "pop3.login_delay_s", 0, 86400, out.login_delay_s);
    else if (k == "expire_days") {
      if (const auto* str = v.as_string(); str != nullptr && str->get() == "never") {
        out.expire_days.reset();
      } else if (v.as_integer() == nullptr) {
        r.error_at(v, "pop3.expire_days", fmt::format("expected \"never\" or an integer between 0 and 36500, got {}",
                                                      type_name(v)));
      } else {
        std::uint32_t days = 0;
        get_uint(r, v, "pop3.expire_days", 0, 36500, days);
        out.expire_days = days;
      }
    }
    // RFC 1939 §3: an autologout timer MUST be at least 10 minutes.
    else if (k == "idle_timeout_s") get_uint(r, v, "pop3.idle_timeout_s", 600, 86400, out.idle_timeout_s);
    else unknown_key(r, k, "pop3");
  }
}

void read_imap(Reader& r, const toml::table& t, ImapConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "max_literal") get_size(r, v, "imap.max_literal", 1024, 2ull << 30, out.max_literal);
    // RFC 2683 §3.2.1.5: servers should accept command lines of at least 8000 octets.
    else if (k == "max_line") get_size(r, v, "imap.max_line", 8000, 16u << 20, out.max_line);
    // RFC 3501 §5.4: an autologout timer MUST be at least 30 minutes.
    else if (k == "idle_timeout_s") get_uint(r, v, "imap.idle_timeout_s", 1800, 86400, out.idle_timeout_s);
    else unknown_key(r, k, "imap");
  }
}

void read_limits(Reader& r, const toml::table& t, LimitsConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "max_connections") get_uint(r, v, "limits.max_connections", 1, 1000000, out.max_connections);
    else if (k == "auth_timeout_s") get_uint(r, v, "limits.auth_timeout_s", 1, 3600, out.auth_timeout_s);
    else if (k == "output_buffer_max")
      get_size(r, v, "limits.output_buffer_max", 64 * 1024, 1ull << 30, out.output_buffer_max);
    else unknown_key(r, k, "limits");
  }
}

void read_log(Reader& r, const toml::table& t, LogConfig& out) {
  for (auto&& [k, v] : t) {
    if (k == "level") get_enum(r, v, "log.level", kLevels, out.level);
    else if (k == "format") get_enum(r, v, "log.format", kFormats, out.format);
    else unknown_key(r, k, "log");
  }
}

// Checks that need several keys at once.
void cross_check(Reader& r, const toml::table& root, Config& c) {
  const std::pair<std::string_view, const std::vector<ListenAddress>*> lists[] = {
      {"listen.imap", &c.listen.imap},   {"listen.imaps", &c.listen.imaps},
      {"listen.pop3", &c.listen.pop3},   {"listen.pop3s", &c.listen.pop3s},
      {"listen.metrics", &c.listen.metrics}};
  std::vector<std::pair<const ListenAddress*, std::string_view>> seen;
  for (const auto& [key, list] : lists) {
    for (const auto& a : *list) {
      if (a.port == 0) continue;  // ephemeral ports never clash
      for (const auto& [other, other_key] : seen) {
        if (*other == a) {
          r.error(key, fmt::format("{} is already used by {}", a.to_string(), other_key));
        }
      }
      seen.emplace_back(&a, key);
    }
  }
  if (c.listen.imap.empty() && c.listen.imaps.empty() && c.listen.pop3.empty() &&
      c.listen.pop3s.empty()) {
    r.error("listen", "no listener configured (set at least one of imap, imaps, pop3, pop3s)");
  }
  if (c.tls.cert.empty() != c.tls.key.empty()) {
    r.error(c.tls.cert.empty() ? "tls.cert" : "tls.key",
            "tls.cert and tls.key must be set together");
  }
  if (!c.tls.enabled()) {
    if (!c.listen.imaps.empty()) r.error("tls.cert", "required because listen.imaps is set");
    if (!c.listen.pop3s.empty()) r.error("tls.cert", "required because listen.pop3s is set");
    if (c.auth.plaintext == PlaintextPolicy::never) {
      r.error("auth.plaintext", "\"never\" without [tls] would let no client log in");
    }
  }
  if (c.auth.passwd_file.empty() && root["auth"]["passwd_file"].node() == nullptr) {
    r.error("auth.passwd_file", "required key is missing");
  }
  if (c.store.path.empty() && root["store"]["path"].node() == nullptr) {
    r.error("store.path", "required key is missing");
  }
  if (c.auth.failure_delay_max_ms < c.auth.failure_delay_ms) {
    const auto* n = root["auth"]["failure_delay_max_ms"].node();
    const std::string what = fmt::format("must be >= auth.failure_delay_ms ({})", c.auth.failure_delay_ms);
    if (n != nullptr) r.error_at(*n, "auth.failure_delay_max_ms", what);
    else r.error("auth.failure_delay_max_ms", what);
  }
}

}  // namespace

std::string ListenAddress::to_string() const {
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

std::string_view to_string(PlaintextPolicy v) { return name_of(kPlaintext, v); }
std::string_view to_string(StoreDriver v) { return name_of(kDrivers, v); }
std::string_view to_string(SeenOnRetr v) { return name_of(kSeen, v); }
std::string_view to_string(DeleteMode v) { return name_of(kDelete, v); }

std::string check_uidl_format(std::string_view format) {
  // The POP3 server's own compiler: --check-config refuses exactly what the server would.
  auto compiled = pop3::UidlFormat::compile(format);
  return compiled ? std::string() : compiled.error();
}

mb::Result<Config, std::string> parse_config(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return mb::unexpected(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                      e.source().begin.line, e.source().begin.column,
                                      e.description()));
  }
  Reader r(source_name);
  Config c;
  for (auto&& [k, v] : root) {
    const std::string name(k.str());
    if (name != "listen" && name != "tls" && name != "auth" && name != "store" && name != "pop3" &&
        name != "imap" && name != "limits" && name != "log") {
      r.error_at(k.source(), name, "unknown table (expected listen, tls, auth, store, pop3, imap, limits or log)");
      continue;
    }
    const auto* t = section_table(r, v, name);
    if (t == nullptr) continue;
    if (name == "listen") read_listen(r, *t, c.listen);
    else if (name == "tls") read_tls(r, *t, c.tls);
    else if (name == "auth") read_auth(r, *t, c.auth);
    else if (name == "store") read_store(r, *t, c.store);
    else if (name == "pop3") read_pop3(r, *t, c.pop3);
    else if (name == "imap") read_imap(r, *t, c.imap);
    else if (name == "limits") read_limits(r, *t, c.limits);
    else read_log(r, *t, c.log);
  }
  cross_check(r, root, c);
  if (!r.ok()) return mb::unexpected(r.joined());
  return c;
}

mb::Result<Config, std::string> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return mb::unexpected(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return mb::unexpected(fmt::format("{}: read error", path));
  const std::string text = buf.str();
  if (text.size() > 1024 * 1024) return mb::unexpected(fmt::format("{}: larger than 1 MiB", path));
  return parse_config(text, path);
}

}  // namespace mb::config