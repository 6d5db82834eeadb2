// File: gateway/store/maildir/modseq_file.cpp
#include "gateway/store/maildir/modseq_file.hpp"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "gateway/store/maildir/fs_util.hpp"

namespace mb::store::maildir {
namespace {

constexpr std::string_view kMagic = "MBMODSEQ1";   // text: reservations, and snapshots of old versions
constexpr std::string_view kMagic2 = "MBMODSEQ2";  // clean snapshot, binary records

// Records in host byte order: the header line names the order and the record size; a file
// from another machine is refused, i.e. "start again at 1".
static_assert(sizeof(ModseqEntry) == 24);
constexpr std::uint32_t kByteOrderMark = 0x01020304;

template <class T>
bool num(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

bool write_file_atomic(const std::string& dir, const std::string& text, bool fsync) {
  std::string tmp = dir + "/" + kModseqFile + ".mbtmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd || !write_all(fd.get(), text.data(), text.size())) return false;
  if (fsync && ::fsync(fd.get()) != 0) return false;
  fd.reset();
  if (::rename(tmp.c_str(), (dir + "/" + kModseqFile).c_str()) != 0) return false;
  if (fsync) fsync_dir(dir);
  return true;
}

// Serialises writers of one folder's file (reservation vs a closing object's snapshot).
UniqueFd lock_file(const std::string& dir) {
  UniqueFd fd(::open((dir + "/" + kModseqFile + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (fd) {
    while (::flock(fd.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  return fd;
}

}  // namespace

std::optional<ModseqFile> read_modseq_file(const std::string& dir, bool header_only) {
  UniqueFd fd(::open((dir + "/" + kModseqFile).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::nullopt;
  // The header line first: it says whether binary records (one pread into place) or text
  // lines follow.
  char first[256];
  ssize_t got = ::pread(fd.get(), first, sizeof first, 0);
  if (got <= 0) return std::nullopt;
  std::string_view t(first, static_cast<std::size_t>(got));
  std::size_t nl = t.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view head = t.substr(0, nl);
  std::size_t body_offset = nl + 1;
  std::vector<std::string_view> f;
  while (!head.empty()) {
    std::size_t sp = head.find(' ');
    f.push_back(head.substr(0, sp));
    head = sp == std::string_view::npos ? std::string_view() : head.substr(sp + 1);
  }
  ModseqFile out;
  bool binary = f.size() >= 3 && f[0] == kMagic2;
  if (f.size() < 3 || (f[0] != kMagic && !binary) || !num(f[1], out.ceiling) || out.ceiling == 0)
    return std::nullopt;
  if (f[2] == "clean") {
    if (f.size() < 4 || !num(f[3], out.highest) || out.highest > out.ceiling) return std::nullopt;
    out.clean = true;
  } else if (f[2] != "unclean" || binary) {
    return std::nullopt;
  }
  if (binary) {
    // "MBMODSEQ2 <ceiling> clean <highest> <count> <byte order mark> <record size>\n" + records.
    std::uint64_t count = 0;
    std::uint32_t bom = 0, rsize = 0;
    if (f.size() != 7 || !num(f[4], count) || !num(f[5], bom) || !num(f[6], rsize) || bom != kByteOrderMark ||
        rsize != sizeof(ModseqEntry) || count > (1u << 30) ||
        static_cast<std::uint64_t>(st.st_size) != body_offset + count * sizeof(ModseqEntry))
      return std::nullopt;
    if (header_only) return out;
    out.messages.resize(count);
    auto* dst = reinterpret_cast<char*>(out.messages.data());
    std::size_t want = count * sizeof(ModseqEntry), have = 0;
    while (have < want) {
      ssize_t n = ::pread(fd.get(), dst + have, want - have, static_cast<off_t>(body_offset + have));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      have += static_cast<std::size_t>(n);
    }
    for (std::size_t i = 0; i < out.messages.size(); ++i) {
      const ModseqEntry& m = out.messages[i];
      if (m.modseq > out.highest || m.uid == 0 || (i > 0 && m.uid <= out.messages[i - 1].uid)) return std::nullopt;
    }
    return out;
  }
  if (!out.clean || header_only) return out;
  // An earlier version's text snapshot: "<uid> <modseq> <flags> <keywords>" lines.
  auto whole = read_fd(fd.get());
  if (!whole || whole->size() < body_offset) return std::nullopt;
  t = std::string_view(*whole).substr(body_offset);
  out.text_snapshot = true;
  out.messages.reserve(t.size() / 16);
  while (!t.empty()) {
    nl = t.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // a snapshot is written whole
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl + 1);
    std::string_view part[4];
    for (auto& p : part) {
      std::size_t sp = line.find(' ');
      p = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    ModseqEntry m;
    unsigned flags = 0;
    if (!num(part[0], m.uid) || !num(part[1], m.modseq) || !num(part[2], flags) || !num(part[3], m.keywords) ||
        m.modseq > out.highest || flags > 0xff || (!out.messages.empty() && m.uid <= out.messages.back().uid))
      return std::nullopt;
    m.flags = static_cast<FlagSet>(flags);
    out.messages.push_back(m);
  }
  return out;
}

bool write_modseq_reservation(const std::string& dir, ModSeq ceiling, bool fsync) {
  UniqueFd lock = lock_file(dir);
  return write_file_atomic(dir, fmt::format("{} {} unclean\n", kMagic, ceiling), fsync);
}

bool write_modseq_snapshot(const std::string& dir, ModSeq ceiling, ModSeq highest,
                           const std::vector<MessageInfo>& messages, bool fsync) {
  UniqueFd lock = lock_file(dir);
  // Only the ceiling is compared: the header line decides, the per-message lines need no parse.
  auto now = read_modseq_file(dir, /*header_only=*/true);
  if (!now || now->ceiling != ceiling) return false;
  // Binary records: an open reads them with one read and no number parsing.
  std::string text =
      fmt::format("{} {} clean {} {} {} {}\n", kMagic2, ceiling, highest, messages.size(), kByteOrderMark, sizeof(ModseqEntry));
  std::size_t head = text.size();
  text.resize(head + messages.size() * sizeof(ModseqEntry));
  for (std::size_t i = 0; i < messages.size(); ++i) {
    ModseqEntry r{};
    r.modseq = messages[i].modseq;
    r.uid = messages[i].uid;
    r.keywords = messages[i].keywords;
    r.flags = static_cast<std::uint8_t>(messages[i].flags);
    std::memcpy(text.data() + head + i * sizeof r, &r, sizeof r);
  }
  return write_file_atomic(dir, text, fsync);
}

ModSeq restore_modseqs(const std::optional<ModseqFile>& file, MessageTable& table) {
  auto& infos = table.infos();
  if (!file) {
    for (auto& m : infos) m.modseq = 1;
    return 1;
  }
  if (!file->clean) {
    for (auto& m : infos) m.modseq = file->ceiling;
    return file->ceiling;
  }
  // Messages the snapshot does not know (delivered after it) or whose flags changed while
  // nobody had the folder open changed after `highest`: they get highest + 1.
  ModSeq highest = std::max<ModSeq>(file->highest, 1);
  bool bumped = false;
  std::size_t k = 0;
  for (auto& m : infos) {
    while (k < file->messages.size() && file->messages[k].uid < m.uid) ++k;
    const ModseqEntry* was = k < file->messages.size() && file->messages[k].uid == m.uid ? &file->messages[k] : nullptr;
    if (was && was->flags == m.flags && was->keywords == m.keywords) {
      m.modseq = std::max<ModSeq>(was->modseq, 1);
    } else {
      m.modseq = highest + 1;
      bumped = true;
    }
  }
  // Expunges while closed also move the highest on (RFC 7162 §3.1.1: any change does).
  if (!bumped && infos.size() != file->messages.size()) bumped = true;
  return bumped ? highest + 1 : highest;
}

}  // namespace mb::store::maildir
