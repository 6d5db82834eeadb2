// Debian's Dovecot and mailbridge appending into one Maildir folder at the same time: both
// take Dovecot's dovecot-uidlist.lock dotlock, so no UID is assigned twice, and afterwards
// both list every message with the same UIDs and UIDVALIDITY.
//
// Dovecot refuses mail access as root. When the test runs as root, the folder belongs to
// `nobody`, Dovecot drops to it (mail_uid), and this process works as `nobody` too
// (seteuid, restored at the end), so each side can read what the other writes.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "gateway/store/maildir/uidlist.hpp"
#include "store_test_support.hpp"

namespace mb::store::test {
namespace {

constexpr int kEach = 25;  // messages per side

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

class DovecotCoexistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access("/usr/bin/doveadm", X_OK), 0) << "dovecot-core (doveadm) is required";
    tmp_ = make_temp_dir();
    maildir_ = tmp_ + "/u/Maildir";
    fs::create_directories(maildir_);
    fs::create_directories(tmp_ + "/run");
    uid_ = ::geteuid();
    gid_ = ::getegid();
    std::string user = "nobody", group_name = "nogroup";
    if (uid_ == 0) {
      const passwd* pw = ::getpwnam("nobody");
      ASSERT_NE(pw, nullptr);
      const struct group* gr = ::getgrgid(pw->pw_gid);
      if (gr) group_name = gr->gr_name;
      ASSERT_EQ(::chown(tmp_.c_str(), pw->pw_uid, pw->pw_gid), 0);
      ASSERT_EQ(::chown((tmp_ + "/u").c_str(), pw->pw_uid, pw->pw_gid), 0);
      ASSERT_EQ(::chown(maildir_.c_str(), pw->pw_uid, pw->pw_gid), 0);
      run_uid_ = pw->pw_uid;
      run_gid_ = pw->pw_gid;
    } else {
      const passwd* pw = ::getpwuid(uid_);
      ASSERT_NE(pw, nullptr);
      user = pw->pw_name;
      const struct group* gr = ::getgrgid(gid_);
      ASSERT_NE(gr, nullptr);
      group_name = gr->gr_name;
      run_uid_ = uid_;
      run_gid_ = gid_;
    }
    user_name_ = user;
    write_file(tmp_ + "/dovecot.conf",
               "base_dir = " + tmp_ + "/run\nlog_path = " + tmp_ + "/dovecot.log\nssl = no\n" +
                   "mail_location = maildir:" + maildir_ + "\nmail_uid = " + user + "\nmail_gid = " + group_name +
                   "\nfirst_valid_uid = 1\n");
    doveadm_ = "env USER=" + user + " HOME=" + tmp_ + "/u doveadm -c " + tmp_ + "/dovecot.conf ";
    if (uid_ == 0) {
      ASSERT_EQ(::setegid(run_gid_), 0);
      ASSERT_EQ(::seteuid(run_uid_), 0);
    }
    uv_loop_init(&loop_);
    StoreSettings s;
    s.path_template = tmp_ + "/%u/Maildir";
    s.fsync = false;
    s.mailbox_linger_ms = 0;
    auto st = make_storage(s, &loop_);
    ASSERT_TRUE(st.has_value());
    storage_ = std::move(*st);
  }
  void TearDown() override {
    storage_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
    if (uid_ == 0) {
      (void)::seteuid(0);
      (void)::setegid(gid_);
    }
    std::error_code ec;
    if (!::getenv("MB_KEEP_TMP")) fs::remove_all(tmp_, ec);
  }
  // Runs `script` in a child with the real (root) identity back, so doveadm can drop to
  // mail_uid as it insists on doing itself.
  pid_t spawn(const std::string& script) {
    pid_t pid = ::fork();
    if (pid == 0) {
      if (uid_ == 0) {
        (void)::seteuid(0);
        (void)::setegid(0);
      }
      ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  }
  std::string doveadm(const std::string& args) {
    // popen's shell runs with our effective identity; doveadm wants to drop privileges itself.
    if (uid_ == 0) {
      (void)::seteuid(0);
      (void)::setegid(0);
    }
    std::string out = run_capture(doveadm_ + args + " 2>>" + tmp_ + "/doveadm.err");
    if (uid_ == 0) {
      (void)::setegid(run_gid_);
      (void)::seteuid(run_uid_);
    }
    return out;
  }

  uv_loop_t loop_{};
  std::string tmp_, maildir_, doveadm_, user_name_;
  uid_t uid_ = 0, run_uid_ = 0;
  gid_t gid_ = 0, run_gid_ = 0;
  std::unique_ptr<Storage> storage_;
};

TEST_F(DovecotCoexistTest, ConcurrentAppendsNeverShareAUidAndBothListEverything) {
  auto user = await<StoreResult<UserStorePtr>>(&loop_, [&](auto cb) { storage_->open_user("u", "", cb); });
  ASSERT_TRUE(user.has_value());
  auto mb = await<StoreResult<MailboxPtr>>(&loop_, [&](auto cb) { (*user)->open("INBOX", cb); });
  ASSERT_TRUE(mb.has_value());
  Mailbox& inbox = **mb;

  // Dovecot saves kEach messages in a loop while we append kEach of ours.
  std::string script = "i=0; while [ $i -lt " + std::to_string(kEach) + " ]; do printf 'Subject: dovecot %d\\n\\nbody\\n' $i | " +
                       doveadm_ + "save 2>>" + tmp_ + "/doveadm.err || exit 1; i=$((i+1)); done";
  pid_t child = spawn(script);
  ASSERT_GT(child, 0);
  std::set<Uid> ours;
  for (int i = 0; i < kEach; ++i) {
    AppendRequest req;
    req.message = "Subject: mailbridge " + std::to_string(i) + "\r\n\r\nbody\r\n";
    auto r = await<StoreResult<Uid>>(&loop_, [&](auto cb) { inbox.append(std::move(req), nullptr, cb); });
    ASSERT_TRUE(r.has_value()) << r.error().internal_text;
    EXPECT_TRUE(ours.insert(*r).second) << "UID " << *r << " given twice";
    // Pace ours over Dovecot's run (each doveadm save takes tens of ms) so the two really
    // interleave; pacing only, nothing is timed.
    uv_timer_t pause;
    uv_timer_init(&loop_, &pause);
    uv_timer_start(&pause, [](uv_timer_t*) {}, 30, 0);
    uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&pause), nullptr);
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "doveadm save failed: " << read_file(tmp_ + "/doveadm.err") << read_file(tmp_ + "/dovecot.log");

  // Our view: every message, each UID once, ours where we were told.
  await<StoreResult<void>>(&loop_, [&](auto cb) { inbox.rescan(cb); });
  ASSERT_EQ(inbox.messages().size(), static_cast<std::size_t>(2 * kEach));
  std::set<Uid> all;
  for (const auto& m : inbox.messages()) all.insert(m.uid);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(2 * kEach));
  for (Uid u : ours) EXPECT_TRUE(all.count(u)) << u;
  EXPECT_GE(inbox.uidnext(), *all.rbegin() + 1);

  // The uidlist itself: one record per file, UIDs ascending and unique.
  auto parsed = maildir::parse_uidlist(read_file(maildir_ + "/dovecot-uidlist"));
  ASSERT_TRUE(parsed) << parsed.error();
  std::set<std::string> bases;
  for (const auto& e : parsed->entries) bases.insert(e.base);
  EXPECT_EQ(bases.size(), parsed->entries.size());

  // Dovecot's view: the same UIDs and UIDVALIDITY ("<guid> <uid>" per message).
  std::string search = doveadm("search mailbox INBOX all");
  std::set<Uid> dovecot_uids;
  std::size_t pos = 0;
  while (pos < search.size()) {
    std::size_t nl = search.find('\n', pos);
    std::string line = search.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? search.size() : nl + 1;
    std::size_t sp = line.rfind(' ');
    if (sp != std::string::npos) dovecot_uids.insert(static_cast<Uid>(std::stoul(line.substr(sp + 1))));
  }
  EXPECT_EQ(dovecot_uids, all) << search << read_file(tmp_ + "/doveadm.err");
  std::string status_line = doveadm("mailbox status uidvalidity INBOX");
  EXPECT_NE(status_line.find("uidvalidity=" + std::to_string(inbox.uidvalidity())), std::string::npos) << status_line;
  // Dovecot found nothing to complain about in the files we wrote (a "Broken file" error
  // makes it delete dovecot-uidlist).
  std::string errors = read_file(tmp_ + "/doveadm.err") + read_file(tmp_ + "/dovecot.log");
  EXPECT_EQ(errors.find("Error"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("Broken"), std::string::npos) << errors;
}

}  // namespace
}  // namespace mb::store::test
