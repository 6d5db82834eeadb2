// Writer process for crash_test.cpp: appends, flag changes and expunges on INBOX of the
// Maildir at argv[1] until killed, logging each operation to argv[2]:
//   "f <uid> <flags>"  before a flag change (intent), "F <uid> <flags>" once acknowledged,
//   "A <seq> <uid>"    once an append of the message with "X-Seq: <seq>" is acknowledged,
//   "e <uid>"          before an expunge (intent), "E <uid>" once acknowledged.
// Each line is written with one write(2) and fsync'd before the next operation starts.
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "gateway/store/registry.hpp"

using namespace mb::store;

namespace {

int g_log = -1;

void log_line(const std::string& line) {
  std::string l = line + "\n";
  if (::write(g_log, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::_Exit(3);
  ::fsync(g_log);
}

struct Writer {
  uv_loop_t* loop;
  MailboxPtr box;
  std::mt19937 rng;
  unsigned long seq;

  void next() {
    auto msgs = box->messages();
    int pick = static_cast<int>(rng() % 100);
    if (msgs.empty() || pick < 55 || (pick < 80 && msgs.size() < 5)) {
      unsigned long s = seq++;
      AppendRequest req;
      req.message = "X-Seq: " + std::to_string(s) + "\r\nSubject: crash\r\n\r\nbody " + std::to_string(s) + "\r\n";
      box->append(std::move(req), nullptr, [this, s](StoreResult<Uid> r) {
        if (!r) std::_Exit(4);
        log_line("A " + std::to_string(s) + " " + std::to_string(*r));
        next();
      });
    } else if (pick < 80 && msgs.size() < 40) {
      Uid uid = msgs[rng() % msgs.size()].uid;
      FlagSet f = static_cast<FlagSet>(rng() % 32);
      log_line("f " + std::to_string(uid) + " " + std::to_string(f));
      box->store_flags({uid}, FlagOp::replace, f, {}, nullptr, [this, uid, f](StoreResult<std::vector<Change>> r) {
        if (!r) std::_Exit(5);
        log_line("F " + std::to_string(uid) + " " + std::to_string(f));
        next();
      });
    } else {
      Uid uid = msgs[rng() % msgs.size()].uid;
      log_line("e " + std::to_string(uid));
      box->expunge({uid}, nullptr, [this, uid](StoreResult<std::vector<Uid>> r) {
        if (!r) std::_Exit(6);
        log_line("E " + std::to_string(uid));
        next();
      });
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  g_log = ::open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (g_log < 0) return 2;
  uv_loop_t loop;
  uv_loop_init(&loop);
  StoreSettings s;
  s.path_template = argv[1];
  s.fsync = true;
  auto storage = make_storage(s, &loop);
  if (!storage) return 2;
  Writer w{&loop, nullptr, std::mt19937(static_cast<unsigned>(std::strtoul(argv[3], nullptr, 10))),
           std::strtoul(argv[4], nullptr, 10)};
  UserStorePtr user;
  (*storage)->open_user("writer", "", [&](StoreResult<UserStorePtr> u) {
    if (!u) std::_Exit(7);
    user = *u;
    user->open("INBOX", [&](StoreResult<MailboxPtr> b) {
      if (!b) std::_Exit(8);
      w.box = *b;
      w.next();
    });
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  return 0;
}
