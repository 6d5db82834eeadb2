// File: gateway/config/config_render.cpp
//
// Config -> TOML text (render_config_toml), the --demo defaults, and store.path expansion.
// The rendered document sets every key explicitly, so reading it back gives an equal Config
// even if a default changes later.
#include <string>

#include "gateway/config/config.hpp"

namespace mb::config {
namespace {

// TOML basic string (TOML 1.0 "String"): escape '"', '\\' and control characters.
std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string toml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += ", ";
    out += toml_string(items[i]);
  }
  out += "]";
  return out;
}

void render_listen(std::string& out, std::string_view key, const std::vector<ListenAddress>& list) {
  if (list.empty()) {
    out += fmt::format("# {} = []            (off)\n", key);
    return;
  }
  std::vector<std::string> items;
  for (const auto& a : list) items.push_back(a.to_string());
  out += fmt::format("{} = {}\n", key, toml_list(items));
}

std::string_view level_name(mb::log::Level l) {
  switch (l) {
    case mb::log::Level::debug: return "debug";
    case mb::log::Level::info: return "info";
    case mb::log::Level::warn: return "warn";
    case mb::log::Level::error: return "error";
  }
  return "info";
}

}  // namespace

std::string render_config_toml(const Config& c) {
  std::string out = "# mailbridge configuration (written by mailbridge)\n\n[listen]\n";
  render_listen(out, "imap", c.listen.imap);
  render_listen(out, "imaps", c.listen.imaps);
  render_listen(out, "pop3", c.listen.pop3);
  render_listen(out, "pop3s", c.listen.pop3s);
  render_listen(out, "metrics", c.listen.metrics);

  out += "\n[tls]\n";
  if (c.tls.enabled() || !c.tls.key.empty()) {
    out += fmt::format("cert = {}\nkey = {}\n", toml_string(c.tls.cert), toml_string(c.tls.key));
  } else {
    out += "# cert = \"/etc/mailbridge/cert.pem\"\n# key = \"/etc/mailbridge/key.pem\"\n";
  }

  out += "\n[auth]\n";
  out += fmt::format("passwd_file = {}\n", toml_string(c.auth.passwd_file));
  out += fmt::format("plaintext = {}   # never | loopback | always\n",
                     toml_string(to_string(c.auth.plaintext)));
  out += fmt::format("failure_delay_ms = {}\nfailure_delay_max_ms = {}\n", c.auth.failure_delay_ms,
                     c.auth.failure_delay_max_ms);

  out += "\n[store]\n";
  out += fmt::format("driver = {}\n", toml_string(to_string(c.store.driver)));
  out += fmt::format("path = {}   # %u user, %n local part, %d domain\n", toml_string(c.store.path));
  out += fmt::format("separator = {}\n", toml_string(std::string(1, c.store.separator)));
  out += fmt::format("fsync = {}\n", c.store.fsync ? "true" : "false");
  out += fmt::format("fsync_flags = {}   # flag changes durable at OK (else within the filesystem's commit interval)\n",
                     c.store.fsync_flags ? "true" : "false");
  out += "\n[store.special_use]\n";
  out += fmt::format("sent = {}\n", toml_list(c.store.special_use.sent));
  out += fmt::format("drafts = {}\n", toml_list(c.store.special_use.drafts));
  out += fmt::format("trash = {}\n", toml_list(c.store.special_use.trash));
  out += fmt::format("junk = {}\n", toml_list(c.store.special_use.junk));
  out += fmt::format("archive = {}\n", toml_list(c.store.special_use.archive));

  out += "\n[pop3]\n";
  out += fmt::format("seen_on_retr = {}   # immediate | quit | never\n",
                     toml_string(to_string(c.pop3.seen_on_retr)));
  out += fmt::format("delete_mode = {}   # expunge | flag | keyword\n",
                     toml_string(to_string(c.pop3.delete_mode)));
  out += fmt::format("uidl_format = {}\n", toml_string(c.pop3.uidl_format));
  out += fmt::format("lock_session = {}\n", c.pop3.lock_session ? "true" : "false");
  out += fmt::format("login_delay_s = {}\nexpire_days = {}   # \"never\" or days (RFC 2449 EXPIRE)\n",
                     c.pop3.login_delay_s,
                     c.pop3.expire_days ? std::to_string(*c.pop3.expire_days) : toml_string("never"));
  out += fmt::format("idle_timeout_s = {}\n", c.pop3.idle_timeout_s);

  out += "\n[imap]\n";
  out += fmt::format("max_literal = {}\nmax_line = {}\nidle_timeout_s = {}\n", c.imap.max_literal,
                     c.imap.max_line, c.imap.idle_timeout_s);

  out += "\n[limits]\n";
  out += fmt::format("max_connections = {}\nauth_timeout_s = {}\noutput_buffer_max = {}\n",
                     c.limits.max_connections, c.limits.auth_timeout_s,
                     c.limits.output_buffer_max);

  out += "\n[log]\n";
  out += fmt::format("level = {}\nformat = {}\n", toml_string(level_name(c.log.level)),
                     toml_string(c.log.format == mb::log::Format::json ? "json" : "text"));
  return out;
}

Config demo_config(const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  Config c;
  c.listen.imap = {ListenAddress{"127.0.0.1", 1143, false}};
  c.listen.pop3 = {ListenAddress{"127.0.0.1", 1110, false}};
  c.listen.imaps = {ListenAddress{"127.0.0.1", 1993, false}};
  c.listen.pop3s = {ListenAddress{"127.0.0.1", 1995, false}};
  c.tls.cert = base + "/cert.pem";
  c.tls.key = base + "/key.pem";
  c.auth.passwd_file = base + "/users";
  c.auth.plaintext = PlaintextPolicy::always;
  c.store.path = base + "/mail/%u/Maildir";
  return c;
}

std::string expand_store_path(std::string_view pattern, std::string_view user) {
  const auto at = user.find('@');
  const std::string_view local = at == std::string_view::npos ? user : user.substr(0, at);
  const std::string_view domain =
      at == std::string_view::npos ? std::string_view{} : user.substr(at + 1);
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 >= pattern.size()) {
      out.push_back(pattern[i]);
      continue;
    }
    switch (pattern[i + 1]) {
      case 'u': out += user; break;
      case 'n': out += local; break;
      case 'd': out += domain; break;
      case '%': out.push_back('%'); break;
      default:
        out.push_back('%');
        out.push_back(pattern[i + 1]);
        break;
    }
    ++i;
  }
  return out;
}

}  // namespace mb::config
