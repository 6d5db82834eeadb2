// File: gateway/config/config.cpp
//
// TOML -> Config. One read_<section>() per table; each walks the keys actually present so
// that an unknown key is reported where it is, then cross-field checks run on the result.
// toml++ reports syntax errors by exception; this is start-up code, so we catch it here and
// the public functions never throw.
#include "gateway/config/config.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <toml++/toml.h>

namespace mb::config {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Collects every problem as "file:line:col: key: what".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void error_at(const toml::source_region& where, std::string_view key, std::string_view what) {
    errors_.push_back(fmt::format("{}:{}:{}: {}: {}", file_, where.begin.line, where.begin.column,
                                  key, what));
  }
  void error_at(const toml::node& node, std::string_view key, std::string_view what) {
    error_at(node.source(), key, what);
  }
  void error(std::string_view key, std::string_view what) {
    errors_.push_back(fmt::format("{}: {}: {}", file_, key, what));
  }
  bool ok() const { return errors_.empty(); }
  std::string joined() const {
    std::string out;
    for (const auto& e : errors_) {
      if (!out.empty()) out.push_back('\n');
      out += e;
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string> errors_;
};

std::string_view type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "a list";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

bool get_string(Reader& r, const toml::node& n, std::string_view key, std::string& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    r.error_at(n, key, fmt::format("expected a string, got {}", type_name(n)));
    return false;
  }
  const std::string& v = s->get();
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      r.error_at(n, key, "control characters are not allowed");
      return false;
    }
  }
  out = v;
  return true;
}

// A path-like string: non-empty.
void get_path(Reader& r, const toml::node& n, std::string_view key, std::string& out) {
  std::string v;
  if (!get_string(r, n, key, v)) return;
  if (v.empty()) {
    r.error_at(n, key, "must not be empty");
    return;
  }
  out = std::move(v);
}

void get_bool(Reader& r, const toml::node& n, std::string_view key, bool& out) {
  const auto* b = n.as_boolean();
  if (b == nullptr) {
    r.error_at(n, key, fmt::format("expected true or false, got {}", type_name(n)));
    return;
  }
  out = b->get();
}

template <class T>
void get_uint(Reader& r, const toml::node& n, std::string_view key, std::uint64_t min,
              std::uint64_t max, T& out) {
  const auto* i = n.as_integer();
  if (i == nullptr || i->get() < 0 || static_cast<std::uint64_t>(i->get()) < min ||
      static_cast<std::uint64_t>(i->get()) > max) {
    r.error_at(n, key,
               i == nullptr ? fmt::format("expected an integer between {} and {}, got {}", min,
                                          max, type_name(n))
                            : fmt::format("expected an integer between {} and {}, got {}", min,
                                          max, i->get()));
    return;
  }
  out = static_cast<T>(i->get());
}

// A size in octets: an integer, or a string with a K/M/G suffix (powers of 1024): "64M".
template <class T>
void get_size(Reader& r, const toml::node& n, std::string_view key, std::uint64_t min,
              std::uint64_t max, T& out) {
  const auto* s = n.as_string();
  std::uint64_t value = 0;
  bool good = s != nullptr && !s->get().empty();
  if (const auto* i = n.as_integer()) {
    good = i->get() >= 0;
    value = good ? static_cast<std::uint64_t>(i->get()) : 0;
  } else if (good) {
    std::string_view text = s->get();
    std::uint64_t mult = 1;
    switch (text.back()) {
      case 'K': case 'k': mult = 1024; break;
      case 'M': case 'm': mult = 1024 * 1024; break;
      case 'G': case 'g': mult = 1024 * 1024 * 1024; break;
      default: break;
    }
    if (mult != 1) text.remove_suffix(1);
    good = !text.empty() && text.size() <= 12;
    for (char c : text) {
      if (c < '0' || c > '9') good = false;
    }
    if (good) {
      for (char c : text) value = value * 10 + static_cast<std::uint64_t>(c - '0');
      value *= mult;
    }
  }
  if (!good || value < min || value > max) {
    r.error_at(n, key,
               fmt::format("expected a size between {} and {} octets (an integer, or a string "
                           "like \"64M\" with suffix K, M or G)",
                           min, max));
    return;
  }
  out = static_cast<T>(value);
}

template <class E, std::size_t N>
void get_enum(Reader& r, const toml::node& n, std::string_view key,
              const std::pair<std::string_view, E> (&choices)[N], E& out) {
  std::string expected;
  for (const auto& [name, value] : choices) {
    if (!expected.empty()) expected += ", ";
    expected += quoted(name);
  }
  const auto* s = n.as_string();
  if (s != nullptr) {
    for (const auto& [name, value] : choices) {
      if (s->get() == name) {
        out = value;
        return;
      }
    }
  }
  r.error_at(n, key,
             fmt::format("expected one of {} (got {})", expected,
                         s != nullptr ? quoted(s->get()) : std::string(type_name(n))));
}

void get_string_list(Reader& r, const toml::node& n, std::string_view key,
                     std::vector<std::string>& out) {
  const auto* a = n.as_array();
  bool good = a != nullptr;
  std::vector<std::string> values;
  if (good) {
    for (const auto& e : *a) {
      const auto* s = e.as_string();
      if (s == nullptr || s->get().empty()) {
        good = false;
        break;
      }
      values.push_back(s->get());
    }
  }
  if (!good) {
    r.error_at(n, key, "expected a list of non-empty strings");
    return;
  }
  out = std::move(values);
}

// "host:port" with host an IPv4 literal, or "[v6]:port".
bool parse_listen_address(std::string_view text, ListenAddress& out, std::string& why) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = "IPv6 addresses are written \"[addr]:port\"";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) != 1) {
      why = fmt::format("{} is not an IPv6 address", quoted(host));
      return false;
    }
    out.ipv6 = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = "missing \":port\"";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      why = "IPv6 addresses are written \"[addr]:port\"";
      return false;
    }
    in_addr a4{};
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) {
      why = fmt::format("{} is not an IPv4 address (host names are not resolved; use an IP "
                        "address, \"0.0.0.0\" or \"[::]\" for all)",
                        quoted(host));
      return false;
    }
    out.ipv6 = false;
  }
  unsigned value = 0;
  bool good = !port.empty() && port.size() <= 5;
  for (char c : port) {
    if (c < '0' || c > '9') good = false;
  }
  if (good) {
    for (char c : port) value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (!good || value > 65535) {
    why = fmt::format("{} is not a port number (0-65535)", quoted(port));
    return false;
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

void get_addresses(Reader& r, const toml::node& n, std::string_view key,
                   std::vector<ListenAddress>& out) {
  const auto* a = n.as_array();
  if (a == nullptr) {
    r.error_at(n, key, "expected a list of host:port strings, e.g. [\"127.0.0.1:143\", \"[::1]:143\"]");
    return;
  }
  std::vector<ListenAddress> values;
  std::size_t index = 0;
  for (const auto& e : *a) {
    const auto* s = e.as_string();
    if (s == nullptr) {
      r.error_at(e, key, "expected a list of host:port strings");
      return;
    }
    ListenAddress addr;
    std::string why;
    if (!parse_listen_address(s->get(), addr, why)) {
      r.error_at(e, key, fmt::format("item {} {}: {}", index, quoted(s->get()), why));
      return;
    }
    values.push_back(std::move(addr));
    ++index;
  }
  out = std::move(values);
}

void unknown_key(Reader& r, const toml::key& k, std::string_view section) {
  r.error_at(k.source(), fmt::format("{}.{}", section, k.str()), "unknown key");
}

const toml::table* section_table(Reader& r, const toml::node& n, std::string_view name) {
  const auto* t = n.as_table();
  if (t == nullptr) r.error_at(n, name, fmt::format("expected a table [{}], got {}", name, type_name(n)));
  return t;
}

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
    else if (k == "expire_days") get_uint(r, v, "pop3.expire_days", 0, 36500, out.expire_days);
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
  bool unique = false;
  if (format.empty()) return "must not be empty";
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      // RFC 1939 §7: a unique-id is 1-70 characters in 0x21..0x7E.
      return "may contain only printable ASCII without spaces (RFC 1939 §7)";
    }
    if (c != '%') continue;
    std::size_t j = i + 1;
    if (j < format.size() && format[j] == '%') {
      i = j;
      continue;
    }
    while (j < format.size() && format[j] >= '0' && format[j] <= '9') ++j;
    if (j < format.size() && (format[j] == 'X' || format[j] == 'x')) ++j;
    if (j >= format.size()) return "ends inside a %-escape";
    const char var = format[j];
    if (var != 'u' && var != 'v' && var != 'm' && var != 'f' && var != 'g') {
      return fmt::format(
          "bad %-escape \"{}\" (expected %[0][width][X|x] followed by u UID, v UIDVALIDITY, m "
          "MD5, f file name or g GUID)",
          format.substr(i, j - i + 1));
    }
    if (var != 'v') unique = true;
    i = j;
  }
  if (!unique) return "must contain %u, %m, %f or %g so that each message's UIDL is unique";
  return {};
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
