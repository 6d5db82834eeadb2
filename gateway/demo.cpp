// File: gateway/demo.cpp
#include "gateway/demo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string_view>

#include <fmt/format.h>

#include "gateway/auth/password_hash.hpp"
#include "gateway/config/config.hpp"
#include "gateway/net/self_signed.hpp"

namespace mb::app {
namespace {

namespace fs = std::filesystem;

// fsync()s the directory holding `path`, so that a rename into it survives a crash (rename(2)
// is atomic but only durable once the directory entry is on disk).
mb::Result<void, std::string> fsync_parent_dir(const std::string& path) {
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return mb::unexpected(fmt::format("{}: cannot open directory: {}", dir, std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return mb::unexpected(fmt::format("{}: fsync failed: {}", dir, std::strerror(err)));
  return {};
}

// Writes `content` to `path` through a temp file, fsync, rename and a directory fsync, so a
// crash leaves either the old file or the whole new one (the same rule as the store's).
mb::Result<void, std::string> write_file_atomic(const std::string& path, std::string_view content,
                                                mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return mb::unexpected(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  std::string_view rest = content;
  while (!rest.empty()) {
    ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return mb::unexpected(fmt::format("{}: write failed: {}", tmp, std::strerror(err)));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  const int sync_rc = ::fsync(fd);
  const int sync_err = errno;
  if (::close(fd) != 0 || sync_rc != 0) {
    return mb::unexpected(fmt::format("{}: fsync failed: {}", tmp, std::strerror(sync_rc != 0 ? sync_err : errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return mb::unexpected(fmt::format("{}: rename failed: {}", path, std::strerror(errno)));
  }
  return fsync_parent_dir(path);
}

std::string welcome_message() {
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return fmt::format(
      "From: mailbridge <postmaster@localhost>\n"
      "To: demo <demo@localhost>\n"
      "Subject: Welcome to mailbridge\n"
      "Date: {}\n"
      "Message-ID: <welcome.{}@mailbridge.localhost>\n"
      "MIME-Version: 1.0\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "\n"
      "This message sits in the demo user's Maildir. Read it with any IMAP client on\n"
      "127.0.0.1:1143 (STARTTLS) or 1993 (TLS), or any POP3 client on 1110 (STLS) or 1995\n"
      "(TLS); user demo, password demo. What one protocol does, the other sees.\n",
      date, static_cast<long long>(now));
}

}  // namespace

mb::Result<std::string, std::string> prepare_demo(const std::string& dir_arg) {
  std::error_code ec;
  fs::create_directories(dir_arg, ec);
  if (ec) return mb::unexpected(fmt::format("{}: cannot create directory: {}", dir_arg, ec.message()));
  std::string dir = fs::absolute(dir_arg, ec).lexically_normal().string();
  if (!dir.empty() && dir.back() == '/') dir.pop_back();

  config::Config cfg = config::demo_config(dir);
  std::string config_path = dir + "/mailbridge.toml";
  if (!fs::exists(config_path)) {
    if (auto r = write_file_atomic(config_path, config::render_config_toml(cfg), 0644); !r) {
      return mb::unexpected(r.error());
    }
  }
  if (!fs::exists(cfg.auth.passwd_file)) {
    auto hash = auth::hash_password("demo", "SHA512-CRYPT");
    if (!hash) return mb::unexpected(fmt::format("demo password: {}", hash.error()));
    std::string line = fmt::format(
        "# mailbridge demo users (Dovecot passwd-file format). Add users with:\n"
        "#   echo -n PASSWORD | mailbridge hash-password\n"
        "demo:{}\n",
        *hash);
    if (auto r = write_file_atomic(cfg.auth.passwd_file, line, 0600); !r) return mb::unexpected(r.error());
  }
  std::string maildir = config::expand_store_path(cfg.store.path, "demo");
  if (!fs::exists(maildir)) {
    for (const char* sub : {"/tmp", "/new", "/cur"}) {
      fs::create_directories(maildir + sub, ec);
      if (ec) return mb::unexpected(fmt::format("{}{}: cannot create: {}", maildir, sub, ec.message()));
    }
    std::string name = fmt::format("{}.M0P{}.mailbridge-demo", static_cast<long long>(std::time(nullptr)),
                                   static_cast<long>(::getpid()));
    std::string tmp = maildir + "/tmp/" + name;
    if (auto r = write_file_atomic(tmp, welcome_message(), 0600); !r) return mb::unexpected(r.error());
    const std::string delivered = maildir + "/new/" + name;
    if (::rename(tmp.c_str(), delivered.c_str()) != 0) {
      return mb::unexpected(fmt::format("{}: deliver welcome message: {}", maildir, std::strerror(errno)));
    }
    if (auto r = fsync_parent_dir(delivered); !r) return mb::unexpected(r.error());
  }
  if (!fs::exists(cfg.tls.cert) || !fs::exists(cfg.tls.key)) {
    if (auto r = net::generate_self_signed(cfg.tls.cert, cfg.tls.key, "localhost"); !r) {
      return mb::unexpected(r.error());
    }
  }
  return config_path;
}

}  // namespace mb::app
