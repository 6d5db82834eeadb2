// File: gateway/main.cpp
//
// Command line (DESIGN.md "Contracts"):
//   mailbridge --config FILE                 run in the foreground
//   mailbridge --check-config --config FILE  validate and exit 0/1
//   mailbridge --demo DIR                    embedded default under DIR
//   mailbridge hash-password [--scheme S]    password on stdin -> "{S}hash"
//   mailbridge healthcheck --config FILE     greet every IMAP/POP3 listener, exit 0/1
//   mailbridge --version
// Exceptions are allowed only here, at start-up (none are expected from the modules).
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/app.hpp"
#include "gateway/auth/passwd_file.hpp"
#include "gateway/auth/password_hash.hpp"
#include "gateway/config/config.hpp"
#include "gateway/demo.hpp"
#include "gateway/health/healthcheck.hpp"
#include "gateway/net/self_signed.hpp"

#ifndef MB_VERSION
#define MB_VERSION "0.0.0"
#endif

namespace {

constexpr std::string_view kUsage =
    "usage: mailbridge --config FILE\n"
    "       mailbridge --check-config --config FILE\n"
    "       mailbridge --demo DIR\n"
    "       mailbridge hash-password [--scheme SHA512-CRYPT|SHA256-CRYPT|BLF-CRYPT|ARGON2ID|PLAIN]\n"
    "       mailbridge healthcheck --config FILE\n"
    "       mailbridge generate-cert --cert FILE --key FILE [--cn NAME]\n"
    "       mailbridge --version\n";

int usage_error(std::string_view why) {
  std::cerr << "mailbridge: " << why << "\n" << kUsage;
  return 2;
}

int hash_password_command(const std::vector<std::string_view>& args) {
  std::string scheme = "SHA512-CRYPT";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--scheme" && i + 1 < args.size()) {
      scheme = std::string(args[++i]);
    } else {
      return usage_error("hash-password: unexpected argument " + std::string(args[i]));
    }
  }
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    std::cerr << "mailbridge: hash-password: empty password on stdin\n";
    return 1;
  }
  auto hashed = mb::auth::hash_password(password, scheme);
  if (!hashed) {
    std::cerr << "mailbridge: hash-password: " << hashed.error() << "\n";
    return 1;
  }
  std::cout << *hashed << "\n";
  return 0;
}

// A self-signed certificate made with mbedTLS (the Docker entrypoint uses it when no
// certificate is mounted); no openssl CLI needed.
int generate_cert_command(const std::vector<std::string_view>& args) {
  std::string cert, key, cn = "localhost";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--cert" && i + 1 < args.size()) {
      cert = std::string(args[++i]);
    } else if (args[i] == "--key" && i + 1 < args.size()) {
      key = std::string(args[++i]);
    } else if (args[i] == "--cn" && i + 1 < args.size()) {
      cn = std::string(args[++i]);
    } else {
      return usage_error("generate-cert: unexpected argument " + std::string(args[i]));
    }
  }
  if (cert.empty() || key.empty()) return usage_error("generate-cert: --cert and --key are required");
  if (auto r = mb::net::generate_self_signed(cert, key, cn); !r) {
    std::cerr << "mailbridge: generate-cert: " << r.error() << "\n";
    return 1;
  }
  std::cout << "wrote self-signed certificate " << cert << " (CN=" << cn << ") and key " << key << "\n";
  return 0;
}

mb::Result<mb::config::Config, int> load(const std::string& path) {
  auto cfg = mb::config::load_config(path);
  if (!cfg) {
    std::cerr << cfg.error() << (cfg.error().ends_with('\n') ? "" : "\n");
    return mb::unexpected(1);
  }
  return *cfg;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("nothing to do");

  if (args[0] == "hash-password") return hash_password_command({args.begin() + 1, args.end()});
  if (args[0] == "generate-cert") return generate_cert_command({args.begin() + 1, args.end()});

  std::string config_path, demo_dir;
  bool check = false, version = false, healthcheck = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--config" && i + 1 < args.size()) {
      config_path = std::string(args[++i]);
    } else if (a.starts_with("--config=")) {
      config_path = std::string(a.substr(9));
    } else if (a == "--demo" && i + 1 < args.size()) {
      demo_dir = std::string(args[++i]);
    } else if (a == "--check-config") {
      check = true;
    } else if (a == "--version") {
      version = true;
    } else if (a == "healthcheck" && i == 0) {
      healthcheck = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      return usage_error("unknown argument " + std::string(a));
    }
  }
  if (version) {
    std::cout << "mailbridge " << MB_VERSION << "\n";
    return 0;
  }
  if (!demo_dir.empty()) {
    if (!config_path.empty()) return usage_error("--demo and --config exclude each other");
    auto prepared = mb::app::prepare_demo(demo_dir);
    if (!prepared) {
      std::cerr << "mailbridge: --demo: " << prepared.error() << "\n";
      return 1;
    }
    config_path = *prepared;
    std::cerr << "mailbridge demo in " << demo_dir << ": user demo, password demo; IMAP 127.0.0.1:1143 "
                 "(STARTTLS), IMAPS 1993, POP3 1110 (STLS), POP3S 1995; certificate "
              << demo_dir << "/cert.pem\n";
  }
  if (config_path.empty()) return usage_error("--config FILE is required");
  auto cfg = load(config_path);
  if (!cfg) return cfg.error();
  if (check) {
    // Beyond the syntax: the certificate, key, passwd-file and store root must be there, so
    // a restart after `--check-config` says ok does not fail on a missing file.
    if (auto files = mb::config::check_referenced_files(*cfg); !files) {
      std::cerr << config_path << ": " << files.error() << (files.error().ends_with('\n') ? "" : "\n");
      return 1;
    }
    if (auto users = mb::auth::load_passwd_file(cfg->auth.passwd_file); !users) {
      std::cerr << config_path << ": auth.passwd_file: " << users.error() << "\n";
      return 1;
    }
    std::cout << config_path << ": ok\n";
    return 0;
  }
  if (healthcheck) return mb::health::run_healthcheck(*cfg, std::chrono::seconds(5));
  return mb::app::run(*cfg, config_path);
}
