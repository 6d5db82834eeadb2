// Bench: read every message of a Maildir through Mailbox::read() in 64 KB chunks.
//   store_read [--parallel K] [--rounds R] [--max-size BYTES] [--now [--stuff]] DIR
// --now: Mailbox::read_now() on the loop instead (the page-cache fast path of RETR and FETCH
// BODY[]; falls back to read() when it would block), --stuff with POP3's '.' line escape.
// Opens DIR as the user's INBOX (the first open is not timed), then R rounds of reading all
// messages (of at most BYTES wire octets) to the end, K messages in flight at once (K sessions reading different messages of
// one folder). Prints per round: server CPU (process, all threads) and wall µs per message,
// and MB/s of wire octets. DIR gets mailbridge-* files: point it at a copy.
#include <uv.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "gateway/store/registry.hpp"

using namespace mb::store;

namespace {

constexpr std::size_t kChunk = 64 * 1024;

double cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Reader {
  Mailbox* box = nullptr;
  std::vector<Uid>* uids = nullptr;
  std::size_t* next = nullptr;
  std::uint64_t* bytes = nullptr;
  int* active = nullptr;
  Uid uid = 0;
  std::uint64_t offset = 0;

  void start_next() {
    if (*next >= uids->size()) {
      --*active;
      return;
    }
    uid = (*uids)[(*next)++];
    offset = 0;
    step();
  }
  bool now = false;
  char escape = 0;
  std::vector<char>* buf = nullptr;

  void step() {
    while (now) {
      auto r = box->read_now(uid, offset, kChunk, buf->data(), escape);
      if (!r) break;  // would block: the pool
      if (!*r) {
        std::fprintf(stderr, "read_now %u failed: %s\n", uid, r->error().internal_text.c_str());
        std::exit(1);
      }
      offset += (*r)->wire;
      *bytes += (*r)->wire;
      if ((*r)->wire < kChunk) return start_next();
    }
    box->read(uid, offset, kChunk, [this](StoreResult<std::string> r) {
      if (!r) {
        std::fprintf(stderr, "read %u failed: %s\n", uid, r.error().internal_text.c_str());
        std::exit(1);
      }
      offset += r->size();
      *bytes += r->size();
      if (r->size() < kChunk) start_next();  // the end of this message
      else step();
    });
  }
};

}  // namespace

int main(int argc, char** argv) {
  int parallel = 1, rounds = 3;
  std::uint64_t max_size = ~std::uint64_t{0};
  std::string dir;
  bool now = false;
  char escape = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--now") == 0) {
      now = true;
      continue;
    }
    if (std::strcmp(argv[i], "--stuff") == 0) {
      escape = '.';
      continue;
    }
    if (std::strcmp(argv[i], "--parallel") == 0 && i + 1 < argc) parallel = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--max-size") == 0 && i + 1 < argc) max_size = std::strtoull(argv[++i], nullptr, 10);
    else dir = argv[i];
  }
  if (dir.empty() || parallel < 1) {
    std::fprintf(stderr, "usage: store_read [--parallel K] [--rounds R] [--max-size BYTES] [--now [--stuff]] DIR\n");
    return 2;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    StoreSettings s;
    s.path_template = dir;
    s.fsync = false;
    auto storage = make_storage(s, &loop);
    if (!storage) return 1;
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
    std::vector<Uid> uids;
    std::uint64_t wire_total = 0;
    for (const auto& m : box->messages()) {
      if (m.size > max_size) continue;
      uids.push_back(m.uid);
      wire_total += m.size;
    }
    std::printf("store_read: %zu messages, %.1f MB wire, %d in flight, %zu-byte chunks\n", uids.size(),
                static_cast<double>(wire_total) / 1e6, parallel, kChunk);
    for (int round = 0; round < rounds; ++round) {
      std::size_t next = 0;
      std::uint64_t bytes = 0;
      int active = parallel;
      std::vector<Reader> readers(static_cast<std::size_t>(parallel));
      std::vector<std::vector<char>> bufs(static_cast<std::size_t>(parallel), std::vector<char>(2 * kChunk));
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_us();
      for (std::size_t k = 0; k < readers.size(); ++k) {
        Reader& r = readers[k];
        r = Reader{box.get(), &uids, &next, &bytes, &active};
        r.now = now;
        r.escape = escape;
        r.buf = &bufs[k];
        r.start_next();
      }
      while (active > 0) uv_run(&loop, UV_RUN_ONCE);
      double cpu = cpu_us() - c0;
      double wall = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
      if (bytes != wire_total) std::printf("  WARNING: read %llu bytes, sizes say %llu\n",
                                           static_cast<unsigned long long>(bytes),
                                           static_cast<unsigned long long>(wire_total));
      double n = static_cast<double>(uids.size());
      std::printf("  round %d: %.1f us CPU/message, %.1f us wall/message, %.0f MB/s (CPU), %.0f MB/s (wall)\n",
                  round + 1, cpu / n, wall / n, static_cast<double>(bytes) / cpu,
                  static_cast<double>(bytes) / wall);
    }
    box.reset();
    user.reset();
    storage->reset();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  uv_loop_close(&loop);
  return 0;
}
