// File: tests/bench/pop3_download.cpp
//
// POP3 full-mailbox download benchmark (issue #4), so users can measure their own hardware.
// One self-contained program: the C++ standard library and POSIX sockets, nothing else.
//
//   pop3_download --server BUILD/gateway/mailbridge [-c 10] [-d 20]   # seed a corpus, start it
//   pop3_download --host 127.0.0.1 --port 110 --user-template user%d --password pass
//                 --server-pids-cmd "pgrep -d' ' dovecot"              # an existing server
//
// Seeding mode writes a deterministic corpus (every user gets the same bytes; sizes 2 KB - 1 MB,
// mostly small, ~1 in 15 over 100 KB; some lines start with "."; about half of the files use
// LF-only line ends, as Dovecot and most MDAs write them) into a temp Maildir tree, writes a
// config and a {PLAIN} passwd-file next to it, starts the given mailbridge binary on a free
// loopback port and stops it (SIGTERM, by PID) at the end. The temp dir is removed unless
// --keep or --dir is given (--dir reuses a corpus seeded before with the same options).
//
// C client threads (blocking sockets) each loop: connect, USER/PASS (users round robin), LIST,
// RETR 1..n, QUIT, reconnect, for --warmup + -d seconds; only events that complete inside the
// measured window count. Each RETR's unstuffed size (CRLF line ends, RFC 1939 §3 byte-stuffing
// removed) must equal its LIST size, and bare LFs on the wire are counted as errors.
//
// Output: a readable summary, then one line "RESULT pop3_download key=value ..." with
// msgs_per_s, mb_per_s (10^6 octets of unstuffed message), logins_per_s, size_mismatches,
// errors, and, when the server's PIDs are known, server_cpu_us_per_msg (utime+stime of those
// PIDs from /proc over the window, plus cutime+cstime of reaped children, e.g. Dovecot's
// per-connection processes) and client_cpu_pct.
#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string server;  // mailbridge binary to start (seeding mode)
  std::string host = "127.0.0.1";
  int port = 0;
  std::string user_template = "user%d";
  int user_first = 1;
  int users = 20;
  int messages = 1000;
  std::string password = "pass";
  int clients = 10;
  double duration_s = 20;
  double warmup_s = 3;
  std::string dir;  // corpus + config dir (kept); empty: a temp dir
  bool keep = false;
  bool metrics = false;  // also open [listen] metrics (to measure the metrics' own cost)
  std::uint64_t seed = 1;
  std::string pids_cmd;
  std::vector<int> pids;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "pop3_download: %s\n"
               "usage: pop3_download (--server MAILBRIDGE | --host H --port P) [-c CLIENTS]\n"
               "  [-d SECONDS] [--warmup SECONDS] [--users N] [--messages N] [--user-template T]\n"
               "  [--user-first N] [--password PW] [--seed N] [--dir DIR] [--keep] [--metrics]\n"
               "  [--server-pid PID]... [--server-pids-cmd CMD]\n",
               why);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value");
      return argv[++i];
    };
    if (a == "--server") o.server = value();
    else if (a == "--host") o.host = value();
    else if (a == "--port") o.port = std::stoi(value());
    else if (a == "--user-template") o.user_template = value();
    else if (a == "--user-first") o.user_first = std::stoi(value());
    else if (a == "--users" || a == "--user-count") o.users = std::stoi(value());
    else if (a == "--messages") o.messages = std::stoi(value());
    else if (a == "--password") o.password = value();
    else if (a == "-c" || a == "--clients") o.clients = std::stoi(value());
    else if (a == "-d" || a == "--duration") o.duration_s = std::stod(value());
    else if (a == "--warmup") o.warmup_s = std::stod(value());
    else if (a == "--dir") o.dir = value();
    else if (a == "--keep") o.keep = true;
    else if (a == "--metrics") o.metrics = true;
    else if (a == "--seed") o.seed = std::stoull(value());
    else if (a == "--server-pid") o.pids.push_back(std::stoi(value()));
    else if (a == "--server-pids-cmd") o.pids_cmd = value();
    else usage("unknown option");
  }
  if (o.server.empty() && o.port == 0) usage("give --server or --port");
  if (o.clients < 1 || o.users < 1 || o.messages < 1 || o.duration_s <= 0) usage("bad counts");
  return o;
}

std::string user_name(const Options& o, int index) {
  std::string out = o.user_template;
  auto at = out.find("%d");
  if (at != std::string::npos) out.replace(at, 2, std::to_string(o.user_first + index));
  return out;
}

// ---- deterministic corpus ---------------------------------------------------------------

struct Rng {  // splitmix64: same corpus on every machine and compiler
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

// Message sizes: 85 % log-uniform 2-20 KB (text), 9 % 20-100 KB, 6 % 100 KB - 1 MB
// (attachments); roughly the loadgen kit's corpus (median ~7 KB, p99 ~700 KB).
std::size_t message_size(Rng& rng) {
  double r = rng.unit();
  double lo = 2000, hi = 20000;
  if (r >= 0.85 && r < 0.94) lo = 20000, hi = 100000;
  if (r >= 0.94) lo = 100000, hi = 1000000;
  return static_cast<std::size_t>(lo * std::pow(hi / lo, rng.unit()));
}

std::string make_message(std::uint64_t seed, int index) {
  static constexpr std::string_view kWords[] = {
      "mail", "gateway", "the",  "of",      "report", "quarterly", "server", "and",
      "to",   "message", "a",    "deliver", "folder", "meeting",   "notes",  "budget",
      "in",   "client",  "with", "POP3",    "IMAP",   "review",    "is",     "draft"};
  Rng rng{seed * 1000003ULL + static_cast<std::uint64_t>(index)};
  std::size_t target = message_size(rng);
  bool lf_only = rng.unit() < 0.5;
  const char* eol = lf_only ? "\n" : "\r\n";
  std::string m;
  m.reserve(target + 200);
  m += "Return-Path: <sender" + std::to_string(index % 97) + "@example.org>" + eol;
  m += "From: Sender " + std::to_string(index % 97) + " <sender" + std::to_string(index % 97) +
       "@example.org>" + eol;
  m += std::string("To: User <user@example.com>") + eol;
  m += "Subject: Benchmark message " + std::to_string(index) + eol;
  m += "Date: Mon, 2 Mar 2026 10:" + std::to_string(10 + index % 50) + ":00 +0000" + eol;
  m += "Message-ID: <bench." + std::to_string(index) + "@example.org>" + eol;
  m += std::string("MIME-Version: 1.0") + eol;
  bool binary_like = target > 100000;
  m += std::string("Content-Type: ") + (binary_like ? "application/octet-stream" : "text/plain") +
       eol;
  if (binary_like) m += std::string("Content-Transfer-Encoding: base64") + eol;
  m += eol;
  static constexpr std::string_view kB64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  while (m.size() < target) {
    if (binary_like) {
      for (int k = 0; k < 76; ++k) m += kB64[rng.below(64)];
    } else {
      // ~2 % of text lines start with '.' (and "." alone now and then): dot-stuffing.
      double r = rng.unit();
      if (r < 0.005) m += ".";
      else if (r < 0.02) m += ".. leading dots ";
      std::size_t len = 20 + rng.below(56);
      std::size_t start = m.size();
      while (m.size() - start < len) {
        m += kWords[rng.below(std::size(kWords))];
        m += ' ';
      }
      m.pop_back();
    }
    m += eol;
  }
  return m;
}

int free_port(const std::string& host);

// Writes the config, passwd-file and every user's Maildir under dir (skipped when a
// previous run left a complete corpus with the same parameters).
void seed_corpus(const Options& o, const fs::path& dir, int port) {
  std::string stamp = "users=" + std::to_string(o.users) + " messages=" +
                      std::to_string(o.messages) + " seed=" + std::to_string(o.seed) + "\n";
  fs::path stamp_path = dir / "corpus-stamp";
  std::string old_stamp;
  if (std::ifstream in{stamp_path}; in) std::getline(in, old_stamp, '\0');
  if (old_stamp != stamp) {
    auto t0 = Clock::now();
    fs::remove_all(dir / "mail");
    std::vector<std::string> corpus;
    std::size_t total = 0;
    for (int i = 0; i < o.messages; ++i) {
      corpus.push_back(make_message(o.seed, i));
      total += corpus.back().size();
    }
    for (int u = 0; u < o.users; ++u) {
      fs::path md = dir / "mail" / user_name(o, u) / "Maildir";
      for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(md / sub);
      for (int i = 0; i < o.messages; ++i) {
        // Delivered and seen once by a client already: cur/, no flags.
        std::string name = std::to_string(1767000000 + i) + ".M" + std::to_string(i) +
                           "P1.bench:2,";
        std::ofstream out{md / "cur" / name, std::ios::binary};
        out.write(corpus[static_cast<std::size_t>(i)].data(),
                  static_cast<std::streamsize>(corpus[static_cast<std::size_t>(i)].size()));
      }
    }
    std::ofstream{stamp_path} << stamp;
    std::printf("seeded %d users x %d messages (%.1f MB per user) in %.1f s under %s\n", o.users,
                o.messages, static_cast<double>(total) / 1e6,
                std::chrono::duration<double>(Clock::now() - t0).count(), dir.c_str());
  }
  {
    std::ofstream users{dir / "users"};
    for (int u = 0; u < o.users; ++u) users << user_name(o, u) << ":{PLAIN}" << o.password << "\n";
  }
  std::ofstream cfg{dir / "mailbridge.toml"};
  cfg << "# written by tests/bench/pop3_download\n"
      << "[listen]\npop3 = [\"" << o.host << ":" << port << "\"]\n"
      << (o.metrics ? "metrics = [\"" + o.host + ":" + std::to_string(free_port(o.host)) + "\"]\n"
                    : std::string())
      << "[auth]\npasswd_file = \"" << (dir / "users").string() << "\"\nplaintext = \"always\"\n"
      << "[store]\ndriver = \"maildir\"\npath = \"" << (dir / "mail").string()
      << "/%u/Maildir\"\n"
      << "[log]\nlevel = \"warn\"\n";
}

int free_port(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  int port = ntohs(sa.sin_port);
  ::close(fd);
  return port;
}

// ---- a blocking POP3 client -----------------------------------------------------------

class Conn {
 public:
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect_to(const std::string& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};  // a wedged server ends the run instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  bool send_line(std::string line) {
    line += "\r\n";
    std::size_t off = 0;
    while (off < line.size()) {
      ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // One status line without its CRLF; nullopt on EOF/error.
  std::optional<std::string> read_line() {
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos_, '\n', end_ - pos_));
      if (nl) {
        std::size_t len = static_cast<std::size_t>(nl - (buf_.data() + pos_));
        std::string line(buf_.data() + pos_, len);
        pos_ += len + 1;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
      }
      if (!fill()) return std::nullopt;
    }
  }
  // A multi-line body after "+OK": returns the unstuffed octet count (CRLF line ends, the
  // terminating ".CRLF" excluded), counting bare LFs into *bare_lf; nullopt on EOF/error.
  // Streams: nothing but the read buffer is held, whatever the message size.
  std::optional<std::size_t> read_body(std::size_t* bare_lf, std::string* keep = nullptr) {
    std::size_t octets = 0;
    bool line_start = true;
    char prev = '\n';
    for (;;) {
      if (line_start) {
        if (!ensure(3)) return std::nullopt;
        const char* p = buf_.data() + pos_;
        if (p[0] == '.') {
          if (p[1] == '\r' && p[2] == '\n') {
            pos_ += 3;
            return octets;
          }
          ++pos_;  // a stuffed dot (RFC 1939 §3): not part of the message
        }
        line_start = false;
      }
      if (pos_ == end_ && !fill()) return std::nullopt;
      const char* p = buf_.data() + pos_;
      std::size_t avail = end_ - pos_;
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', avail));
      std::size_t take = nl ? static_cast<std::size_t>(nl - p) + 1 : avail;
      char before = take >= 2 ? p[take - 2] : prev;
      if (nl && before != '\r') ++*bare_lf;
      if (keep) keep->append(p, take);
      prev = p[take - 1];
      octets += take;
      pos_ += take;
      line_start = nl != nullptr;
    }
  }

 private:
  bool fill() {
    if (pos_ == end_) pos_ = end_ = 0;
    if (end_ == buf_.size()) {
      std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
    }
    ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
    if (n <= 0) return false;
    end_ += static_cast<std::size_t>(n);
    return true;
  }
  bool ensure(std::size_t n) {
    while (end_ - pos_ < n) {
      if (pos_ > 0) {
        std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
        end_ -= pos_;
        pos_ = 0;
      }
      if (!fill()) return false;
    }
    return true;
  }

  int fd_ = -1;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
  std::size_t pos_ = 0, end_ = 0;
};

// ---- the run ---------------------------------------------------------------------------

struct Counters {
  std::atomic<std::uint64_t> msgs{0}, bytes{0}, logins{0}, sessions{0}, mismatches{0},
      bare_lf{0}, errors{0};
};

struct Window {
  Clock::time_point begin, end;
  bool inside(Clock::time_point t) const { return t >= begin && t < end; }
};

void client_loop(const Options& o, int port, const Window& w, std::atomic<int>& next_user,
                 Counters& c) {
  while (Clock::now() < w.end) {
    Conn conn;
    if (!conn.connect_to(o.host, port)) {
      ++c.errors;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    int u = next_user.fetch_add(1) % o.users;
    auto greeting = conn.read_line();
    if (!greeting || greeting->rfind("+OK", 0) != 0) {
      ++c.errors;
      continue;
    }
    std::optional<std::string> r;
    if (!conn.send_line("USER " + user_name(o, u)) || !(r = conn.read_line()) ||
        r->rfind("+OK", 0) != 0 || !conn.send_line("PASS " + o.password) ||
        !(r = conn.read_line()) || r->rfind("+OK", 0) != 0) {
      ++c.errors;
      if (r) std::fprintf(stderr, "login %s: %s\n", user_name(o, u).c_str(), r->c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (w.inside(Clock::now())) ++c.logins;
    std::vector<std::size_t> sizes;
    if (!conn.send_line("LIST") || !(r = conn.read_line()) || r->rfind("+OK", 0) != 0) {
      ++c.errors;
      continue;
    }
    bool ok = true;
    for (;;) {
      auto line = conn.read_line();
      if (!line) {
        ok = false;
        break;
      }
      if (*line == ".") break;
      unsigned long n = 0, size = 0;
      if (std::sscanf(line->c_str(), "%lu %lu", &n, &size) != 2) {
        ok = false;
        break;
      }
      sizes.push_back(size);
    }
    if (!ok) {
      ++c.errors;
      continue;
    }
    for (std::size_t i = 0; i < sizes.size() && ok; ++i) {
      if (Clock::now() >= w.end) break;
      if (!conn.send_line("RETR " + std::to_string(i + 1)) || !(r = conn.read_line())) {
        ok = false;
        break;
      }
      if (r->rfind("+OK", 0) != 0) {  // e.g. expunged meanwhile: go on
        ++c.errors;
        continue;
      }
      std::size_t bare = 0;
      auto got = conn.read_body(&bare);
      if (!got) {
        ok = false;
        break;
      }
      auto t = Clock::now();
      if (!w.inside(t)) continue;
      ++c.msgs;
      c.bytes += *got;
      if (*got != sizes[i]) ++c.mismatches;
      c.bare_lf += bare;
    }
    if (!ok) {
      ++c.errors;
      continue;
    }
    if (Clock::now() >= w.end) break;
    if (conn.send_line("QUIT") && conn.read_line() && w.inside(Clock::now())) ++c.sessions;
  }
}

// utime+stime+cutime+cstime of one process, in clock ticks (0 if gone).
std::uint64_t process_ticks(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string s;
  if (!std::getline(in, s)) return 0;
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return 0;
  std::istringstream fields{s.substr(rp + 2)};
  std::string f;
  std::uint64_t total = 0;
  for (int k = 3; k <= 17 && fields >> f; ++k) {
    if (k >= 14) total += std::stoull(f);  // utime stime cutime cstime
  }
  return total;
}

std::vector<int> server_pids(const Options& o, int spawned) {
  std::vector<int> pids = o.pids;
  if (spawned > 0) pids.push_back(spawned);
  if (!o.pids_cmd.empty()) {
    if (FILE* p = ::popen(o.pids_cmd.c_str(), "r")) {
      int pid = 0;
      while (std::fscanf(p, "%d", &pid) == 1) pids.push_back(pid);
      ::pclose(p);
    }
  }
  return pids;
}

std::uint64_t ticks_of(const std::vector<int>& pids) {
  std::uint64_t t = 0;
  for (int pid : pids) t += process_ticks(pid);
  return t;
}

double self_cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool wait_for_greeting(const std::string& host, int port, int child) {
  for (int i = 0; i < 300; ++i) {
    Conn c;
    if (c.connect_to(host, port)) {
      auto g = c.read_line();
      if (g && g->rfind("+OK", 0) == 0) return true;
    }
    int status = 0;
    if (child > 0 && ::waitpid(child, &status, WNOHANG) == child) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  fs::path dir;
  bool remove_dir = false;
  int child = 0;
  int port = o.port;
  if (!o.server.empty()) {
    if (o.dir.empty()) {
      char tmpl[] = "/tmp/pop3_download.XXXXXX";
      if (!::mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return 1;
      }
      dir = tmpl;
      remove_dir = !o.keep;
    } else {
      dir = fs::absolute(o.dir);
      fs::create_directories(dir);
    }
    if (port == 0) port = free_port(o.host);
    seed_corpus(o, dir, port);
    child = ::fork();
    if (child == 0) {
      std::string log = (dir / "server.log").string();
      std::freopen(log.c_str(), "w", stderr);
      std::string cfg = (dir / "mailbridge.toml").string();
      ::execl(o.server.c_str(), o.server.c_str(), "--config", cfg.c_str(),
              static_cast<char*>(nullptr));
      std::perror("exec");
      std::_Exit(127);
    }
  }
  int rc = 0;
  if (!wait_for_greeting(o.host, port, child)) {
    std::fprintf(stderr, "no POP3 greeting on %s:%d%s\n", o.host.c_str(), port,
                 child ? " (see server.log in the corpus dir; --keep keeps it)" : "");
    rc = 1;
  } else {
    Counters c;
    std::atomic<int> next_user{0};
    auto start = Clock::now();
    Window w{start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.warmup_s)),
             {}};
    w.end = w.begin + std::chrono::duration_cast<Clock::duration>(
                          std::chrono::duration<double>(o.duration_s));
    std::vector<std::thread> threads;
    for (int i = 0; i < o.clients; ++i)
      threads.emplace_back([&] { client_loop(o, port, w, next_user, c); });
    std::this_thread::sleep_until(w.begin);
    auto pids = server_pids(o, child);
    std::uint64_t ticks0 = ticks_of(pids);
    double self0 = self_cpu_s();
    std::this_thread::sleep_until(w.end);
    auto pids_end = server_pids(o, child);
    std::uint64_t ticks1 = ticks_of(pids_end);
    double self1 = self_cpu_s();
    for (auto& t : threads) t.join();

    double secs = o.duration_s;
    double msgs = static_cast<double>(c.msgs.load());
    double tick_us = 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::printf("pop3_download: %d clients, %d users, %.0f s measured after %.0f s warm-up, %s:%d\n",
                o.clients, o.users, secs, o.warmup_s, o.host.c_str(), port);
    std::printf("  messages/s %.0f   MB/s %.1f   logins/s %.1f   sessions/s %.2f\n", msgs / secs,
                static_cast<double>(c.bytes.load()) / 1e6 / secs,
                static_cast<double>(c.logins.load()) / secs,
                static_cast<double>(c.sessions.load()) / secs);
    std::printf("  size mismatches %llu   bare LFs %llu   errors %llu\n",
                static_cast<unsigned long long>(c.mismatches.load()),
                static_cast<unsigned long long>(c.bare_lf.load()),
                static_cast<unsigned long long>(c.errors.load()));
    std::string cpu_fields;
    if (!pids.empty()) {
      double server_us = static_cast<double>(ticks1 - std::min(ticks0, ticks1)) * tick_us;
      double per_msg = msgs > 0 ? server_us / msgs : 0;
      std::printf("  server CPU %.0f %% of a core, %.1f us per message (PIDs:", server_us / 1e4 / secs,
                  per_msg);
      for (int pid : pids) std::printf(" %d", pid);
      std::printf(")\n");
      char buf[160];
      std::snprintf(buf, sizeof buf, " cpu_server_pct=%.1f server_cpu_us_per_msg=%.2f",
                    server_us / 1e4 / secs, per_msg);
      cpu_fields = buf;
    }
    std::printf("  client CPU %.0f %% of a core\n", (self1 - self0) * 100 / secs);
    std::printf(
        "RESULT pop3_download clients=%d msgs_per_s=%.1f mb_per_s=%.2f logins_per_s=%.2f "
        "sessions_per_s=%.3f size_mismatches=%llu bare_lf=%llu errors=%llu%s cpu_client_pct=%.1f\n",
        o.clients, msgs / secs, static_cast<double>(c.bytes.load()) / 1e6 / secs,
        static_cast<double>(c.logins.load()) / secs, static_cast<double>(c.sessions.load()) / secs,
        static_cast<unsigned long long>(c.mismatches.load()),
        static_cast<unsigned long long>(c.bare_lf.load()),
        static_cast<unsigned long long>(c.errors.load()), cpu_fields.c_str(),
        (self1 - self0) * 100 / secs);
    if (c.mismatches.load() != 0 || c.bare_lf.load() != 0 || msgs == 0) rc = 1;
  }
  if (child > 0) {
    ::kill(child, SIGTERM);
    int status = 0;
    ::waitpid(child, &status, 0);
  }
  if (remove_dir) fs::remove_all(dir);
  return rc;
}
