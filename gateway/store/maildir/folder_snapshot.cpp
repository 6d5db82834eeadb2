// File: gateway/store/maildir/folder_snapshot.cpp
//
// FolderDisk's two caches beside the uidlist, both safe to lose:
//   mailbridge-dates   "<uid> <internal date>" lines appended as UIDs are assigned, so an
//                      open never stats message files it already knows;
//   mailbridge-index   a binary snapshot of the whole table, written only when cur/ and new/
//                      mtimes are settled (> 2 s old), used by the first sync of a process if
//                      those mtimes and the uidlist's stamp are unchanged: no listing at all.
//                      Format MBIDX002 (below) loads with one readv(); an MBIDX001 file of
//                      earlier versions is still read, and replaced by MBIDX002 at once.
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/fs_util.hpp"

namespace mb::store::maildir {

std::vector<std::pair<Uid, std::int64_t>> FolderDisk::load_dates() const {
  std::vector<std::pair<Uid, std::int64_t>> out;
  auto text = read_whole_file(dir_ + "/" + kDates);
  if (!text || !*text) return out;
  std::string_view t = **text;
  while (!t.empty()) {
    std::size_t nl = t.find('\n');
    if (nl == std::string_view::npos) break;  // torn last line
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl + 1);
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    Uid uid = 0;
    std::int64_t date = 0;
    auto r1 = std::from_chars(line.data(), line.data() + sp, uid);
    auto r2 = std::from_chars(line.data() + sp + 1, line.data() + line.size(), date);
    if (r1.ec != std::errc{} || r2.ec != std::errc{}) continue;
    out.emplace_back(uid, date);
  }
  // Appends keep UID order; sort to be safe against a hand-edited file.
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

FolderDisk::DirStamps FolderDisk::dir_stamps() const {
  DirStamps d;
  struct stat cst {}, nst {};
  if (::stat((dir_ + "/cur").c_str(), &cst) != 0 || ::stat((dir_ + "/new").c_str(), &nst) != 0) return d;
  d.cur_ns = mtime_ns(cst);
  d.new_ns = mtime_ns(nst);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::int64_t now_ns = static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  // A directory changed again within the file system's timestamp granularity may keep its
  // mtime; only mtimes comfortably in the past prove "nothing changed since".
  constexpr std::int64_t kSettleNs = 2000000000;
  d.trusted = now_ns - d.cur_ns > kSettleNs && now_ns - d.new_ns > kSettleNs;
  return d;
}

namespace {
// MBIDX001 (earlier versions): header, MessageInfo[count], u32 name lengths[count], names.
struct IndexHeader {
  char magic[8];
  std::uint32_t uidvalidity;
  Uid next_uid;
  std::uint64_t uidlist_ino;
  std::int64_t uidlist_mtime_ns;
  std::int64_t uidlist_size;
  std::int64_t cur_ns;
  std::int64_t new_ns;
  std::uint64_t count;
  std::uint64_t arena_size;
};
constexpr char kIndexMagic[8] = {'M', 'B', 'I', 'D', 'X', '0', '0', '1'};

// MBIDX002: header, MessageInfo[count], NameRef[count], names: the MessageTable's three
// arrays exactly as held in memory, so a load is one readv() straight into them (no
// intermediate buffer, no per-message work but one validation pass).
struct IndexHeader2 {
  char magic[8];
  std::uint32_t byte_order;  // kByteOrderMark as written: another machine's file is refused
  std::uint32_t info_size;   // sizeof(MessageInfo), sizeof(NameRef): layout check
  std::uint32_t ref_size;
  std::uint32_t uidvalidity;
  Uid next_uid;
  std::uint32_t pad;
  std::uint64_t uidlist_ino;
  std::int64_t uidlist_mtime_ns;
  std::int64_t uidlist_size;
  std::int64_t cur_ns;
  std::int64_t new_ns;
  std::uint64_t count;
  std::uint64_t arena_size;
};
constexpr char kIndexMagic2[8] = {'M', 'B', 'I', 'D', 'X', '0', '0', '2'};
constexpr std::uint32_t kByteOrderMark = 0x01020304;
constexpr std::uint64_t kMaxCount = 1u << 30;
constexpr std::uint64_t kMaxArena = 1ull << 34;

// readv() until every byte arrived (a regular file gives short reads only at EOF or on
// signals); false on error or early EOF.
bool read_fully(int fd, iovec* iov, int n) {
  while (n > 0) {
    ssize_t got = ::readv(fd, iov, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    auto left = static_cast<std::size_t>(got);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return true;
}

}  // namespace

void FolderDisk::write_index(const SyncOutcome& out, const FileStamp& uidlist, const DirStamps& dirs) {
  IndexHeader2 h{};
  std::memcpy(h.magic, kIndexMagic2, sizeof h.magic);
  h.byte_order = kByteOrderMark;
  h.info_size = sizeof(MessageInfo);
  h.ref_size = sizeof(NameRef);
  h.uidvalidity = out.uidvalidity;
  h.next_uid = out.next_uid;
  h.uidlist_ino = uidlist.ino;
  h.uidlist_mtime_ns = uidlist.mtime_ns;
  h.uidlist_size = uidlist.size;
  h.cur_ns = dirs.cur_ns;
  h.new_ns = dirs.new_ns;
  h.count = out.table.size();
  h.arena_size = out.table.arena().size();
  // A cache: losing it only costs a directory listing, so no fsync; temp + rename keeps a
  // reader from ever seeing half of it (the size check refuses a torn one anyway).
  std::string tmp = dir_ + "/" + kIndex + ".mbtmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return;
  bool ok = write_all(fd.get(), reinterpret_cast<const char*>(&h), sizeof h) &&
            write_all(fd.get(), reinterpret_cast<const char*>(out.table.infos().data()),
                      out.table.size() * sizeof(MessageInfo)) &&
            write_all(fd.get(), reinterpret_cast<const char*>(out.table.refs().data()),
                      out.table.size() * sizeof(NameRef)) &&
            write_all(fd.get(), out.table.arena().data(), out.table.arena().size());
  fd.reset();
  if (!ok || ::rename(tmp.c_str(), (dir_ + "/" + kIndex).c_str()) != 0) ::unlink(tmp.c_str());
}

std::optional<SyncOutcome> FolderDisk::load_index(const FileStamp& uidlist, const DirStamps& dirs,
                                                  bool& old_format) {
  old_format = false;
  if (!dirs.trusted) return std::nullopt;
  UniqueFd fd(::open((dir_ + "/" + kIndex).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  struct stat st {};
  IndexHeader2 h{};
  if (::fstat(fd.get(), &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(IndexHeader)) return std::nullopt;
  if (::pread(fd.get(), &h, sizeof h, 0) < static_cast<ssize_t>(sizeof(IndexHeader))) return std::nullopt;
  if (std::memcmp(h.magic, kIndexMagic, sizeof h.magic) == 0) {
    old_format = true;
    return load_index_v1(fd.get(), uidlist, dirs);
  }
  if (std::memcmp(h.magic, kIndexMagic2, sizeof h.magic) != 0 || h.byte_order != kByteOrderMark ||
      h.info_size != sizeof(MessageInfo) || h.ref_size != sizeof(NameRef) || h.uidlist_ino != uidlist.ino ||
      h.uidlist_mtime_ns != uidlist.mtime_ns || h.uidlist_size != uidlist.size || h.cur_ns != dirs.cur_ns ||
      h.new_ns != dirs.new_ns || h.count > kMaxCount || h.arena_size > kMaxArena)
    return std::nullopt;
  std::uint64_t need = sizeof h + h.count * (sizeof(MessageInfo) + sizeof(NameRef)) + h.arena_size;
  if (static_cast<std::uint64_t>(st.st_size) != need) return std::nullopt;
  SyncOutcome out;
  out.uidvalidity = h.uidvalidity;
  out.next_uid = h.next_uid;
  auto raw = out.table.resize_for_load(h.count, h.arena_size);
  iovec iov[3] = {{raw.infos, h.count * sizeof(MessageInfo)},
                  {raw.refs, h.count * sizeof(NameRef)},
                  {raw.arena, h.arena_size}};
  if (::lseek(fd.get(), sizeof h, SEEK_SET) < 0 || !read_fully(fd.get(), iov, 3) || !out.table.loaded_ok())
    return std::nullopt;
  if (out.table.size() > 0 && out.table.infos().back().uid >= out.next_uid) return std::nullopt;
  return out;
}

std::optional<SyncOutcome> FolderDisk::load_index_v1(int fd, const FileStamp& uidlist, const DirStamps& dirs) {
  auto text = read_fd(fd);
  if (!text) return std::nullopt;
  const std::string& b = *text;
  IndexHeader h{};
  if (b.size() < sizeof h) return std::nullopt;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kIndexMagic, sizeof h.magic) != 0 || h.uidlist_ino != uidlist.ino ||
      h.uidlist_mtime_ns != uidlist.mtime_ns || h.uidlist_size != uidlist.size || h.cur_ns != dirs.cur_ns ||
      h.new_ns != dirs.new_ns)
    return std::nullopt;
  std::size_t need = sizeof h + h.count * (sizeof(MessageInfo) + sizeof(std::uint32_t)) + h.arena_size;
  if (h.count > kMaxCount || h.arena_size > kMaxArena || b.size() != need) return std::nullopt;
  SyncOutcome out;
  out.uidvalidity = h.uidvalidity;
  out.next_uid = h.next_uid;
  out.table.reserve(h.count, h.arena_size);
  const char* infos = b.data() + sizeof h;
  const char* lens = infos + h.count * sizeof(MessageInfo);
  const char* names = lens + h.count * sizeof(std::uint32_t);
  std::uint64_t off = 0;
  for (std::uint64_t i = 0; i < h.count; ++i) {
    MessageInfo m{};
    std::uint32_t len = 0;
    std::memcpy(&m, infos + i * sizeof(MessageInfo), sizeof m);
    std::memcpy(&len, lens + i * sizeof len, sizeof len);
    if (off + len > h.arena_size) return std::nullopt;
    m.modseq = 0;
    out.table.push(m, std::string_view(names + off, len));
    off += len;
  }
  if (!out.table.loaded_ok()) return std::nullopt;
  return out;
}

}  // namespace mb::store::maildir
