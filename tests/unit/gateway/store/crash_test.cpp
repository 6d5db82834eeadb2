// Crash safety: a writer process (crash_writer.cpp) is SIGKILLed at random moments, many
// rounds; after each kill the store is reopened and checked against the writer's log of
// acknowledged operations:
//   every acknowledged append is present with its UID unless acknowledged expunged (or an
//   expunge of it was started and not acknowledged: it may or may not have happened);
//   acknowledged expunges are gone; flags are the last acknowledged ones or the one in flight;
//   UIDs are unique and increase in arrival (X-Seq) order; UIDVALIDITY never changes;
//   no message is visible twice; files left in tmp/ are never shown; a UID recorded in
//   dovecot-uidlist is never given to another file later (APPEND writes the record while its
//   file's fsync and rename run: a kill between them leaves a record without a file, an
//   expunged UID that must not be reused).
// Bounded to about 60 s (rounds stop early when the budget is spent; no timing asserts).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

constexpr int kMaxRounds = 400;
std::chrono::seconds budget() {
  const char* env = std::getenv("MB_CRASH_SECONDS");
  return std::chrono::seconds(env ? std::atoi(env) : 45);
}

struct Expected {
  std::map<Uid, unsigned long> appended;  // uid -> seq, acknowledged and not expunged
  std::map<Uid, FlagSet> flags;           // last acknowledged
  std::map<Uid, std::set<FlagSet>> in_flight;  // intents since the last acknowledgement: any may be applied
  std::set<Uid> expunged;
  std::set<Uid> expunge_in_flight;        // intent without acknowledgement: may be gone
  std::vector<Uid> append_order;
};

Expected parse_log(const std::string& text) {
  Expected e;
  std::size_t pos = 0;
  while (true) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // torn last line: not acknowledged
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    char kind = 0;
    unsigned long a = 0, b = 0;
    if (std::sscanf(line.c_str(), "%c %lu %lu", &kind, &a, &b) < 2) continue;
    Uid uid = static_cast<Uid>(kind == 'A' ? b : a);
    switch (kind) {
      case 'A':
        e.appended[uid] = a;
        e.flags[uid] = 0;
        e.append_order.push_back(uid);
        break;
      case 'f': e.in_flight[uid].insert(static_cast<FlagSet>(b)); break;
      case 'F':
        e.flags[uid] = static_cast<FlagSet>(b);
        e.in_flight.erase(uid);
        break;
      case 'e': e.expunge_in_flight.insert(uid); break;
      case 'E':
        e.appended.erase(uid);
        e.expunged.insert(uid);
        break;
    }
  }
  return e;
}

class CrashTest : public StoreFixture {};

TEST_F(CrashTest, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  std::string maildir = tmp_ + "/crash/Maildir";
  std::string log = tmp_ + "/ops.log";
  std::mt19937 rng(12345);
  std::uint32_t uidvalidity = 0;
  auto start = std::chrono::steady_clock::now();
  int rounds = 0;
  int checked_messages = 0;
  std::map<Uid, std::string> recorded;  // every uidlist record seen in any round
  for (; rounds < kMaxRounds && std::chrono::steady_clock::now() - start < budget(); ++rounds) {
    struct stat st {};
    off_t before = ::stat(log.c_str(), &st) == 0 ? st.st_size : 0;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::string seed = std::to_string(rng());
      std::string seq = std::to_string(static_cast<unsigned long>(rounds) * 100000ul);
      ::execl(MB_CRASH_WRITER, MB_CRASH_WRITER, maildir.c_str(), log.c_str(), seed.c_str(), seq.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until the writer has done something (bounded), then kill it a random moment later.
    for (int i = 0; i < 3000; ++i) {
      if (::stat(log.c_str(), &st) == 0 && st.st_size > before) break;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "writer exited early, status " << status;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 15000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer failed with status " << status;

    // Leave a torn delivery in tmp/ now and then: it must never be shown.
    if (rounds % 7 == 0) write_file(maildir + "/tmp/" + std::to_string(rounds) + ".torn", "X-Seq: 999");

    // Reopen with a fresh storage (a new process would see the same).
    StoreSettings s;
    s.path_template = maildir;
    s.fsync = false;
    auto storage = make_storage(s, &loop_);
    ASSERT_TRUE(storage);
    auto user = await<StoreResult<UserStorePtr>>(&loop_, [&](auto cb) { (*storage)->open_user("w", "", cb); });
    ASSERT_TRUE(user);
    auto box = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { (*user)->open("INBOX", cb); });
    ASSERT_TRUE(box) << box.error().internal_text;
    MailboxPtr mb = *box;
    if (uidvalidity == 0) uidvalidity = mb->uidvalidity();
    ASSERT_EQ(mb->uidvalidity(), uidvalidity) << "round " << rounds;

    if (::getenv("MB_KEEP_TMP")) {
      std::string snap = "round " + std::to_string(rounds) + "\n" + read_file(maildir + "/dovecot-uidlist");
      for (const auto& n : files_in(maildir + "/cur")) snap += "  " + n + "\n";
      std::ofstream(tmp_ + "/history", std::ios::app) << snap;
    }
    {
      std::string ul = read_file(maildir + "/dovecot-uidlist");
      std::size_t pos = ul.find('\n');  // past the header
      while (pos != std::string::npos && pos + 1 < ul.size()) {
        std::size_t nl = ul.find('\n', pos + 1);
        if (nl == std::string::npos) break;  // torn last record: ignored by readers
        std::string line = ul.substr(pos + 1, nl - pos - 1);
        pos = nl;
        std::size_t colon = line.find(" :");
        if (colon == std::string::npos) continue;
        Uid uid = static_cast<Uid>(std::strtoul(line.c_str(), nullptr, 10));
        std::string base = line.substr(colon + 2);
        auto [it, fresh] = recorded.emplace(uid, base);
        ASSERT_TRUE(fresh || it->second == base)
            << "uid " << uid << " reused: " << it->second << " then " << base << " round " << rounds;
      }
    }
    Expected exp = parse_log(read_file(log));
    for (std::size_t i = 1; i < exp.append_order.size(); ++i)
      ASSERT_LT(exp.append_order[i - 1], exp.append_order[i]) << "UIDs not increasing in arrival order";
    for (const auto& [uid, seq] : exp.appended) {
      const MessageInfo* m = mb->find(uid);
      if (!m && exp.expunge_in_flight.count(uid)) continue;
      ASSERT_NE(m, nullptr) << "acknowledged message lost: uid " << uid << " round " << rounds;
      auto f = exp.in_flight.find(uid);
      bool flags_ok = m->flags == exp.flags[uid] || (f != exp.in_flight.end() && f->second.count(m->flags));
      ASSERT_TRUE(flags_ok) << "uid " << uid << " flags " << int(m->flags) << " acknowledged "
                            << int(exp.flags[uid]) << " round " << rounds;
    }
    for (Uid uid : exp.expunged) ASSERT_EQ(mb->find(uid), nullptr) << "expunged uid " << uid << " is back";
    // Every visible message, read back: seq increases with UID, none twice, no torn files.
    unsigned long last_seq = 0;
    std::set<unsigned long> seqs;
    for (const MessageInfo& m : std::vector<MessageInfo>(mb->messages().begin(), mb->messages().end())) {
      auto head = await<StoreResult<std::string>>(&loop_, [&](auto cb) { mb->read(m.uid, 0, 40, cb); });
      ASSERT_TRUE(head);
      ASSERT_EQ(head->rfind("X-Seq: ", 0), 0u) << *head;
      unsigned long seq = std::strtoul(head->c_str() + 7, nullptr, 10);
      ASSERT_NE(seq, 999ul) << "a tmp/ file is visible";
      ASSERT_TRUE(seqs.insert(seq).second) << "message visible twice: seq " << seq;
      ASSERT_TRUE(seq > last_seq || last_seq == 0) << "UID order differs from arrival order";
      auto it = exp.appended.find(m.uid);
      if (it != exp.appended.end()) {
        ASSERT_EQ(it->second, seq) << "uid " << m.uid << " holds another message";
      }
      last_seq = seq;
      ++checked_messages;
    }
    mb.reset();
    box = StoreResult<MailboxPtr>(nullptr);
    user = StoreResult<UserStorePtr>(nullptr);
    storage->reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  EXPECT_GE(rounds, 50);
  std::printf("crash test: %d kill rounds, %d message checks\n", rounds, checked_messages);
}

}  // namespace
}  // namespace mb::store::test
