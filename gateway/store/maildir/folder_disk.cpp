// File: gateway/store/maildir/folder_disk.cpp
#include "gateway/store/maildir/folder_disk.hpp"

#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "gateway/log/log.hpp"
#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/maildir/uidlist.hpp"
#include "gateway/store/maildir/uidlist_lock.hpp"

namespace mb::store::maildir {
namespace {

constexpr const char* kUidList = "dovecot-uidlist";
constexpr const char* kCourierUidDb = "courierimapuiddb";
constexpr const char* kKeywords = "dovecot-keywords";
constexpr const char* kLastUidValidity = "mailbridge-uidvalidity";
constexpr std::int64_t kTmpMaxAge = 36 * 3600;  // Maildir convention: tmp/ files older than 36 h
constexpr std::int64_t kSettleNs = 1000000000;  // mtimes older than this prove "no change since"

std::int64_t now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}


bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool is_mailbox_guid(std::string_view g) {
  return g.size() == 32 && std::all_of(g.begin(), g.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string new_mailbox_guid(std::uint32_t uidvalidity) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::random_device rd;
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", uidvalidity, static_cast<unsigned>(::getpid()),
                     static_cast<unsigned>(now.tv_nsec), rd());
}

}  // namespace

std::uint64_t wire_size_of(std::string_view stored, bool& prev_cr) {
  std::uint64_t n = stored.size();
  for (char c : stored) {
    if (c == '\n' && !prev_cr) ++n;
    prev_cr = c == '\r';
  }
  return n;
}

std::optional<std::uint64_t> wire_size_of_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::uint64_t total = 0;
  bool prev_cr = false;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    total += wire_size_of(std::string_view(buf, static_cast<std::size_t>(n)), prev_cr);
  }
  return total;
}

FolderDisk::FolderDisk(std::string dir, bool fsync, bool create_if_missing)
    : dir_(std::move(dir)), fsync_(fsync), create_(create_if_missing) {}

std::uint32_t FolderDisk::next_uidvalidity(std::uint32_t current) {
  // The counter lives at the user's root (DELETE removes the folder directory with anything
  // kept beside its uidlist), under its own lock so two folders or two processes never draw
  // the same value. A folder's own copy (written by earlier versions) is honoured as well.
  const std::string& root = uidvalidity_root_.empty() ? dir_ : uidvalidity_root_;
  std::uint32_t now = static_cast<std::uint32_t>(std::time(nullptr));
  auto read_last = [](const std::string& path) -> std::uint32_t {
    auto t = read_whole_file(path);
    return t && *t ? static_cast<std::uint32_t>(std::strtoul((*t)->c_str(), nullptr, 10)) : 0;
  };
  std::string lock_path = root + "/" + kLastUidValidity + ".lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock) {
    while (::flock(lock.get(), LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  std::uint32_t last = read_last(root + "/" + kLastUidValidity);
  if (root != dir_) last = std::max(last, read_last(dir_ + "/" + kLastUidValidity));
  std::uint32_t fresh = std::max({now, current + 1, last + 1});
  std::string tmp = root + "/" + kLastUidValidity + ".mbtmp";
  std::string text = std::to_string(fresh) + "\n";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  bool ok = fd && write_all(fd.get(), text.data(), text.size()) && (!fsync_ || ::fsync(fd.get()) == 0);
  fd.reset();
  if (!ok || ::rename(tmp.c_str(), (root + "/" + kLastUidValidity).c_str()) != 0)
    mb::log::warn("store: cannot record UIDVALIDITY {} in {}: {}", fresh, root, std::strerror(errno));
  else if (fsync_)
    fsync_dir(root);
  return fresh;
}

StoreResult<void> FolderDisk::write_atomic(const std::string& name, const std::string& content) {
  std::string tmp = fmt::format("{}/{}.mbtmp", dir_, name);
  std::string dst = dir_ + "/" + name;
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return mb::unexpected(errno_error(errno, "create " + tmp));
  if (!write_all(fd.get(), content.data(), content.size()))
    return mb::unexpected(errno_error(errno, "write " + tmp));
  if (fsync_ && ::fsync(fd.get()) != 0) return mb::unexpected(errno_error(errno, "fsync " + tmp));
  fd.reset();
  if (::rename(tmp.c_str(), dst.c_str()) != 0)
    return mb::unexpected(errno_error(errno, "rename " + tmp));
  if (fsync_) fsync_dir(dir_);
  return {};
}

void FolderDisk::clean_tmp() {
  auto names = list_dir(dir_ + "/tmp");
  if (!names) return;
  std::int64_t now = std::time(nullptr);
  for (const auto& n : *names) {
    std::string p = dir_ + "/tmp/" + n;
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && now - st.st_mtim.tv_sec > kTmpMaxAge)
      ::unlink(p.c_str());
  }
}

StoreResult<void> FolderDisk::load_keywords() {
  std::string path = dir_ + "/" + kKeywords;
  struct stat st {};
  FileStamp stamp{};
  if (::stat(path.c_str(), &st) == 0) stamp = FileStamp{st.st_ino, mtime_ns(st), st.st_size};
  if (stamp == keywords_stamp_ && !first_sync_) return {};
  auto text = read_whole_file(path);
  if (!text) return mb::unexpected(text.error());
  keywords_ = *text ? parse_keywords_file(**text) : std::vector<std::string>{};
  keywords_stamp_ = stamp;
  return {};
}

StoreResult<std::vector<std::string>> FolderDisk::ensure_keywords(const std::vector<std::string>& names) {
  if (auto r = load_keywords(); !r) return mb::unexpected(r.error());
  // All or nothing: a name that cannot get one of the 26 letters refuses the whole request
  // (Dovecot's Maildir drops it silently; a client would then believe it was stored).
  std::vector<std::string_view> missing;
  for (const auto& n : names) {
    auto known = [&](std::string_view k) { return ieq(k, n); };
    if (std::none_of(keywords_.begin(), keywords_.end(), known) && std::none_of(missing.begin(), missing.end(), known))
      missing.push_back(n);
  }
  std::size_t free_slots = kMaxKeywords - std::min(kMaxKeywords, keywords_.size()) +
                           static_cast<std::size_t>(std::count(keywords_.begin(), keywords_.end(), std::string()));
  if (missing.size() > free_slots)
    return mb::unexpected(Error{ErrorKind::limit,
                                fmt::format("Too many keywords in this mailbox (at most {})", kMaxKeywords),
                                fmt::format("{}: keyword table full, refusing {}", dir_, missing.front())});
  bool changed = false;
  for (const auto& n : names) {
    bool found = std::any_of(keywords_.begin(), keywords_.end(),
                             [&](const std::string& k) { return ieq(k, n); });
    if (found) continue;
    auto empty = std::find(keywords_.begin(), keywords_.end(), std::string());
    if (empty != keywords_.end()) {
      *empty = n;
    } else if (keywords_.size() < kMaxKeywords) {
      keywords_.push_back(n);
    } else {
      continue;  // not reached: counted above
    }
    changed = true;
  }
  if (changed) {
    if (auto w = write_atomic(kKeywords, format_keywords_file(keywords_)); !w)
      return mb::unexpected(w.error());
    struct stat st {};
    std::string path = dir_ + "/" + kKeywords;
    if (::stat(path.c_str(), &st) == 0) keywords_stamp_ = FileStamp{st.st_ino, mtime_ns(st), st.st_size};
  }
  return keywords_;
}

std::optional<std::string> FolderDisk::locate(std::string_view base, FlagSet flags,
                                              KeywordMask keywords) const {
  std::string p = fmt::format("{}/cur/{}{}", dir_, base, info_suffix(flags, keywords));
  if (::access(p.c_str(), F_OK) == 0) return p;
  for (const char* sub : {"cur", "new"}) {
    std::string d = dir_ + "/" + sub;
    auto names = list_dir(d);
    if (!names) continue;
    for (const auto& n : *names) {
      if (n.size() >= base.size() && n.compare(0, base.size(), base) == 0 &&
          (n.size() == base.size() || n[base.size()] == ':'))
        return d + "/" + n;
    }
  }
  return std::nullopt;
}

FolderDisk::SyncStamps FolderDisk::sync_stamps() const {
  SyncStamps s;
  std::int64_t now = now_ns();
  bool settled = true;
  auto take = [&](const std::string& path, FileStamp& out) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // absent: stays {0, 0, -1}
    out = FileStamp{st.st_ino, mtime_ns(st), st.st_size};
    if (now - out.mtime_ns <= kSettleNs) settled = false;
  };
  take(dir_ + "/cur", s.cur);
  take(dir_ + "/new", s.fresh);
  take(dir_ + "/" + kUidList, s.uidlist);
  take(dir_ + "/" + kKeywords, s.keywords);
  s.trusted = settled;
  return s;
}

StoreResult<SyncOutcome> FolderDisk::sync(const MessageTable& current, std::uint32_t uidvalidity,
                                          Uid next_uid) {
  // Fast path: the four stamps unchanged since the last completed (trusted) sync mean no file
  // was delivered, renamed or removed and neither uidlist nor keywords were rewritten. No
  // lock needed: a change racing with these stats is seen by the next rescan, as if this
  // one had run a moment earlier.
  if (!first_sync_ && last_sync_ && last_sync_->trusted && sync_stamps().same(*last_sync_)) {
    SyncOutcome out;
    out.unchanged = true;
    return out;
  }
  last_sync_.reset();
  if (first_sync_) {
    if (!is_dir(dir_ + "/cur")) {
      if (!create_) return mb::unexpected(Error{ErrorKind::not_found, "Mailbox does not exist", dir_});
      for (std::string d : {dir_ + "/cur", dir_ + "/new", dir_ + "/tmp"})
        if (!make_dirs(d))
          return mb::unexpected(errno_error(errno, "mkdir " + d));
    }
    for (std::string d : {dir_ + "/new", dir_ + "/tmp"}) ::mkdir(d.c_str(), 0700);
    clean_tmp();
  }
  auto lock = UidListLock::acquire(dir_);
  if (!lock) return mb::unexpected(lock.error());
  if (auto k = load_keywords(); !k) return mb::unexpected(k.error());

  // 1. The UID map: ours in memory unless the file changed behind us.
  std::string uidlist_path = dir_ + "/" + kUidList;
  struct stat st {};
  FileStamp stamp{};
  bool exists = ::stat(uidlist_path.c_str(), &st) == 0;
  if (exists) stamp = FileStamp{st.st_ino, mtime_ns(st), st.st_size};
  // Directory mtimes before listing anything: a change after this point moves them on.
  DirStamps dirs = dir_stamps();
  SyncStamps before = sync_stamps();
  if (first_sync_ && exists) {
    bool old_format = false;
    if (auto fast = load_index(stamp, dirs, old_format)) {
      if (before.uidlist == stamp && before.keywords == keywords_stamp_) last_sync_ = before;
      new_stamp_ = before.fresh;
      uidlist_stamp_ = stamp;
      had_uidlist_ = true;
      first_sync_ = false;
      last_index_ = IndexStamps{stamp, dirs};
      fast->keywords = keywords_;
      if (old_format) write_index(*fast, stamp, dirs);  // convert once: later opens read MBIDX002
      return std::move(*fast);
    }
  }
  // Records of files we removed (remove()) or a torn append are compacted away now.
  bool dirty = stale_records_ > 0 || uidlist_torn_;
  bool from_current = true;
  bool was_reset = false;  // new UIDVALIDITY: every UID starts again from 1
  std::optional<UidList> loaded;
  auto reset = [&](const std::string& reason) {
    // Never hand out a UIDVALIDITY twice for this name, even within one second and across
    // DELETE + CREATE (RFC 3501 §2.3.1.1): see next_uidvalidity().
    std::uint32_t fresh = next_uidvalidity(uidvalidity);
    if (!reason.empty())
      mb::log::error("store: {}: {}; new UIDVALIDITY {} (was {})", dir_, reason, fresh, uidvalidity);
    uidvalidity = fresh;
    next_uid = 1;
    loaded = UidList{};
    from_current = false;
    dirty = true;
    was_reset = true;
  };
  if (first_sync_ || !(stamp == uidlist_stamp_)) {
    from_current = false;
    if (exists) {
      auto text = read_whole_file(uidlist_path);
      if (!text) return mb::unexpected(text.error());
      auto parsed = *text ? parse_uidlist(**text) : mb::Result<UidList, std::string>(
                                                        mb::unexpected(std::string("vanished")));
      if (parsed) {
        loaded = std::move(*parsed);
        uidvalidity = loaded->uidvalidity;
        next_uid = loaded->next_uid;
        guid_ = loaded->guid;
        uidlist_torn_ = loaded->torn;
      } else {
        reset("dovecot-uidlist unreadable (" + parsed.error() + ")");
      }
    } else if (first_sync_) {
      auto text = read_whole_file(dir_ + "/" + kCourierUidDb);
      auto parsed = text && *text ? parse_uidlist(**text)
                                  : mb::Result<UidList, std::string>(mb::unexpected(std::string()));
      if (parsed) {
        mb::log::info("store: {}: imported courierimapuiddb (UIDVALIDITY {})", dir_, parsed->uidvalidity);
        loaded = std::move(*parsed);
        uidvalidity = loaded->uidvalidity;
        next_uid = loaded->next_uid;
        dirty = true;
      } else if (text && *text) {
        reset("courierimapuiddb unreadable (" + parsed.error() + ")");
      } else {
        reset("");  // a new folder: first UIDVALIDITY
      }
    } else {
      reset("dovecot-uidlist lost");
    }
  }

  struct Known {
    Uid uid;
    std::optional<std::uint64_t> wire;
    std::size_t current_index;
    std::optional<std::int64_t> date;  // from the dates file (first open)
  };
  std::unordered_map<std::string_view, Known> known;
  if (from_current) {
    known.reserve(current.size());
    for (std::size_t i = 0; i < current.size(); ++i)
      known.emplace(current.base(i), Known{current.infos()[i].uid, current.infos()[i].size, i, std::nullopt});
  } else if (loaded) {
    // Internal dates of listed UIDs, so a warm open never stats message files.
    std::vector<std::pair<Uid, std::int64_t>> dates;
    if (!loaded->entries.empty()) dates = load_dates();
    std::size_t di = 0;
    known.reserve(loaded->entries.size());
    for (const auto& e : loaded->entries) {
      std::size_t ci = current.index_of(e.uid);
      if (ci != MessageTable::npos && current.base(ci) != e.base) ci = MessageTable::npos;
      std::optional<std::int64_t> date;
      while (di < dates.size() && dates[di].first < e.uid) ++di;  // both UID ascending
      if (di < dates.size() && dates[di].first == e.uid) date = dates[di].second;
      known.emplace(e.base, Known{e.uid, e.wire_size, ci, date});
    }
    dates_garbage_ = dates.size() > 2 * loaded->entries.size() + 1000;
  }

  ++listings_;
  // 2. new/ -> cur/ (Maildir convention: a message seen by a reader moves to cur/ with ":2,").
  std::unordered_set<std::string> moved;
  auto new_names = list_dir(dir_ + "/new");
  if (!new_names) return mb::unexpected(new_names.error());
  for (const auto& n : *new_names) {
    std::string src = dir_ + "/new/" + n;
    std::string dst = dir_ + "/cur/" + n + (n.find(':') == std::string::npos ? ":2," : "");
    if (::rename(src.c_str(), dst.c_str()) == 0) {
      moved.insert(std::string(parse_file_name(n).base));
      touch(src);
      touch(dst);
    }
  }
  if (!moved.empty()) dirs.trusted = false;  // we changed both directories ourselves
  // new/ as commit_new() will compare it: as listed (a delivery since moves it on).
  if (moved.empty()) {
    new_stamp_ = before.fresh;
  } else {
    struct stat nst {};
    new_stamp_ = ::stat((dir_ + "/new").c_str(), &nst) == 0 ? FileStamp{nst.st_ino, mtime_ns(nst), nst.st_size}
                                                            : FileStamp{};
  }

  // 3. cur/ listing.
  auto cur_names = list_dir(dir_ + "/cur");
  if (!cur_names) return mb::unexpected(cur_names.error());
  struct Entry {
    Uid uid;
    std::uint64_t sort_key;
    MessageInfo info;
    std::string_view base;
    bool date_new;  // date learnt by stat: record it in the dates file
  };
  std::vector<Entry> entries;
  entries.reserve(cur_names->size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(cur_names->size());
  std::size_t matched = 0;
  KeywordMask kw_valid = keywords_.size() >= 32 ? ~0u : ((1u << keywords_.size()) - 1);
  for (const auto& n : *cur_names) {
    ParsedName pn = parse_file_name(n);
    if (pn.base.empty() || !seen.insert(pn.base).second) continue;
    Entry e{};
    e.date_new = false;
    e.base = pn.base;
    e.info.flags = pn.flags;
    e.info.keywords = pn.keyword_letters & kw_valid;
    auto it = known.find(pn.base);
    bool need_stat = true;
    if (it != known.end()) {
      ++matched;
      e.uid = it->second.uid;
      if (it->second.current_index != MessageTable::npos) {
        const MessageInfo& old = current.infos()[it->second.current_index];
        e.info.internal_date = old.internal_date;
        e.info.size = old.size;
        need_stat = false;
      } else if (pn.wire_size || it->second.wire) {
        e.info.size = pn.wire_size ? *pn.wire_size : *it->second.wire;
        if (it->second.date) {
          e.info.internal_date = *it->second.date;
          need_stat = false;
        }
      }
      if (need_stat) e.date_new = true;
    }
    if (need_stat) {
      std::string p = dir_ + "/cur/" + n;
      struct stat fst {};
      if (::stat(p.c_str(), &fst) != 0) continue;  // vanished meanwhile
      e.info.internal_date = fst.st_mtim.tv_sec;
      if (e.info.size == 0) {
        if (pn.wire_size) {
          e.info.size = *pn.wire_size;
        } else {
          auto w = wire_size_of_file(p);
          if (!w) continue;
          e.info.size = *w;
          dirty = true;  // remember it in the uidlist (W field)
        }
      }
      auto d = delivery_usecs(pn.base);
      e.sort_key = d ? *d : static_cast<std::uint64_t>(fst.st_mtim.tv_sec) * 1000000;
    }
    entries.push_back(e);
  }
  if (matched != known.size()) dirty = true;  // listed files gone: drop them from the uidlist

  // 4. New UIDs in arrival order.
  std::vector<Entry*> fresh;
  for (auto& e : entries)
    if (e.uid == 0) fresh.push_back(&e);
  std::sort(fresh.begin(), fresh.end(), [](const Entry* a, const Entry* b) {
    return a->sort_key != b->sort_key ? a->sort_key < b->sort_key : a->base < b->base;
  });
  for (Entry* e : fresh) {
    e->uid = next_uid++;
    e->date_new = true;
  }
  if (!fresh.empty()) dirty = true;
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.uid < b.uid; });

  SyncOutcome out;
  std::size_t name_bytes = 0;
  for (const auto& e : entries) name_bytes += e.base.size();
  out.table.reserve(entries.size(), name_bytes);
  std::string text;
  if (dirty) {
    // Dovecot reads G as a 128-bit GUID (32 hex digits) and treats anything else as a broken
    // file, which it deletes: earlier versions wrote 16 digits, so those are replaced too.
    if (!is_mailbox_guid(guid_)) guid_ = new_mailbox_guid(uidvalidity);
    text = format_uidlist_header(uidvalidity, next_uid, guid_);
    text.reserve(name_bytes + entries.size() * 12 + 64);
  }
  for (auto& e : entries) {
    e.info.uid = e.uid;
    out.table.push(e.info, e.base);
    if (dirty) append_uidlist_line(text, e.uid, e.base, e.info.size);
    if (moved.count(std::string(e.base)) && (out.first_from_new == 0 || e.uid < out.first_from_new))
      out.first_from_new = e.uid;
  }
  if (dirty) {
    // Persist before anyone can see the new UIDs.
    if (auto w = write_atomic(kUidList, text); !w) return mb::unexpected(w.error());
    stale_records_ = 0;
    uidlist_torn_ = false;
    struct stat nst {};
    if (::stat(uidlist_path.c_str(), &nst) == 0) stamp = FileStamp{nst.st_ino, mtime_ns(nst), nst.st_size};
  }
  // Dates: rewritten when mostly garbage (expunged UIDs), else appended for new entries.
  std::string dates_text;
  bool rewrite = dates_garbage_ || was_reset;
  for (const auto& e : entries)
    if (rewrite || e.date_new) dates_text += std::to_string(e.uid) + " " + std::to_string(e.info.internal_date) + "\n";
  if (rewrite) {
    (void)write_atomic(kDates, dates_text);
    dates_garbage_ = false;
  } else if (!dates_text.empty()) {
    UniqueFd dfd(::open((dir_ + "/" + kDates).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (dfd) (void)write_all(dfd.get(), dates_text.data(), dates_text.size());
  }
  uidlist_stamp_ = stamp;
  had_uidlist_ = true;
  first_sync_ = false;
  // What the next rescan compares with: the directories as before listing (a change since
  // moves them on), the uidlist as written, keywords as loaded above.
  if (moved.empty() && before.keywords == keywords_stamp_ &&
      (before.uidlist == stamp || now_ns() - stamp.mtime_ns > kSettleNs)) {
    before.uidlist = stamp;
    last_sync_ = before;
  }
  out.uidvalidity = uidvalidity;
  out.next_uid = next_uid;
  out.keywords = keywords_;
  // The snapshot lets the next process skip listing cur/ (see load_index); only written
  // when it can be trusted and differs from the last one written.
  if (dirs.trusted && !(last_index_ == IndexStamps{stamp, dirs})) {
    write_index(out, stamp, dirs);
    last_index_ = IndexStamps{stamp, dirs};
  }
  return out;
}

void FolderDisk::touch(const std::string& path) {
  touched_.push_back(path.substr(path.rfind('/') + 1));
}

std::vector<std::string> FolderDisk::take_touched() {
  std::vector<std::string> out;
  out.swap(touched_);
  return out;
}

}  // namespace mb::store::maildir
