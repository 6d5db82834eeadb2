// File: gateway/config/config_files.cpp
//
// check_referenced_files(): the file-system half of --check-config.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"

namespace mb::config {
namespace {

void check_readable_file(std::vector<std::string>& errors, std::string_view key, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    errors.push_back(fmt::format("{}: {}: {}", key, path, std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    errors.push_back(fmt::format("{}: {}: not a regular file", key, path));
  } else if (::access(path.c_str(), R_OK) != 0) {
    errors.push_back(fmt::format("{}: {}: not readable: {}", key, path, std::strerror(errno)));
  }
}

}  // namespace

mb::Result<void, std::string> check_referenced_files(const Config& config) {
  std::vector<std::string> errors;
  if (!config.tls.cert.empty()) check_readable_file(errors, "tls.cert", config.tls.cert);
  if (!config.tls.key.empty()) check_readable_file(errors, "tls.key", config.tls.key);
  if (!config.auth.passwd_file.empty()) check_readable_file(errors, "auth.passwd_file", config.auth.passwd_file);
  // "/srv/mail/%u/Maildir" -> "/srv/mail": that directory must exist; per-user ones may not yet.
  const std::string& pattern = config.store.path;
  std::string fixed = pattern.substr(0, pattern.find('%'));
  if (pattern.find('%') != std::string::npos) {
    const auto slash = fixed.rfind('/');
    fixed = slash == std::string::npos ? std::string(".") : fixed.substr(0, slash == 0 ? 1 : slash);
  }
  if (!fixed.empty()) {
    struct stat st {};
    if (::stat(fixed.c_str(), &st) != 0) {
      errors.push_back(fmt::format("store.path: {}: {}", fixed, std::strerror(errno)));
    } else if (pattern.find('%') != std::string::npos && !S_ISDIR(st.st_mode)) {
      errors.push_back(fmt::format("store.path: {}: not a directory", fixed));
    }
  }
  if (errors.empty()) return {};
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out.push_back('\n');
    out += e;
  }
  return mb::unexpected(out);
}

}  // namespace mb::config
