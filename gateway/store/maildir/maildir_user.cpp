// File: gateway/store/maildir/maildir_user.cpp
#include "gateway/store/maildir/maildir_user.hpp"

#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "gateway/store/detail/pool_work.hpp"
#include "gateway/store/mailbox_name.hpp"
#include "gateway/store/maildir/fs_util.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/maildir/mutf7.hpp"

namespace mb::store::maildir {
namespace {

constexpr const char* kSubscriptions = "subscriptions";

Error not_found(const std::string& name) {
  return Error{ErrorKind::not_found, "Mailbox does not exist", name};
}

// Runs `work` on the pool and `done(result)` on the loop.
template <class T>
void run(uv_loop_t* loop, std::function<StoreResult<T>()> work, std::function<void(StoreResult<T>)> done) {
  auto result = std::make_shared<StoreResult<T>>();
  detail::post_work(
      loop, [result, work = std::move(work)] { *result = work(); },
      [result, done = std::move(done)] { done(std::move(*result)); });
}

// Decoded mailbox names of the folders under root (".A.B" -> "A/B").
std::vector<std::string> folder_names(const std::string& root) {
  std::vector<std::string> out;
  auto dirs = list_dot_dirs(root);
  if (!dirs) return out;
  for (const auto& d : *dirs) {
    std::string name;
    bool ok = true;
    std::size_t start = 1;
    while (ok) {
      std::size_t dot = d.find('.', start);
      std::string comp = d.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      auto dec = mutf7_decode(comp);
      if (comp.empty() || !dec) ok = false;
      else name += (name.empty() ? "" : "/") + *dec;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    if (!ok || !normalize_mailbox_name(name)) continue;  // not ours to show
    out.push_back(*normalize_mailbox_name(name));
  }
  return out;
}

// The shared states of a deleted folder (and, for a rename, of its children) must not go on
// writing where it was: they fail every further operation with not_found (mark_gone()).
void mark_gone_under(UserContext& ctx, const std::string& dir, bool children) {
  std::vector<std::shared_ptr<MaildirMailbox>> gone;
  for (const auto& [d, weak] : ctx.registry->by_dir) {
    if (d == dir || (children && d.rfind(dir + ".", 0) == 0))
      if (auto mb = weak.lock()) gone.push_back(std::move(mb));
  }
  for (auto& mb : gone) mb->mark_gone();
}

StoreResult<void> make_folder(const std::string& dir) {
  for (std::string d : {dir + "/cur", dir + "/new", dir + "/tmp"})
    if (!make_dirs(d)) return mb::unexpected(errno_error(errno, "mkdir " + d));
  std::string marker = dir + "/maildirfolder";
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  return {};
}

StoreResult<std::vector<std::string>> read_subscriptions(const std::string& root) {
  auto text = read_whole_file(root + "/" + kSubscriptions);
  if (!text) return mb::unexpected(text.error());
  if (!*text) return std::vector<std::string>{};
  return parse_subscriptions(**text);
}

}  // namespace

std::vector<std::string> parse_subscriptions(std::string_view text) {
  std::vector<std::string> out;
  bool v2 = text.substr(0, 3) == "V\t2";
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string line(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (first && v2) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    if (v2) {
      std::replace(line.begin(), line.end(), '\t', '/');
    } else {
      // Courier: "INBOX.A.B" means folder "A/B"; a bare name is used as is.
      if (line.rfind("INBOX.", 0) == 0) line = line.substr(6);
      std::replace(line.begin(), line.end(), '.', '/');
    }
    if (auto n = normalize_mailbox_name(line)) out.push_back(*n);
  }
  return out;
}

std::string format_subscriptions(const std::vector<std::string>& names) {
  std::string out = "V\t2\n\n";
  for (auto n : names) {
    std::replace(n.begin(), n.end(), '/', '\t');
    out += n + "\n";
  }
  return out;
}

std::string UserContext::folder_dir(const std::string& normalized_name) const {
  if (normalized_name == "INBOX") return root;
  std::string dir = root + "/";
  std::size_t start = 0;
  while (true) {
    std::size_t slash = normalized_name.find('/', start);
    dir += "." + mutf7_encode(normalized_name.substr(
                     start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return dir;
}

void MaildirUserStore::list(std::function<void(StoreResult<std::vector<MailboxEntry>>)> done) {
  auto ctx = ctx_;
  run<std::vector<MailboxEntry>>(
      ctx->loop,
      [ctx]() -> StoreResult<std::vector<MailboxEntry>> {
        std::set<std::string> real;
        real.insert("INBOX");
        for (auto& n : folder_names(ctx->root)) real.insert(n);
        auto subs = read_subscriptions(ctx->root);
        std::set<std::string> subscribed;
        if (subs) subscribed.insert(subs->begin(), subs->end());
        std::set<std::string> all = real;
        for (const auto& n : real)
          for (std::size_t p = n.find('/'); p != std::string::npos; p = n.find('/', p + 1))
            all.insert(n.substr(0, p));
        for (const auto& s : subscribed) all.insert(s);
        std::vector<MailboxEntry> out;
        for (const auto& n : all) {
          MailboxEntry e;
          e.name = n;
          e.noselect = !real.count(n);
          e.subscribed = subscribed.count(n) > 0;
          auto child = all.lower_bound(n + "/");
          e.has_children = child != all.end() && child->rfind(n + "/", 0) == 0;
          for (const auto& [use, names] : ctx->special_use_names)
            if (std::find(names.begin(), names.end(), n) != names.end()) e.special_use = use;
          out.push_back(std::move(e));
        }
        std::stable_partition(out.begin(), out.end(), [](const MailboxEntry& e) { return e.name == "INBOX"; });
        return out;
      },
      std::move(done));
}

void MaildirUserStore::create(std::string name, std::function<void(StoreResult<void>)> done) {
  auto ctx = ctx_;
  run<void>(
      ctx->loop,
      [ctx, name]() -> StoreResult<void> {
        auto n = normalize_mailbox_name(name);
        if (!n) return mb::unexpected(n.error());
        std::string dir = ctx->folder_dir(*n);
        if (*n == "INBOX" || is_dir(dir + "/cur"))
          return mb::unexpected(Error{ErrorKind::exists, "Mailbox already exists", *n});
        // Parents first (Maildir++ keeps each level as its own folder).
        for (std::size_t p = n->find('/'); p != std::string::npos; p = n->find('/', p + 1)) {
          std::string parent = n->substr(0, p);
          if (parent == "INBOX") continue;
          if (auto r = make_folder(ctx->folder_dir(parent)); !r) return r;
        }
        return make_folder(dir);
      },
      std::move(done));
}

void MaildirUserStore::remove(std::string name, std::function<void(StoreResult<void>)> done) {
  auto ctx = ctx_;
  ctx->registry->forget_under(ctx->root);  // no stale lingering state for the changed names
  run<void>(
      ctx->loop,
      [ctx, name]() -> StoreResult<void> {
        auto n = normalize_mailbox_name(name);
        if (!n) return mb::unexpected(n.error());
        if (*n == "INBOX")
          return mb::unexpected(Error{ErrorKind::no_permission, "INBOX cannot be deleted", *n});
        std::string dir = ctx->folder_dir(*n);
        if (!is_dir(dir)) return mb::unexpected(not_found(*n));
        // Children live in their own ".A.B" directories and stay; "A" then shows as \Noselect.
        // A mailbox released just before may still have a queued write (its \Recent
        // boundary, index snapshot or cache file) landing in the folder while it is removed;
        // such a write fails once the directory is gone, so a short retry finishes the job.
        bool removed = false;
        for (int attempt = 0; attempt < 5 && !removed; ++attempt) {
          if (attempt > 0) ::usleep(20 * 1000);
          removed = remove_tree(dir);
        }
        if (!removed)
          return mb::unexpected(Error{ErrorKind::internal, "Could not delete the mailbox", dir});
        return {};
      },
      [ctx, name, done = std::move(done)](StoreResult<void> r) {
        if (r) {
          if (auto n = normalize_mailbox_name(name)) mark_gone_under(*ctx, ctx->folder_dir(*n), false);
        }
        done(std::move(r));
      });
}

void MaildirUserStore::rename(std::string from, std::string to, std::function<void(StoreResult<void>)> done) {
  auto ctx = ctx_;
  ctx->registry->forget_under(ctx->root);  // no stale lingering state for the changed names
  run<void>(
      ctx->loop,
      [ctx, from, to]() -> StoreResult<void> {
        auto f = normalize_mailbox_name(from);
        if (!f) return mb::unexpected(f.error());
        auto t = normalize_mailbox_name(to);
        if (!t) return mb::unexpected(t.error());
        std::string fdir = ctx->folder_dir(*f), tdir = ctx->folder_dir(*t);
        if (*t == "INBOX" || is_dir(tdir)) return mb::unexpected(Error{ErrorKind::exists, "Mailbox already exists", *t});
        if (*f == "INBOX") {
          // RFC 3501 §6.3.5: move INBOX's messages into the new mailbox; INBOX stays, empty.
          if (auto r = make_folder(tdir); !r) return r;
          for (const char* sub : {"cur", "new"}) {
            auto names = list_dir(fdir + "/" + sub);
            if (!names) continue;
            for (const auto& file : *names)
              ::rename((fdir + "/" + sub + "/" + file).c_str(), (tdir + "/" + sub + "/" + file).c_str());
          }
          return {};
        }
        if (!is_dir(fdir)) return mb::unexpected(not_found(*f));
        if (tdir.rfind(fdir + ".", 0) == 0)
          return mb::unexpected(Error{ErrorKind::bad_name, "Cannot rename a mailbox into its own child", *t});
        // The folder and its children: ".A" and ".A.*".
        std::string fprefix = fdir.substr(ctx->root.size() + 1) + ".";
        std::string tprefix = tdir.substr(ctx->root.size() + 1) + ".";
        auto dirs = list_dot_dirs(ctx->root);
        if (::rename(fdir.c_str(), tdir.c_str()) != 0) return mb::unexpected(errno_error(errno, "rename " + fdir));
        if (dirs) {
          for (const auto& d : *dirs)
            if (d.rfind(fprefix, 0) == 0)
              ::rename((ctx->root + "/" + d).c_str(), (ctx->root + "/" + tprefix + d.substr(fprefix.size())).c_str());
        }
        return {};
      },
      [ctx, from, done = std::move(done)](StoreResult<void> r) {
        auto f = normalize_mailbox_name(from);
        if (r && f && *f != "INBOX") mark_gone_under(*ctx, ctx->folder_dir(*f), true);
        done(std::move(r));
      });
}

void MaildirUserStore::subscribe(std::string name, bool subscribed, std::function<void(StoreResult<void>)> done) {
  auto ctx = ctx_;
  run<void>(
      ctx->loop,
      [ctx, name, subscribed]() -> StoreResult<void> {
        auto n = normalize_mailbox_name(name);
        if (!n) return mb::unexpected(n.error());
        ::mkdir(ctx->root.c_str(), 0700);
        auto subs = read_subscriptions(ctx->root);
        if (!subs) return mb::unexpected(subs.error());
        auto it = std::find(subs->begin(), subs->end(), *n);
        if (subscribed == (it != subs->end())) return {};
        if (subscribed) subs->push_back(*n);
        else subs->erase(it);
        std::string tmp = ctx->root + "/" + kSubscriptions + ".mbtmp";
        std::string text = format_subscriptions(*subs);
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd || !write_all(fd.get(), text.data(), text.size()) || (ctx->fsync && ::fsync(fd.get()) != 0))
          return mb::unexpected(errno_error(errno, "write " + tmp));
        fd.reset();
        if (::rename(tmp.c_str(), (ctx->root + "/" + kSubscriptions).c_str()) != 0)
          return mb::unexpected(errno_error(errno, "rename " + tmp));
        return {};
      },
      std::move(done));
}

void MaildirUserStore::status(std::string name, std::function<void(StoreResult<MailboxStatus>)> done) {
  open_mailbox(ctx_, std::move(name),
               [done = std::move(done)](StoreResult<std::shared_ptr<MaildirMailbox>> mb) {
                 if (!mb) return done(mb::unexpected(mb.error()));
                 const auto& box = **mb;
                 MailboxStatus s;
                 auto msgs = box.messages();
                 s.messages = static_cast<std::uint32_t>(msgs.size());
                 for (const auto& m : msgs) {
                   if (!(m.flags & kSeen)) ++s.unseen;
                   s.size += m.size;
                 }
                 s.recent = box.recent_count();
                 s.uidnext = box.uidnext();
                 s.uidvalidity = box.uidvalidity();
                 s.highest_modseq = box.highest_modseq();
                 done(s);
               });
}

void MaildirUserStore::open(std::string name, std::function<void(StoreResult<MailboxPtr>)> done) {
  open_mailbox(ctx_, std::move(name), [done = std::move(done)](StoreResult<std::shared_ptr<MaildirMailbox>> mb) {
    if (!mb) return done(mb::unexpected(mb.error()));
    done(MailboxPtr(std::move(*mb)));
  });
}

}  // namespace mb::store::maildir
