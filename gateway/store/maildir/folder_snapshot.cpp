// File: gateway/store/maildir/folder_snapshot.cpp
//
// FolderDisk's two caches beside the uidlist, both safe to lose:
//   mailbridge-dates   "<uid> <internal date>" lines appended as UIDs are assigned, so an
//                      open never stats message files it already knows;
//   mailbridge-index   a binary snapshot of the whole table, written only when cur/ and new/
//                      mtimes are settled (> 2 s old), used by the first sync of a process if
//                      those mtimes and the uidlist's stamp are unchanged: no listing at all.
#include <sys/stat.h>

#include <charconv>
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
}  // namespace

void FolderDisk::write_index(const SyncOutcome& out, const FileStamp& uidlist, const DirStamps& dirs) {
  IndexHeader h{};
  std::memcpy(h.magic, kIndexMagic, sizeof h.magic);
  h.uidvalidity = out.uidvalidity;
  h.next_uid = out.next_uid;
  h.uidlist_ino = uidlist.ino;
  h.uidlist_mtime_ns = uidlist.mtime_ns;
  h.uidlist_size = uidlist.size;
  h.cur_ns = dirs.cur_ns;
  h.new_ns = dirs.new_ns;
  h.count = out.table.size();
  std::string names;
  std::vector<std::uint32_t> lengths;
  lengths.reserve(out.table.size());
  for (std::size_t i = 0; i < out.table.size(); ++i) {
    names.append(out.table.base(i));
    lengths.push_back(static_cast<std::uint32_t>(out.table.base(i).size()));
  }
  h.arena_size = names.size();
  std::string blob(reinterpret_cast<const char*>(&h), sizeof h);
  blob.append(reinterpret_cast<const char*>(out.table.infos().data()), out.table.size() * sizeof(MessageInfo));
  blob.append(reinterpret_cast<const char*>(lengths.data()), lengths.size() * sizeof(std::uint32_t));
  blob.append(names);
  bool was = fsync_;
  fsync_ = false;  // a cache: losing it only costs a directory listing
  (void)write_atomic(kIndex, blob);
  fsync_ = was;
}

std::optional<SyncOutcome> FolderDisk::load_index(const FileStamp& uidlist, const DirStamps& dirs) {
  if (!dirs.trusted) return std::nullopt;
  auto text = read_whole_file(dir_ + "/" + kIndex);
  if (!text || !*text) return std::nullopt;
  const std::string& b = **text;
  IndexHeader h{};
  if (b.size() < sizeof h) return std::nullopt;
  std::memcpy(&h, b.data(), sizeof h);
  if (std::memcmp(h.magic, kIndexMagic, sizeof h.magic) != 0 || h.uidlist_ino != uidlist.ino ||
      h.uidlist_mtime_ns != uidlist.mtime_ns || h.uidlist_size != uidlist.size || h.cur_ns != dirs.cur_ns ||
      h.new_ns != dirs.new_ns)
    return std::nullopt;
  std::size_t need = sizeof h + h.count * (sizeof(MessageInfo) + sizeof(std::uint32_t)) + h.arena_size;
  if (h.count > (1u << 30) || h.arena_size > (1ull << 34) || b.size() != need) return std::nullopt;
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
  return out;
}

}  // namespace mb::store::maildir
