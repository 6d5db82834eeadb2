"""tests/integration/pop3_protocol_test.py: the POP3 server over real sockets (issue #4).

Python's poplib plus exact byte exchanges (harness.LineClient) against the real `mailbridge`
binary with a real Maildir: RFC 1939 commands, wire exactness (CRLF, dot-stuffing, sizes,
8-bit), STLS and implicit TLS, plaintext policy, SASL, QUIT/DELE/RSET semantics with the
configured delete_mode, \\Seen on RETR, UIDL stability across restarts, locks, bad input.
"""

from __future__ import annotations

import base64
import os
import poplib
import re
import time
from pathlib import Path

import harness

DOTTED = (b"From: a@example.org\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n"
          b".leading dot\r\n..two dots\r\nmiddle . dot\r\n.\r\nend\r\n")
NO_EOL = b"From: a@example.org\r\nSubject: no final line end\r\n\r\nlast line"
EIGHT_BIT = (b"From: a@example.org\r\nSubject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n"
             b"Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xff\xfe\r\n")


def maildir_files(srv: harness.Server, user: str = "alice") -> list[str]:
    root = Path(srv.maildir(user))
    return sorted(p.name for sub in ("new", "cur") for p in (root / sub).iterdir())


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def unstuff(lines: list[bytes]) -> bytes:
    return b"".join((l[1:] if l.startswith(b"..") else l) + b"\r\n" for l in lines)


def login(pop: poplib.POP3, srv: harness.Server, user: str = "alice") -> None:
    pop.user(user)
    pop.pass_(srv.password(user))


class Pop3Protocol(harness.TestCase):

    def test_retr_is_wire_exact(self):
        with harness.Server(protocols=("pop3",)) as srv:
            for m in (DOTTED, NO_EOL, EIGHT_BIT):
                srv.deliver("alice", m)
            with srv.raw("pop3") as c:
                self.assertTrue(c.readline().startswith(b"+OK"))
                c.send(f"USER alice\r\nPASS {srv.password('alice')}\r\nLIST\r\n")
                self.assertEqual(c.readline(), b"+OK\r\n")
                self.assertEqual(c.readline(), b"+OK Logged in.\r\n")
                listing = c.read_until(b".\r\n")
                sizes = [int(l.split()[1]) for l in listing[1:-1]]
                # RFC822.SIZE of the stored wire form (the CRLF ending the unterminated last line is
                # added by the POP3 framing, as Dovecot does).
                self.assertEqual(sizes, [len(DOTTED), len(NO_EOL), len(EIGHT_BIT)])
                c.send("RETR 1\r\n")
                lines = c.read_until(b".\r\n")
                self.assertEqual(lines[0], f"+OK {len(DOTTED)} octets\r\n".encode())
                self.assertEqual(b"".join(lines[1:]),
                                 DOTTED.replace(b"\r\n.", b"\r\n..") + b".\r\n")
                c.send("RETR 2\r\n")
                self.assertEqual(b"".join(c.read_until(b".\r\n")[1:]), NO_EOL + b"\r\n.\r\n")
                c.send("RETR 3\r\n")
                self.assertEqual(b"".join(c.read_until(b".\r\n")[1:]), EIGHT_BIT + b".\r\n")
                c.send("TOP 1 2\r\n")
                self.assertEqual(b"".join(c.read_until(b".\r\n")),
                                 b"+OK\r\n" + DOTTED.split(b"\r\n\r\n")[0] +
                                 b"\r\n\r\n..leading dot\r\n...two dots\r\n.\r\n")
                c.send("QUIT\r\n")
                self.assertEqual(c.readline(), b"+OK Logging out.\r\n")
                self.assertEqual(c.readline(), b"")

    def test_poplib_session_and_expunge_on_quit(self):
        with harness.Server(protocols=("pop3",)) as srv:
            for i in range(3):
                srv.deliver("alice", harness.make_message(subject=f"m{i}"))
            pop = srv.pop3()
            login(pop, srv)
            count, total = pop.stat()
            self.assertEqual(count, 3)
            _, listing, _ = pop.list()
            self.assertEqual(sum(int(l.split()[1]) for l in listing), total)
            _, lines, octets = pop.retr(2)
            self.assertIn(b"Subject: m1", lines)
            pop.dele(1)
            with self.assertRaises(poplib.error_proto):
                pop.retr(1)
            pop.rset()
            self.assertEqual(pop.stat()[0], 3)
            pop.dele(1)
            pop.dele(3)
            self.assertEqual(len(maildir_files(srv)), 3)  # nothing deleted before QUIT
            pop.quit()
            self.assertEqual(len(maildir_files(srv)), 1)
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 1)
            self.assertIn(b"Subject: m1", pop.retr(1)[1])
            pop.quit()

    def test_dropped_connection_deletes_nothing(self):
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice")
            srv.deliver("alice")
            pop = srv.pop3()
            login(pop, srv)
            pop.dele(1)
            pop.dele(2)
            pop.sock.close()
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 2)
            pop.quit()

    def test_seen_on_retr_not_on_top(self):
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice")
            srv.deliver("alice")
            pop = srv.pop3()
            login(pop, srv)
            pop.top(1, 0)
            pop.retr(2)
            pop.quit()
            files = maildir_files(srv)
            seen = [f for f in files if re.search(r":2,[A-Z]*S", f)]
            self.assertEqual(len(seen), 1, files)

    def test_uidl_stable_across_sessions_and_restart(self):
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice")
            srv.deliver("alice")
            pop = srv.pop3()
            login(pop, srv)
            first = pop.uidl()[1]
            pop.retr(1)  # a flag change must not change the UIDL
            pop.quit()
            for line in first:
                self.assertRegex(line.decode(), r"^\d+ [0-9a-f]{16}$")
            srv.stop()
            srv.start()
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.uidl()[1], first)
            pop.quit()

    def test_capa_plain_stls_and_implicit_tls(self):
        with harness.Server(protocols=("pop3", "pop3s")) as srv:
            srv.deliver("alice")
            pop = srv.pop3()
            capa = pop.capa()
            for cap in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
                        "STLS", "IMPLEMENTATION"):
                self.assertIn(cap, capa)
            self.assertEqual(capa["SASL"], ["PLAIN", "LOGIN"])
            pop.stls(context=harness.client_ssl_context())
            self.assertNotIn("STLS", pop.capa())
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 1)
            pop.quit()
            pops = srv.pop3s()
            self.assertNotIn("STLS", pops.capa())
            login(pops, srv)
            self.assertEqual(len(pops.retr(1)[1]) > 3, True)
            pops.quit()

    def test_plaintext_never_requires_tls(self):
        with harness.Server(protocols=("pop3",), plaintext="never") as srv:
            pop = srv.pop3()
            capa = pop.capa()
            self.assertNotIn("USER", capa)
            self.assertNotIn("SASL", capa)
            with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\]"):
                pop.user("alice")
            pop.stls(context=harness.client_ssl_context())
            login(pop, srv)
            pop.quit()

    def test_sasl_plain_login_and_hashed_user(self):
        with harness.Server(protocols=("pop3",)) as srv:
            with srv.raw("pop3") as c:
                c.readline()
                ir = base64.b64encode(b"\0alice\0" + srv.password("alice").encode()).decode()
                c.send(f"AUTH PLAIN {ir}\r\nQUIT\r\n")
                self.assertEqual(c.readline(), b"+OK Logged in.\r\n")
                self.assertEqual(c.readline(), b"+OK Logging out.\r\n")
            with srv.raw("pop3") as c:
                c.readline()
                c.send("AUTH LOGIN\r\n")
                self.assertEqual(c.readline(), b"+ VXNlcm5hbWU6\r\n")
                c.send(base64.b64encode(b"carol").decode() + "\r\n")
                self.assertEqual(c.readline(), b"+ UGFzc3dvcmQ6\r\n")
                c.send(base64.b64encode(srv.password("carol").encode()).decode() + "\r\n")
                self.assertEqual(c.readline(), b"+OK Logged in.\r\n")
            with srv.raw("pop3") as c:
                c.readline()
                c.send("AUTH PLAIN\r\n")
                self.assertEqual(c.readline(), b"+ \r\n")
                c.send("*\r\n")
                self.assertTrue(c.readline().startswith(b"-ERR"))
                c.send("USER alice\r\nPASS wrong\r\n")
                self.assertEqual(c.readline(), b"+OK\r\n")
                self.assertEqual(c.readline(), b"-ERR [AUTH] Authentication failed.\r\n")

    def test_pipelining_and_bad_input(self):
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice", DOTTED)
            with srv.raw("pop3") as c:
                c.readline()
                c.send(f"USER alice\r\nPASS {srv.password('alice')}\r\nSTAT\r\n" +
                       "X" * 300 + "\r\nRETR 9\r\nLIST 1\r\nBOGUS\r\n")
                self.assertEqual(c.readline(), b"+OK\r\n")
                self.assertEqual(c.readline(), b"+OK Logged in.\r\n")
                self.assertEqual(c.readline(), f"+OK 1 {len(DOTTED)}\r\n".encode())
                self.assertEqual(c.readline(), b"-ERR Line too long.\r\n")
                self.assertEqual(c.readline(), b"-ERR There's no message 9.\r\n")
                self.assertEqual(c.readline(), f"+OK 1 {len(DOTTED)}\r\n".encode())
                self.assertEqual(c.readline(), b"-ERR Unknown command.\r\n")
                c.send("NOOP\r\n" + "BOGUS\r\n" * 10)  # NOOP's +OK resets the count
                self.assertEqual(c.readline(), b"+OK\r\n")
                for _ in range(10):
                    self.assertTrue(c.readline().startswith(b"-ERR"))
                self.assertEqual(c.readline(), b"")  # closed after 10 errors in a row

    def test_delete_mode_keyword_keeps_message_for_imap(self):
        with harness.Server(protocols=("pop3",), config={"pop3": {"delete_mode": "keyword"}}) as srv:
            srv.deliver("alice", harness.make_message(subject="keep"))
            srv.deliver("alice", harness.make_message(subject="gone"))
            pop = srv.pop3()
            login(pop, srv)
            pop.dele(2)
            pop.quit()
            self.assertEqual(len(maildir_files(srv)), 2)
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 1)
            self.assertIn(b"Subject: keep", pop.retr(1)[1])
            pop.quit()

    def test_expire_days_enforced_at_quit(self):
        # RFC 2449 §6.7 as README documents it: EXPIRE 30 deletes, at QUIT, mail that was read
        # and delivered (mtime = internal date) at least 30 days ago; unread or recent mail stays.
        with harness.Server(protocols=("pop3", "imap"), config={"pop3": {"expire_days": 30}},
                            start=False) as srv:
            old = time.time() - 40 * 86400
            for subject, flags, mtime in (("old-read", "S", old), ("old-unread", None, old),
                                          ("new-read", "S", None)):
                path = srv.deliver("alice", harness.make_message(subject=subject), flags=flags)
                if mtime is not None:
                    os.utime(path, (mtime, mtime))
            srv.start()
            pop = srv.pop3()
            self.assertEqual(pop.capa().get("EXPIRE"), ["30"])
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 3)
            pop.quit()
            imap = srv.imap()
            imap.login("alice", srv.password("alice"))
            imap.select("INBOX")
            typ, data = imap.search(None, "ALL")
            self.assertEqual(len(data[0].split()), 2)
            typ, data = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subjects = b" ".join(part[1] for part in data if isinstance(part, tuple))
            self.assertNotIn(b"old-read", subjects)
            self.assertIn(b"old-unread", subjects)
            self.assertIn(b"new-read", subjects)
            imap.logout()

    def test_expire_zero_deletes_what_was_retrieved(self):
        with harness.Server(protocols=("pop3",), config={"pop3": {"expire_days": 0}}) as srv:
            srv.deliver("alice", harness.make_message(subject="one"))
            srv.deliver("alice", harness.make_message(subject="two"))
            pop = srv.pop3()
            self.assertEqual(pop.capa().get("EXPIRE"), ["0"])
            login(pop, srv)
            pop.retr(1)
            pop.top(2, 0)
            pop.quit()
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 1)
            self.assertIn(b"Subject: two", b"\r\n".join(pop.retr(1)[1]))
            pop.rset()
            pop.sock.close()  # no QUIT: nothing expires
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.stat()[0], 1)
            pop.quit()

    def test_lock_session_in_use(self):
        with harness.Server(protocols=("pop3",), config={"pop3": {"lock_session": True}}) as srv:
            first = srv.pop3()
            login(first, srv)
            second = srv.pop3()
            second.user("alice")
            with self.assertRaisesRegex(poplib.error_proto, r"\[IN-USE\]"):
                second.pass_(srv.password("alice"))
            first.quit()
            second.user("alice")
            second.pass_(srv.password("alice"))
            second.quit()

    def test_large_message_streams(self):
        body = "".join(f"{'.' if i % 3 == 0 else ''}line {i} " + "x" * (i % 90) + "\r\n"
                       for i in range(60000))
        msg = harness.make_message(subject="big", body=body)
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice", msg)
            pop = srv.pop3()
            login(pop, srv)
            self.assertEqual(pop.list(1).split()[2], str(len(msg)).encode())
            _, lines, _ = pop.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", msg)
            pop.quit()

    def test_large_lf_messages_wire_exact_plain_and_tls(self):
        # Large RETRs are sent by the body pump thread on plain connections, by the loop on
        # TLS ones: LF files converted, dot lines stuffed, an unterminated last line ended,
        # 8-bit bytes unchanged, pipelined RETRs answered in order, on both.
        def lf_message(size: int, tag: bytes, final_eol: bool) -> bytes:
            out, i, n = [b"Subject: big " + tag + b"\n\n"], 0, 0
            while n < size:
                out.append((b"." if i % 4 == 0 else b"") + b"\xc3\xa9 " + tag * (30 + i % 60) + b"\n")
                n += len(out[-1])
                i += 1
            return b"".join(out) + (b"" if final_eol else b"last line")

        def expected(stored: bytes) -> bytes:
            wire = stored.replace(b"\n", b"\r\n")
            body = b"\r\n".join((b"." + l if l.startswith(b".") else l) for l in wire.split(b"\r\n"))
            return (f"+OK {len(wire)} octets\r\n".encode() + body +
                    (b"" if wire.endswith(b"\r\n") else b"\r\n") + b".\r\n")

        stored = [lf_message(700_000, b"a", True), lf_message(90_000, b"b", False),
                  lf_message(2_200_000, b"c", False), lf_message(3_000, b"d", True)]
        with harness.Server(protocols=("pop3", "pop3s")) as srv:
            for m in stored:
                srv.deliver("alice", m)
            for protocol in ("pop3", "pop3s"):
                with srv.raw(protocol) as c:
                    c.readline()
                    c.send(f"USER alice\r\nPASS {srv.password('alice')}\r\n"
                           + "".join(f"RETR {i + 1}\r\n" for i in range(len(stored))) + "NOOP\r\n")
                    c.readline()
                    c.readline()
                    for i, m in enumerate(stored):
                        want = expected(m)
                        got = bytearray(c.buf[:len(want)])
                        c.buf = c.buf[len(got):]
                        while len(got) < len(want):
                            chunk = c.sock.recv(min(65536, len(want) - len(got)))
                            self.assertTrue(chunk, "connection closed during RETR")
                            got += chunk
                        got = bytes(got)
                        self.assertEqual(len(got), len(want), f"{protocol} RETR {i + 1}")
                        self.assertTrue(got == want, f"{protocol} RETR {i + 1}: bytes differ")
                    self.assertEqual(c.readline(), b"+OK\r\n")

    def test_apop(self):
        # APOP is offered because the passwd-file has {PLAIN} users (RFC 1939 §7); it works
        # only for those: carol's {SHA512-CRYPT} secret cannot be used for the digest.
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice")
            pop = srv.pop3()
            self.assertRegex(pop.getwelcome().decode(), r"^\+OK .*<[^<>@]+@[^<>]+>$")
            pop.apop("alice", srv.password("alice"))
            self.assertEqual(pop.stat()[0], 1)
            pop.quit()
            pop = srv.pop3()
            with self.assertRaisesRegex(poplib.error_proto, r"\[AUTH\]"):
                pop.apop("carol", srv.password("carol"))
            pop.quit()

    def test_slow_reader_of_50mb_message_bounded_memory(self):
        # Issue #4 "Streaming": the message is read from disk in chunks while the client reads,
        # never buffered whole. ASan's quarantine would keep every freed chunk: disable it.
        os.environ["ASAN_OPTIONS"] = ":".join(
            filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0"]))
        line = b"0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:\r\n"
        msg = b"From: a@example.org\r\nSubject: big\r\n\r\n" + line * (50 * 1024 * 1024 // len(line))
        with harness.Server(protocols=("pop3",)) as srv:
            srv.deliver("alice", msg)
            with srv.raw("pop3") as c:
                c.readline()
                c.send(f"USER alice\r\nPASS {srv.password('alice')}\r\nSTAT\r\n")
                for _ in range(3):
                    c.readline()
                base = rss_kb(srv.pid)
                c.send("RETR 1\r\n")
                peak, received, next_check, tail = base, 0, 0, b""
                while True:
                    chunk = c.sock.recv(64 * 1024)
                    self.assertTrue(chunk, "connection closed during RETR")
                    received += len(chunk)
                    tail = (tail + chunk)[-5:]  # the terminator may arrive in a read of its own
                    if received >= next_check:
                        peak = max(peak, rss_kb(srv.pid))
                        next_check += 1024 * 1024
                    if tail == b"\r\n.\r\n" and received > len(msg):
                        break
                self.assertEqual(received, len(f"+OK {len(msg)} octets\r\n") + len(msg) + 3)
                self.assertLess(peak - base, 2048, f"RSS grew by {peak - base} KB")


if __name__ == "__main__":
    harness.main()
