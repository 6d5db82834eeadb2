// File: gateway/auth/passwd_file.cpp
#include "gateway/auth/passwd_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "gateway/auth/user_name.hpp"

namespace mb::auth {
namespace {

// SHA512-CRYPT of a random string nobody knows; used when the file has no users.
constexpr std::string_view kBuiltinDummy =
    "$6$mbDummySaltXyZ12$Hp5U1Bm6Qx8rG2VJd9fQ0zN3vWcY7tLkA4sE6uR1oP2iM8nB5xC3gF7hJ9kL0qW2eR4tY6uI8oP0aS1dF3gH5j";

std::vector<std::string_view> split_colon(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto colon = line.find(':', start);
    if (colon == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, colon - start));
    start = colon + 1;
  }
}

bool parse_id(std::string_view text, std::optional<unsigned long>& out) {
  if (text.empty()) return true;
  if (text.size() > 10) return false;
  unsigned long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  out = v;
  return true;
}

std::string join_from(const std::vector<std::string_view>& f, std::size_t first) {
  std::string out;
  for (std::size_t i = first; i < f.size(); ++i) {
    if (i != first) out.push_back(':');
    out.append(f[i]);
  }
  return out;
}

}  // namespace

const PasswdEntry* PasswdTable::find(std::string_view user) const {
  const auto it = entries_.find(user_lookup_key(user));
  return it == entries_.end() ? nullptr : &it->second;
}

mb::Result<std::shared_ptr<const PasswdTable>, std::string> parse_passwd_file(
    std::string_view text, const std::string& file_name) {
  auto table = std::make_shared<PasswdTable>();
  std::map<Scheme, std::pair<std::size_t, const StoredPassword*>> by_scheme;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Skip blank (also whitespace-only) lines and comments.
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto err = [&](std::string_view what) {
      return mb::unexpected(fmt::format("{}:{}: {}", file_name, line_no, what));
    };
    if (line.size() > 64 * 1024) return err("line longer than 64 KiB");
    const auto fields = split_colon(line);
    if (fields.size() < 2) return err("expected user:{SCHEME}hash[:uid:gid:gecos:home:shell:extra]");
    PasswdEntry e;
    e.line = line_no;
    e.user = std::string(fields[0]);
    if (const auto why = user_name_problem(e.user); !why.empty()) {
      return err(fmt::format("invalid user name: {}", why));
    }
    auto pw = parse_stored_password(fields[1]);
    if (!pw) return err(fmt::format("user {}: {}", e.user, pw.error()));
    e.password = std::move(*pw);
    if (fields.size() > 2 && !parse_id(fields[2], e.uid)) return err(fmt::format("user {}: uid is not a number", e.user));
    if (fields.size() > 3 && !parse_id(fields[3], e.gid)) return err(fmt::format("user {}: gid is not a number", e.user));
    if (fields.size() > 4) e.gecos = std::string(fields[4]);
    if (fields.size() > 5) e.home = std::string(fields[5]);
    if (fields.size() > 6) e.shell = std::string(fields[6]);
    if (fields.size() > 7) e.extra = join_from(fields, 7);
    std::string key = user_lookup_key(e.user);
    if (const auto it = table->entries_.find(key); it != table->entries_.end()) {
      return err(fmt::format("user {} is already defined on line {}", e.user, it->second.line));
    }
    auto [it, inserted] = table->entries_.emplace(std::move(key), std::move(e));
    const PasswdEntry& stored = it->second;
    if (is_reversible(stored.password.scheme) && !stored.password.hash.empty()) table->has_reversible_ = true;
    if (!stored.password.hash.empty()) {
      auto& slot = by_scheme[stored.password.scheme];
      if (slot.first++ == 0) slot.second = &stored.password;
    }
  }
  // Dummy: the most common hashed scheme (its first user's hash, so the same cost
  // parameters); {PLAIN} only when nothing else is present. An unknown user then costs what
  // most real users cost. In a file mixing schemes some residual timing difference between
  // users of different schemes is unavoidable; we match the majority of hashed users, never
  // the near-free {PLAIN} check.
  const bool any_hashed = std::any_of(by_scheme.begin(), by_scheme.end(),
                                      [](const auto& kv) { return kv.first != Scheme::plain; });
  const StoredPassword* best = nullptr;
  std::size_t best_count = 0;
  for (const auto& [scheme, slot] : by_scheme) {
    if (any_hashed && scheme == Scheme::plain) continue;
    if (slot.first > best_count) {
      best_count = slot.first;
      best = slot.second;
    }
  }
  if (best != nullptr) {
    table->dummy_ = *best;
  } else {
    table->dummy_ = StoredPassword{Scheme::sha512_crypt, std::string(kBuiltinDummy)};
  }
  return std::shared_ptr<const PasswdTable>(std::move(table));
}

mb::Result<std::shared_ptr<const PasswdTable>, std::string> load_passwd_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return mb::unexpected(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return mb::unexpected(fmt::format("{}: read error", path));
  std::string text = buf.str();
  if (text.size() > 64u * 1024 * 1024) return mb::unexpected(fmt::format("{}: larger than 64 MiB", path));
  auto table = parse_passwd_file(text, path);
  explicit_bzero(text.data(), text.size());  // {PLAIN} passwords
  return table;
}

}  // namespace mb::auth
