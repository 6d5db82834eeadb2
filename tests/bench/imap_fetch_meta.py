#!/usr/bin/env python3
"""Metadata FETCH benchmark, mailbridge beside Debian's Dovecot in the same run (issue #5).

Not a ctest test: it prints figures. Standard library only.

    tests/bench/imap_fetch_meta.py --server build/release/gateway/mailbridge
        [--messages 10000] [--cached-runs 10] [--port-base 36400] [--corpus DIR] [--no-dovecot]
    (or MAILBRIDGE=path in the environment instead of --server)

1. Seeds one Maildir of --messages messages with ../shared/bench/loadgen/seed.py (the loadgen
   corpus: text/plain, multipart/alternative, forwarded message/rfc822, 100 KB-1 MB base64
   attachments, RFC 2047 subjects and names; 2 KB-1 MB). --corpus DIR reuses (or creates and
   keeps) a seeded tree DIR/Maildir so repeated runs skip the seeding.
2. Copies it once per server (fresh copies: no mailbridge-* state, no dovecot-uidlist or
   dovecot.index*), starts mailbridge (--config) and a private Dovecot (own base_dir, run as
   the vmail user, passwd-file users) on 127.0.0.1 ports port-base, port-base+1.
3. For each server: one cold session (first ever: the SELECT builds the UID list / index, the
   FETCH parses every message; no per-mailbox cache file, no dovecot.index.cache), then
   --cached-runs sessions, each LOGIN, SELECT INBOX, then the timed
       UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)
   then LOGOUT. Each line gives wall ms (command sent -> tagged OK read; the client only
   receives while timing and parses afterwards, so its own speed hardly counts), server CPU ms
   (utime+stime from /proc/PID/stat, for Dovecot of its `imap` processes; 10 ms ticks, so
   use the mean over the cached runs), response bytes and FETCH responses seen.
   "Cold" is cold for the indexes only: the copies were just written, so the page cache holds
   the message files for both servers alike.
4. Compares the last cached responses message by message (FLAGS, ENVELOPE, BODYSTRUCTURE
   parsed, so a literal and a quoted string with the same octets are equal) and prints how
   many messages mailbridge answers exactly as Dovecot, with the first differences.
5. Prints the Dovecot/mailbridge ratios (wall and CPU, cold and cached mean) and one
   `RESULT imap_fetch_meta key=value ...` line.
Every process it starts is stopped by PID; its temp dirs are removed (--keep keeps them).
Runs as root (Dovecot's master needs it; the mail is owned by the vmail user for Dovecot).
"""
import argparse
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED_PY = os.path.join(os.path.dirname(REPO), "shared", "bench", "loadgen", "seed.py")
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")
FETCH_CMD = b"UID FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE)"
USER, PASSWORD = "user1", "pass"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_ticks(pids):
    """utime+stime of the given processes (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def children_named(parent, name):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                text = f.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        if ppid == parent and comm == name:
            out.append(int(d))
    return out


class Imap:
    """A minimal IMAP client that reads responses literal-aware, without building them."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.buf = bytearray()
        self.pos = 0
        self.tagn = 0
        self.trim = True  # drop consumed input (off while a whole response is kept)
        self.read_response(None)  # greeting

    def _recv(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise RuntimeError("server closed the connection")
        self.buf += chunk
        return len(chunk)

    def read_response(self, tag):
        """Reads up to the tagged line (or one untagged line if tag is None).
        Returns (first bytes of the status line, bytes read, untagged FETCH responses)."""
        nbytes = 0
        fetches = 0
        while True:
            start = scan = self.pos  # one logical line: text, and literals ({n}CRLF + n octets)
            while True:
                eol = self.buf.find(b"\r\n", scan)
                if eol < 0:
                    scan = max(scan, len(self.buf) - 1)
                    nbytes += self._recv()
                    continue
                if eol > scan and self.buf[eol - 1] == ord("}"):
                    brace = self.buf.rfind(b"{", scan, eol)
                    if brace >= 0:
                        end = eol + 2 + int(self.buf[brace + 1:eol - 1].rstrip(b"+"))
                        while len(self.buf) < end:
                            nbytes += self._recv()
                        scan = end
                        continue
                break
            line = bytes(self.buf[start:min(eol, start + 64)])
            self.pos = eol + 2
            if self.trim and self.pos > (1 << 22):  # nothing before pos is needed any more
                del self.buf[:self.pos]
                self.pos = 0
            if tag is None:
                return line, nbytes, 0
            if line.startswith(b"* ") and b" FETCH (" in line:
                fetches += 1
            elif line.startswith(tag + b" "):
                return line, nbytes, fetches

    def command(self, text):
        self.tagn += 1
        tag = b"A%d" % self.tagn
        self.sock.sendall(tag + b" " + text + b"\r\n")
        line, nbytes, fetches = self.read_response(tag)
        if not line.startswith(tag + b" OK"):
            raise RuntimeError(f"{text[:40]!r} failed: {line!r}")
        return nbytes, fetches

    def timed_command(self, text):
        """Like command(), for the timed FETCH: while the server sends, the client only
        receives and looks for the tagged line, so a slow client does not set the wall time;
        the literal-aware parse that counts FETCH responses (and checks that the tagged line
        found was not inside a literal) runs after the clock stops. Returns (seconds,
        bytes, FETCH responses)."""
        self.tagn += 1
        tag = b"A%d" % self.tagn
        marker = b"\r\n" + tag + b" "
        assert self.pos == len(self.buf), "unread input before the timed command"
        chunks = []
        tail = b""
        found = False
        t0 = time.perf_counter()
        self.sock.sendall(tag + b" " + text + b"\r\n")
        while True:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("server closed the connection")
            chunks.append(chunk)
            if not found:
                window = tail + chunk[:len(marker)]
                if marker in window or marker in chunk or (len(chunks) == 1 and chunk.startswith(tag + b" ")):
                    found = True
                tail = (tail + chunk)[-len(marker):] if len(chunk) < len(marker) else chunk[-len(marker):]
            if found and chunk.endswith(b"\r\n"):
                break
        seconds = time.perf_counter() - t0
        self.buf = bytearray(b"".join(chunks))
        self.pos = 0
        self.trim = False
        line, nbytes, fetches = self.read_response(tag)
        self.trim = True
        if self.pos != len(self.buf):
            raise RuntimeError("the tagged line found was not the end of the response")
        if not line.startswith(tag + b" OK"):
            raise RuntimeError(f"{text[:40]!r} failed: {line!r}")
        return seconds, len(self.buf), fetches

    def close(self):
        try:
            self.command(b"LOGOUT")
        except (RuntimeError, OSError):
            pass
        self.sock.close()


def parse_fetches(data):
    """{uid: parsed FETCH data} from a raw response: nested lists of atoms, with quoted
    strings and literals both as ('s', bytes) so that equal values compare equal however
    the server chose to send them."""
    out = {}
    i, n = 0, len(data)

    def value():
        nonlocal i
        c = data[i]
        if c == 0x28:  # (
            i += 1
            items = []
            while True:
                while data[i] == 0x20:
                    i += 1
                if data[i] == 0x29:
                    i += 1
                    return items
                items.append(value())
        if c == 0x22:  # "
            i += 1
            b = bytearray()
            while data[i] != 0x22:
                if data[i] == 0x5C:
                    i += 1
                b.append(data[i])
                i += 1
            i += 1
            return ("s", bytes(b))
        if c == 0x7B:  # {n}CRLF
            j = data.index(b"}", i)
            size = int(data[i + 1:j])
            i = j + 3
            i += size
            return ("s", bytes(data[i - size:i]))
        j = i
        while data[j] not in b" ()\r":
            if data[j] == 0x5B:  # BODY[...] style atoms keep their brackets
                j = data.index(b"]", j)
            j += 1
        atom = bytes(data[i:j])
        i = j
        return atom.upper() if atom.upper() == b"NIL" else atom

    while i < n:
        if data.startswith(b"* ", i):
            j = data.index(b" ", i + 2)
            if data.startswith(b" FETCH (", j):
                i = j + 7
                items = value()
                d = dict(zip(items[0::2], items[1::2]))
                out[int(d[b"UID"])] = d
        nl = data.index(b"\r\n", i)
        i = nl + 2
    return out


def compare(a_name, a_raw, b_name, b_raw, show=3):
    a, b = parse_fetches(a_raw), parse_fetches(b_raw)
    diffs = []
    for uid in sorted(set(a) | set(b)):
        for item in (b"FLAGS", b"ENVELOPE", b"BODYSTRUCTURE"):
            x = a.get(uid, {}).get(item)
            y = b.get(uid, {}).get(item)
            if x != y:
                diffs.append((uid, item, x, y))
    for uid, item, x, y in diffs[:show]:
        print(f"  differs: UID {uid} {item.decode()}\n    {a_name}: {x!r:.600}\n    {b_name}: {y!r:.600}")
    return len({d[0] for d in diffs}), len(a)


def one_session(port, cpu_pids_fn, keep_raw=False):
    """LOGIN, SELECT (timed), timed FETCH with server CPU, LOGOUT."""
    c = Imap(port)
    c.command(b"LOGIN %s %s" % (USER.encode(), PASSWORD.encode()))
    t0 = time.perf_counter()
    c.command(b"SELECT INBOX")
    select_ms = (time.perf_counter() - t0) * 1000
    pids = cpu_pids_fn()
    cpu0 = cpu_ticks(pids)
    seconds, nbytes, fetches = c.timed_command(FETCH_CMD)
    wall_ms = seconds * 1000
    cpu_ms = (cpu_ticks(pids) - cpu0) * TICK_MS
    raw = bytes(c.buf) if keep_raw else None
    c.close()
    return {"select_ms": select_ms, "wall_ms": wall_ms, "cpu_ms": cpu_ms, "bytes": nbytes,
            "fetches": fetches, "raw": raw}


def wait_port(port, pid_alive, what, log_path):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if not pid_alive():
                break
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up on port {port}; see {log_path}")


def free_port(first, avoid=()):
    """The first port from `first` on (100 tried) that can be listened on now: the range is
    inside Linux's ephemeral range, so another program's client socket may hold one."""
    for port in range(first, first + 100):
        if port in avoid:
            continue
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError(f"no free port in {first}..{first + 99}")


def seed(corpus, messages):
    md = os.path.join(corpus, "Maildir")
    stamp = os.path.join(corpus, f"seeded-{messages}")
    if os.path.exists(stamp):
        return md
    log(f"seeding {messages} messages into {md} (seed.py) ...")
    t0 = time.time()
    subprocess.run([sys.executable, SEED_PY, "maildir", "--template", md, "--users", "1",
                    "--messages", str(messages), "--wipe"], check=True, stdout=subprocess.DEVNULL)
    open(stamp, "w").close()
    log(f"seeded in {time.time() - t0:.1f} s")
    return md


def copy_tree(src, dst, owner=None):
    shutil.copytree(src, dst)
    if owner:
        subprocess.run(["chown", "-R", f"{owner}:{owner}", dst], check=True)


class Server:
    def __init__(self, name):
        self.name = name
        self.pid = None

    def stop(self):
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.pid = None
            return
        for _ in range(200):
            if not self._alive():
                break
            time.sleep(0.05)
        else:
            os.kill(self.pid, signal.SIGKILL)
        self._reap()
        self.pid = None

    def _alive(self):
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return self._reap_nohang() is None

    def _reap_nohang(self):
        return None

    def _reap(self):
        pass


class Mailbridge(Server):
    def __init__(self, binary, work, port, maildir_tpl):
        super().__init__("mailbridge")
        users = os.path.join(work, "users")
        with open(users, "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        cfg = os.path.join(work, "mailbridge.toml")
        with open(cfg, "w") as f:
            f.write(f'[listen]\nimap = ["127.0.0.1:{port}"]\n'
                    f'[auth]\npasswd_file = "{users}"\nplaintext = "always"\n'
                    f'[store]\ndriver = "maildir"\npath = "{maildir_tpl}"\n'
                    '[log]\nlevel = "warn"\n')
        self.log_path = os.path.join(work, "mailbridge.log")
        with open(self.log_path, "w") as logf:
            self.proc = subprocess.Popen([binary, "--config", cfg], stdout=logf, stderr=logf)
        self.pid = self.proc.pid
        self.port = port
        try:
            wait_port(port, lambda: self.proc.poll() is None, "mailbridge", self.log_path)
        except RuntimeError:
            self.stop()
            raise

    def _reap_nohang(self):
        return self.proc.poll()

    def _reap(self):
        self.proc.wait()

    def cpu_pids(self):
        return [self.pid]


class Dovecot(Server):
    def __init__(self, work, port, home):
        super().__init__("dovecot")
        try:
            pw = pwd.getpwnam("vmail")
        except KeyError:
            subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s",
                            "/usr/sbin/nologin", "vmail"], check=True)
            pw = pwd.getpwnam("vmail")
        run = os.path.join(work, "run")
        os.makedirs(os.path.join(run, "state"))
        passwd = os.path.join(work, "passwd")
        with open(passwd, "w") as f:
            f.write(f"{USER}:{{PLAIN}}{PASSWORD}:{pw.pw_uid}:{pw.pw_gid}::{home}::\n")
        self.log_path = os.path.join(work, "dovecot.log")
        self.conf = os.path.join(work, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""protocols = imap
listen = 127.0.0.1
base_dir = {run}
instance_name = fetchmeta-{os.getpid()}
state_dir = {run}/state
log_path = {self.log_path}
info_log_path = {self.log_path}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_privileged_group = vmail
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        subprocess.run(["dovecot", "-c", self.conf], check=True)
        pidfile = os.path.join(run, "master.pid")
        for _ in range(100):
            if os.path.exists(pidfile) and os.path.getsize(pidfile) > 0:
                break
            time.sleep(0.05)
        else:
            subprocess.run(["doveadm", "-c", self.conf, "stop"], check=False)
            raise RuntimeError(f"dovecot wrote no {pidfile}; see {self.log_path}")
        with open(pidfile) as f:
            self.pid = int(f.read().split()[0])
        self.port = port
        try:
            wait_port(port, self._alive, "dovecot", self.log_path)
        except RuntimeError:
            self.stop()
            raise

    def cpu_pids(self):
        # The session's `imap` process (one per connection: service_count = 1).
        return children_named(self.pid, "imap")

    def stop(self):
        pids = [self.pid] + self._descendants() if self.pid else []
        super().stop()
        for pid in pids:  # the master stops its children; wait until they are gone
            for _ in range(100):
                if not os.path.exists(f"/proc/{pid}"):
                    break
                time.sleep(0.05)

    def _descendants(self):
        out = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == self.pid:
                            out.append(int(d))
                except OSError:
                    pass
        return out


def run_server(server, runs, messages):
    results = []
    for i in range(runs + 1):
        r = one_session(server.port, server.cpu_pids, keep_raw=(i == runs))
        kind = "cold" if i == 0 else f"cached{i}"
        if r["fetches"] != messages:
            raise RuntimeError(f"{server.name} {kind}: {r['fetches']} FETCH responses, "
                               f"expected {messages}")
        print(f"{server.name:10} {kind:8} select {r['select_ms']:8.1f} ms  fetch {r['wall_ms']:8.1f} ms "
              f"wall  {r['cpu_ms']:7.0f} ms server CPU  {r['bytes'] / 1e6:6.2f} MB  "
              f"{r['fetches']} FETCH", flush=True)
        results.append(r)
    return results


def summary(results):
    cached = results[1:]
    return {
        "cold_wall_ms": results[0]["wall_ms"],
        "cold_cpu_ms": results[0]["cpu_ms"],
        "cold_select_ms": results[0]["select_ms"],
        "cached_wall_ms": statistics.median(r["wall_ms"] for r in cached),
        "cached_cpu_ms": statistics.mean(r["cpu_ms"] for r in cached),
        "bytes": cached[-1]["bytes"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get("MAILBRIDGE"),
                    help="mailbridge binary (release build); or MAILBRIDGE=path")
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--cached-runs", type=int, default=10)
    ap.add_argument("--port-base", type=int, default=36400,
                    help="first port tried (the next free ones are used)")
    ap.add_argument("--corpus", help="keep the seeded corpus here and reuse it next time")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument("--no-dovecot", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, trees)")
    args = ap.parse_args()
    if not args.server:
        ap.error("give --server PATH or MAILBRIDGE=PATH")
    server_bin = os.path.abspath(args.server)

    work = tempfile.mkdtemp(prefix="mb-fetchmeta-", dir=args.tmp)
    os.chmod(work, 0o755)
    servers = []
    try:
        corpus = os.path.abspath(args.corpus) if args.corpus else os.path.join(work, "corpus")
        os.makedirs(corpus, exist_ok=True)
        src = seed(corpus, args.messages)
        sizes = [e.stat().st_size for e in os.scandir(os.path.join(src, "cur"))]
        log(f"corpus: {len(sizes)} messages, {sum(sizes) / 1e6:.1f} MB")

        mb_work = os.path.join(work, "mb")
        copy_tree(src, os.path.join(mb_work, "mail", USER, "Maildir"))
        mb_port = free_port(args.port_base)
        mb = Mailbridge(server_bin, mb_work, mb_port,
                        os.path.join(mb_work, "mail", "%u", "Maildir"))
        servers.append(mb)
        res = {"mailbridge": run_server(mb, args.cached_runs, args.messages)}
        mb.stop()

        if not args.no_dovecot:
            dv_work = os.path.join(work, "dv")
            home = os.path.join(dv_work, "home")
            copy_tree(src, os.path.join(home, "Maildir"), owner="vmail")
            subprocess.run(["chown", "vmail:vmail", home], check=True)
            dv = Dovecot(dv_work, free_port(args.port_base + 1, avoid=(mb_port,)), home)
            servers.append(dv)
            res["dovecot"] = run_server(dv, args.cached_runs, args.messages)
            dv.stop()

        if "dovecot" in res:
            ndiff, total = compare("mailbridge", res["mailbridge"][-1]["raw"],
                                   "dovecot", res["dovecot"][-1]["raw"])
            print(f"same FLAGS/ENVELOPE/BODYSTRUCTURE as Dovecot: {total - ndiff} of {total} "
                  f"messages ({ndiff} differ)", flush=True)
        s = {k: summary(v) for k, v in res.items()}
        kv = []
        for name, v in s.items():
            kv += [f"{name}_{k}={v[k]:.1f}" if isinstance(v[k], float) else f"{name}_{k}={v[k]}"
                   for k in v]
        if "dovecot" in s:
            m, d = s["mailbridge"], s["dovecot"]

            def ratio(key):
                return d[key] / m[key] if m[key] > 0 else 0.0  # 0: below the tick

            print(f"ratio dovecot/mailbridge: cold wall {ratio('cold_wall_ms'):.2f}x, "
                  f"cold CPU {ratio('cold_cpu_ms'):.2f}x, cached wall {ratio('cached_wall_ms'):.2f}x, "
                  f"cached CPU {ratio('cached_cpu_ms'):.2f}x")
            kv += [f"ratio_cold_wall={ratio('cold_wall_ms'):.2f}",
                   f"ratio_cold_cpu={ratio('cold_cpu_ms'):.2f}",
                   f"ratio_cached_wall={ratio('cached_wall_ms'):.2f}",
                   f"ratio_cached_cpu={ratio('cached_cpu_ms'):.2f}"]
        print(f"RESULT imap_fetch_meta messages={args.messages} " + " ".join(kv), flush=True)
    finally:
        for srv in servers:
            srv.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
