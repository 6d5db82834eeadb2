// Bench: open (list UIDs, flags and sizes of) a large Maildir through mb_store.
//   store_open [--count N] DIR
// Builds DIR (a Maildir with N small messages named with ,S= and ,W=, 1 in 3 \Seen) if DIR/cur
// is missing, then times: cold open (no dovecot-uidlist: every file is stat'ed and given a UID,
// the uidlist written) and warm open (uidlist present, fresh process state), and prints the
// bytes per message of the shared in-memory state. Message bodies are never read.
// Compare with Dovecot on the same tree: tests/bench/store_open_dovecot.sh DIR.
//   store_open --append N DIR
// A/B of the APPEND disk path (FolderDisk, fsync on), N appends per folder, 1 and 4 folders
// appending at once (4: libuv's default pool size), the two orders alternating in blocks of
// 10: "serial" = save() then commit_new() (file fsync, rename, cur/ fsync, then the uidlist
// record's fdatasync: three flushes in a row), "overlap" = write_tmp(), publish() on a second
// thread beside commit_new() (what MaildirMailbox::append does). Prints p50/p99 per append.
// DIR is a scratch directory (folders f0..f3 are made in it; remove it afterwards).
//   store_open --relogin N DIR
// Times what a POP3 login costs the store on an existing Maildir (DIR must hold one; use a
// copy): N x (open_user, open INBOX, rescan, snapshot messages(), release), in one process,
// with released mailboxes lingering (the default) and without (every login opens from disk).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <thread>

#include "gateway/store/maildir/folder_disk.hpp"
#include "gateway/store/maildir/maildir_mailbox.hpp"
#include "gateway/store/registry.hpp"

using namespace mb::store;

namespace {

void build_tree(const std::string& dir, int n) {
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) ::mkdir((dir + sub).c_str(), 0700);
  std::string body = "From: bench@example.org\nTo: user@example.org\nSubject: bench message\n\nHello.\n";
  std::size_t wire = body.size() + 5;  // five LF -> CRLF
  for (int i = 0; i < n; ++i) {
    char name[256];
    std::snprintf(name, sizeof name, "%s/cur/%d.M%dP4242Q%d.bench,S=%zu,W=%zu:2,%s", dir.c_str(),
                  1700000000 + i / 10, (i % 10) * 1000, i, body.size(), wire, i % 3 == 0 ? "S" : "");
    int fd = ::open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::write(fd, body.data(), body.size()) < 0) std::exit(1);
    ::close(fd);
  }
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Result {
  double cpu;  // process CPU time (all threads): the host's other load does not count
  double ms;
  std::size_t messages;
  std::size_t state_bytes;
  std::uint32_t uidvalidity;
};

Result open_once(const std::string& dir) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Result r{};
  {
    StoreSettings s;
    s.path_template = dir;
    auto storage = make_storage(s, &loop);
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_ms();
    MailboxPtr box;
    UserStorePtr user;
    (*storage)->open_user("bench", "", [&](StoreResult<UserStorePtr> u) {
      user = *u;
      user->open("INBOX", [&](StoreResult<MailboxPtr> b) {
        if (!b) {
          std::fprintf(stderr, "open failed: %s\n", b.error().internal_text.c_str());
          std::exit(1);
        }
        box = *b;
      });
    });
    while (!box) uv_run(&loop, UV_RUN_ONCE);
    r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.cpu = cpu_ms() - c0;
    r.messages = box->messages().size();
    r.uidvalidity = box->uidvalidity();
    if (auto* m = dynamic_cast<maildir::MaildirMailbox*>(box.get())) r.state_bytes = m->state_memory_bytes();
    box.reset();
    user.reset();
    storage->reset();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return r;
}

// N logins as POP3 does them; returns CPU and wall µs per login.
void relogin(const std::string& dir, int n, std::uint64_t linger_ms) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    StoreSettings s;
    s.path_template = dir;
    s.mailbox_linger_ms = linger_ms;
    auto storage = make_storage(s, &loop);
    std::size_t seen = 0;
    auto once = [&] {
      bool finished = false;
      (*storage)->open_user("bench", "", [&](StoreResult<UserStorePtr> u) {
        UserStorePtr user = *u;
        user->open("INBOX", [&, user](StoreResult<MailboxPtr> b) {
          if (!b) {
            std::fprintf(stderr, "open failed: %s\n", b.error().internal_text.c_str());
            std::exit(1);
          }
          MailboxPtr box = *b;
          box->rescan([&, box](StoreResult<void> r) {
            if (!r) std::exit(1);
            std::vector<MessageInfo> snapshot(box->messages().begin(), box->messages().end());
            seen = snapshot.size();
            finished = true;
          });
        });
      });
      while (!finished) uv_run(&loop, UV_RUN_ONCE);
      uv_run(&loop, UV_RUN_NOWAIT);  // let the released objects go
    };
    once();  // warm-up: first open of the process
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_ms();
    for (int i = 0; i < n; ++i) once();
    double cpu = cpu_ms() - c0;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  relogin (linger %s): %zu messages, %8.1f us CPU, %8.1f us wall per login\n",
                linger_ms ? "on " : "off", seen, cpu * 1e3 / n, ms * 1e3 / n);
    storage->reset();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
}

// One append on `disk`; returns its latency in ms.
double append_once(maildir::FolderDisk& disk, Uid& next_uid, bool overlap, int k) {
  std::string msg = "From: bench@example.org\r\nSubject: append " + std::to_string(k) + "\r\n\r\nHello.\r\n";
  auto t0 = std::chrono::steady_clock::now();
  if (!overlap) {
    auto saved = disk.save(msg, 0, 0, std::nullopt);
    if (!saved) std::exit(1);
    auto c = disk.commit_new({*saved}, next_uid);
    if (!c || !*c) std::exit(1);
    next_uid = (*c)->next_uid;
  } else {
    auto pending = disk.write_tmp(msg, 0, 0, std::nullopt);
    if (!pending) std::exit(1);
    StoreResult<void> published;
    std::thread side([&] { published = maildir::FolderDisk::publish(*pending); });
    auto c = disk.commit_new({pending->saved}, next_uid, [&] { side.join(); });
    if (side.joinable()) side.join();
    if (!published || !c || !*c) std::exit(1);
    disk.note_published(*pending);
    next_uid = (*c)->next_uid;
  }
  (void)disk.take_touched();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void append_bench(const std::string& dir, int n) {
  for (int folders : {1, 4}) {
    std::vector<double> lat[2];
    std::vector<std::thread> threads;
    std::vector<std::vector<double>> per(static_cast<std::size_t>(folders) * 2);
    for (int f = 0; f < folders; ++f) {
      threads.emplace_back([&, f] {
        std::string d = dir + "/f" + std::to_string(f) + "x" + std::to_string(folders);
        maildir::FolderDisk disk(d, /*fsync=*/true, /*create_if_missing=*/true);
        auto first = disk.sync(maildir::MessageTable{}, 0, 1);
        if (!first) std::exit(1);
        Uid next = first->next_uid;
        for (int k = 0; k < n; ++k) {
          bool overlap = (k / 10) % 2 == 1;
          per[static_cast<std::size_t>(f * 2 + (overlap ? 1 : 0))].push_back(append_once(disk, next, overlap, k));
        }
      });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < per.size(); ++i) lat[i % 2].insert(lat[i % 2].end(), per[i].begin(), per[i].end());
    for (int m = 0; m < 2; ++m) {
      auto& v = lat[m];
      std::sort(v.begin(), v.end());
      auto pct = [&](double p) { return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]; };
      std::printf("  append, %d folder%s at once, %-7s: %zu appends, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms\n", folders,
                  folders > 1 ? "s" : " ", m ? "overlap" : "serial", v.size(), pct(0.5), pct(0.9), pct(0.99));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int n = 100000;
  int relogins = 0;
  int warm_only = 0;
  int appends = 0;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0 && i + 1 < argc) n = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--relogin") == 0 && i + 1 < argc) relogins = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--warm") == 0 && i + 1 < argc) warm_only = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--append") == 0 && i + 1 < argc) appends = std::atoi(argv[++i]);
    else dir = argv[i];
  }
  if (relogins > 0 && !dir.empty()) {
    relogin(dir, relogins, 0);
    relogin(dir, relogins, 30000);
    return 0;
  }
  if (appends > 0 && !dir.empty()) {
    ::mkdir(dir.c_str(), 0700);
    append_bench(dir, appends);
    return 0;
  }
  if (warm_only > 0 && !dir.empty()) {
    // Warm opens only (profiling): the tree keeps its uidlist and snapshots.
    double best_ms = 1e9, best_cpu = 1e9, sum_ms = 0, sum_cpu = 0;
    for (int i = 0; i < warm_only; ++i) {
      Result r = open_once(dir);
      best_ms = std::min(best_ms, r.ms);
      best_cpu = std::min(best_cpu, r.cpu);
      sum_ms += r.ms;
      sum_cpu += r.cpu;
    }
    std::printf("warm open x%d: mean %.1f ms wall, %.1f ms CPU; best %.1f ms wall, %.1f ms CPU\n", warm_only,
                sum_ms / warm_only, sum_cpu / warm_only, best_ms, best_cpu);
    return 0;
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: store_open [--count N] [--warm N] DIR\n");
    return 2;
  }
  struct stat st {};
  if (::stat((dir + "/cur").c_str(), &st) != 0) {
    auto t0 = std::chrono::steady_clock::now();
    build_tree(dir, n);
    std::printf("built %d messages in %.0f ms\n", n,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  ::unlink((dir + "/dovecot-uidlist").c_str());
  Result cold = open_once(dir);
  Result warm = open_once(dir);
  Result warm2 = open_once(dir);
  std::printf("store_open: %zu messages\n", cold.messages);
  std::printf("  cold open (no uidlist): %8.1f ms wall, %8.1f ms CPU\n", cold.ms, cold.cpu);
  std::printf("  warm open (uidlist):    %8.1f ms wall, %8.1f ms CPU; again %.1f ms wall, %.1f ms CPU\n",
              warm.ms, warm.cpu, warm2.ms, warm2.cpu);
  std::printf("  shared state: %zu bytes = %.1f bytes/message\n", warm.state_bytes,
              warm.messages ? static_cast<double>(warm.state_bytes) / static_cast<double>(warm.messages) : 0.0);
  std::printf("  uidvalidity kept across opens: %s\n", warm.uidvalidity == warm2.uidvalidity ? "yes" : "NO");
  return 0;
}
