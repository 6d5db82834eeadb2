// File: gateway/store/maildir/folder_write.cpp
//
// FolderDisk's writes to the folder's files: a new message goes to tmp/, is fsynced and
// renamed into cur/, then cur/ is fsynced (write_tmp + publish, or save; save_from_file links
// or copies an existing file); a flag change renames the file (its info suffix; cur/ is
// fsynced after it only with store.fsync_flags), an expunge unlinks it and fsyncs cur/. Kept
// apart from folder_disk.cpp's listing and UID assignment (sync).
#include <sys/stat.h>

#include <cerrno>
#include <ctime>

#include <fmt/format.h>

#include "gateway/store/maildir/file_name.hpp"
#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/fs_util.hpp"

namespace mb::store::maildir {

StoreResult<PendingSave> FolderDisk::write_tmp(const std::string& message, FlagSet flags, KeywordMask keywords,
                                               std::optional<std::int64_t> internal_date) {
  // Stored with LF line ends like Dovecot; the wire form (CRLF) is produced on read.
  std::string stored;
  stored.reserve(message.size());
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\r' && i + 1 < message.size() && message[i + 1] == '\n') continue;
    stored.push_back(message[i]);
  }
  bool prev_cr = false;
  std::uint64_t wire = wire_size_of(stored, prev_cr);
  PendingSave p;
  p.saved = SavedFile{make_base(stored.size(), wire), MessageInfo{}};
  p.saved.info.flags = flags;
  p.saved.info.keywords = keywords;
  p.saved.info.size = wire;
  p.tmp = dir_ + "/tmp/" + p.saved.base;
  p.dst = dir_ + "/cur/" + p.saved.base + info_suffix(flags, keywords);
  p.fsync = fsync_;
  p.fd = UniqueFd(::open(p.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!p.fd) return mb::unexpected(errno_error(errno, "create " + p.tmp));
  if (!write_all(p.fd.get(), stored.data(), stored.size())) {
    int err = errno;
    p.fd.reset();
    ::unlink(p.tmp.c_str());
    return mb::unexpected(errno_error(err, "write " + p.tmp));
  }
  // The date before the fsync, so that it is made durable with the data.
  if (internal_date) {
    timespec ts[2] = {{static_cast<time_t>(*internal_date), 0}, {static_cast<time_t>(*internal_date), 0}};
    ::futimens(p.fd.get(), ts);
    p.saved.info.internal_date = *internal_date;
  } else {
    struct stat fst {};
    p.saved.info.internal_date = ::fstat(p.fd.get(), &fst) == 0 ? fst.st_mtim.tv_sec : std::time(nullptr);
  }
  return p;
}

StoreResult<void> FolderDisk::publish(PendingSave& p) {
  if (p.fsync && ::fsync(p.fd.get()) != 0) {
    int err = errno;
    p.fd.reset();
    ::unlink(p.tmp.c_str());
    return mb::unexpected(errno_error(err, "fsync " + p.tmp));
  }
  p.fd.reset();
  if (::rename(p.tmp.c_str(), p.dst.c_str()) != 0) {
    int err = errno;
    ::unlink(p.tmp.c_str());
    return mb::unexpected(errno_error(err, "rename " + p.tmp));
  }
  if (p.fsync) fsync_dir(p.dst.substr(0, p.dst.rfind('/')));
  return {};
}

StoreResult<SavedFile> FolderDisk::save(const std::string& message, FlagSet flags, KeywordMask keywords,
                                        std::optional<std::int64_t> internal_date) {
  auto p = write_tmp(message, flags, keywords, internal_date);
  if (!p) return mb::unexpected(p.error());
  if (auto r = publish(*p); !r) return mb::unexpected(r.error());
  note_published(*p);
  return std::move(p->saved);
}

StoreResult<SavedFile> FolderDisk::save_from_file(const std::string& path, FlagSet flags,
                                                  KeywordMask keywords, std::int64_t internal_date) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return mb::unexpected(errno_error(errno, "stat " + path));
  auto pn = parse_file_name(path.substr(path.rfind('/') + 1));
  std::uint64_t wire = 0;
  if (pn.wire_size) {
    wire = *pn.wire_size;
  } else if (auto w = wire_size_of_file(path)) {
    wire = *w;
  } else {
    return mb::unexpected(errno_error(errno, "read " + path));
  }
  SavedFile saved{make_base(static_cast<std::uint64_t>(st.st_size), wire), MessageInfo{}};
  saved.info.flags = flags;
  saved.info.keywords = keywords;
  saved.info.size = wire;
  saved.info.internal_date = internal_date;
  std::string tmp = dir_ + "/tmp/" + saved.base;
  if (::link(path.c_str(), tmp.c_str()) != 0) {
    // Different file system or no hard links: copy.
    auto content = read_whole_file(path);
    if (!content) return mb::unexpected(content.error());
    if (!*content) return mb::unexpected(errno_error(ENOENT, "read " + path));
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return mb::unexpected(errno_error(errno, "create " + tmp));
    if (!write_all(fd.get(), (*content)->data(), (*content)->size()) ||
        (fsync_ && ::fsync(fd.get()) != 0)) {
      int err = errno;
      ::unlink(tmp.c_str());
      return mb::unexpected(errno_error(err, "write " + tmp));
    }
    timespec ts[2] = {{static_cast<time_t>(internal_date), 0}, {static_cast<time_t>(internal_date), 0}};
    ::futimens(fd.get(), ts);
  }
  std::string dst = dir_ + "/cur/" + saved.base + info_suffix(flags, keywords);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return mb::unexpected(errno_error(err, "rename " + tmp));
  }
  touch(dst);
  if (fsync_) fsync_dir(dir_ + "/cur");
  return saved;
}

StoreResult<std::vector<FlagUpdate>> FolderDisk::set_flags(const MessageTable& current,
                                                           const std::vector<FlagUpdate>& wanted) {
  std::vector<FlagUpdate> done;
  for (const auto& w : wanted) {
    std::size_t i = current.index_of(w.uid);
    if (i == MessageTable::npos) continue;
    const MessageInfo& old = current.infos()[i];
    if (old.flags == w.flags && old.keywords == w.keywords) continue;
    std::string_view base = current.base(i);
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      auto src = locate(base, old.flags, old.keywords);
      if (!src) break;
      // Letters we do not manage (P, a foreign server's) stay in the name.
      std::string foreign = foreign_info_letters(std::string_view(*src).substr(src->rfind('/') + 1));
      std::string dst = fmt::format("{}/cur/{}{}", dir_, base, info_suffix(w.flags, w.keywords, foreign));
      ok = *src == dst || ::rename(src->c_str(), dst.c_str()) == 0;
      if (ok) {
        touch(*src);
        touch(dst);
      }
      if (!ok && errno != ENOENT) return mb::unexpected(errno_error(errno, "rename " + *src));
    }
    if (ok) done.push_back(w);
  }
  // A rename within cur/ changes no message and no UID: after a power loss the file keeps its
  // old flags at worst (kill -9 loses nothing: the kernel has the rename). Flushing cur/ per
  // STORE made the disk write ~170 MB/s of journal under 14k STOREs/s and slowed every other
  // fsync (new mail) behind it, so it is the admin's choice (store.fsync_flags).
  if (!done.empty() && fsync_flags_) fsync_dir(dir_ + "/cur");
  return done;
}

StoreResult<std::vector<Uid>> FolderDisk::remove(const MessageTable& current, const std::vector<Uid>& uids) {
  std::vector<Uid> done;
  for (Uid uid : uids) {
    std::size_t i = current.index_of(uid);
    if (i == MessageTable::npos) continue;
    const MessageInfo& m = current.infos()[i];
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto p = locate(current.base(i), m.flags, m.keywords);
      if (!p) {
        done.push_back(uid);  // already gone (another process expunged it): gone all the same
        break;
      }
      if (::unlink(p->c_str()) == 0) {
        touch(*p);
        done.push_back(uid);
        break;
      }
      if (errno != ENOENT) return mb::unexpected(errno_error(errno, "unlink " + *p));
    }
  }
  stale_records_ += done.size();
  if (!done.empty() && fsync_) fsync_dir(dir_ + "/cur");
  return done;
}

}  // namespace mb::store::maildir
