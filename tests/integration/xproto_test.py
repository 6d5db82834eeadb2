"""tests/integration/xproto_test.py: cross-protocol consistency, the product's promise (issue #5
item 5, issue #4 item 3): what a POP3 client or an MDA does is seen by an IMAP session live.

  (a) an IMAP session selected and in IDLE receives `* n FETCH (FLAGS (\\Seen))` when a POP3
      client RETRs that message (pop3.seen_on_retr = immediate, the default);
  (b) POP3 DELE + QUIT makes the idling IMAP session receive `* n EXPUNGE`;
  (c) an IMAP APPEND appears in the next POP3 session with the same size (LIST) and bytes (RETR);
  (d) a message dropped into Maildir/new by an "MDA" reaches an idling IMAP session as EXISTS
      without any client command;
  (e) POP3 UIDL equals Dovecot's default format %08Xu%08Xv of the IMAP UID and UIDVALIDITY;
  (f) outside IDLE, a POP3 DELE+QUIT reaches a selected IMAP session at NOOP, never during a
      non-UID FETCH (RFC 3501 7.4.1), and a POP3 RETR's \\Seen arrives by then too.

Every wait is bounded by the socket timeout (IDLE_WAIT); nothing asserts how fast it happened.
"""

from __future__ import annotations

import re
import socket

import harness

IDLE_WAIT = 20.0  # seconds an idling session may wait for an untagged response


class IdleSession:
    """A raw IMAP connection logged in as `user`, INBOX selected, in IDLE."""

    def __init__(self, srv: harness.Server, user: str = "alice"):
        self.conn = srv.raw("imap", timeout=IDLE_WAIT)
        self.conn.readline()  # greeting
        self.conn.send(f"a LOGIN {user} {srv.password(user)}\r\n")
        self._expect_ok(b"a ")
        self.conn.send("b SELECT INBOX\r\n")
        self.select_lines = self._expect_ok(b"b ")
        self.conn.send("c IDLE\r\n")
        line = self.conn.readline()
        if not line.startswith(b"+"):
            raise AssertionError(f"IDLE not accepted: {line!r}")

    def _expect_ok(self, tag: bytes) -> list[bytes]:
        lines = self.conn.read_until(tag)
        if not lines[-1].startswith(tag + b"OK"):
            raise AssertionError(f"expected {tag!r}OK, got {lines!r}")
        return lines

    def wait_for(self, pattern: bytes) -> tuple[bytes, list[bytes]]:
        """Read untagged lines until one matches `pattern` (regex); returns (match line, all
        lines read). Fails when IDLE_WAIT passes without a match."""
        seen: list[bytes] = []
        try:
            while True:
                line = self.conn.readline()
                if not line:
                    raise AssertionError(f"EOF while waiting for {pattern!r}; got {seen!r}")
                seen.append(line)
                if re.search(pattern, line):
                    return line, seen
        except socket.timeout:
            raise AssertionError(f"no line matching {pattern!r} within {IDLE_WAIT} s; "
                                 f"got {seen!r}") from None

    def done(self) -> None:
        self.conn.send("DONE\r\n")
        self._expect_ok(b"c ")
        self.conn.send("z LOGOUT\r\n")
        self.conn.read_until(b"z ")
        self.conn.close()


def pop3_login(srv: harness.Server, user: str = "alice"):
    pop = srv.pop3()
    pop.user(user)
    pop.pass_(srv.password(user))
    return pop


class CrossProtocol(harness.TestCase):

    def test_a_pop3_retr_sets_seen_in_idle(self):
        with harness.Server(protocols=("imap", "pop3")) as srv:
            srv.deliver("alice", harness.make_message(subject="one"))
            srv.deliver("alice", harness.make_message(subject="two"))
            idle = IdleSession(srv)
            pop = pop3_login(srv)
            pop.retr(2)
            line, _ = idle.wait_for(rb"^\* 2 FETCH ")
            self.assertRegex(line, rb"^\* 2 FETCH \(.*FLAGS \([^)]*\\Seen[^)]*\).*\)\r\n$")
            pop.quit()
            idle.done()

    def test_b_pop3_dele_quit_expunges_in_idle(self):
        with harness.Server(protocols=("imap", "pop3")) as srv:
            for i in range(3):
                srv.deliver("alice", harness.make_message(subject=f"m{i}"))
            idle = IdleSession(srv)
            pop = pop3_login(srv)
            pop.dele(2)
            pop.quit()
            line, _ = idle.wait_for(rb"EXPUNGE")
            self.assertEqual(line, b"* 2 EXPUNGE\r\n")
            idle.done()
            imap = srv.imap()
            imap.login("alice", srv.password("alice"))
            typ, data = imap.select("INBOX")
            self.assertEqual((typ, data), ("OK", [b"2"]))
            imap.logout()

    def test_c_imap_append_seen_by_next_pop3_session(self):
        with harness.Server(protocols=("imap", "pop3")) as srv:
            # Mixed line content, a dot-leading line and 8-bit octets: sizes must still agree.
            msg = harness.make_message(subject="appended",
                                       body=".starts with a dot\r\ncaf\u00e9 line\r\n\r\nend\r\n")
            imap = srv.imap()
            imap.login("alice", srv.password("alice"))
            typ, _ = imap.append("INBOX", None, None, msg)
            self.assertEqual(typ, "OK")
            imap.select("INBOX")
            typ, data = imap.fetch("1", "(RFC822.SIZE)")
            imap_size = int(re.search(rb"RFC822\.SIZE (\d+)", data[0]).group(1))
            imap.logout()
            pop = pop3_login(srv)
            count, _ = pop.stat()
            self.assertEqual(count, 1)
            resp = pop.list(1)
            self.assertEqual(int(resp.split()[2]), len(msg))
            self.assertEqual(imap_size, len(msg))
            _, lines, _ = pop.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", msg)
            pop.quit()

    def test_d_mda_drop_reaches_idle_as_exists(self):
        with harness.Server(protocols=("imap", "pop3")) as srv:
            srv.deliver("alice", harness.make_message(subject="already there"))
            idle = IdleSession(srv)
            self.assertIn(b"* 1 EXISTS\r\n", idle.select_lines)
            srv.deliver("alice", harness.make_message(subject="dropped by MDA"))
            line, _ = idle.wait_for(rb"EXISTS")
            self.assertEqual(line, b"* 2 EXISTS\r\n")
            idle.done()

    def test_f_pop3_changes_wait_for_allowed_points_outside_idle(self):
        # RFC 3501 7.4.1: no EXPUNGE during FETCH (non-UID); it comes at NOOP. The \Seen set by
        # a POP3 RETR arrives as an untagged FETCH by that NOOP at the latest.
        with harness.Server(protocols=("imap", "pop3")) as srv:
            for i in range(3):
                srv.deliver("alice", harness.make_message(subject=f"f{i}"))
            with srv.raw("imap") as conn:
                conn.readline()
                conn.send(f"a LOGIN alice {srv.password('alice')}\r\nb SELECT INBOX\r\n")
                self.assertTrue(conn.read_until(b"b ")[-1].startswith(b"b OK"))
                pop = pop3_login(srv)
                pop.retr(3)
                pop.dele(1)
                pop.quit()
                conn.send("c FETCH 2 (FLAGS)\r\n")
                fetch = conn.read_until(b"c ")
                self.assertTrue(fetch[-1].startswith(b"c OK"), fetch)
                self.assertFalse([line for line in fetch if b"EXPUNGE" in line], fetch)
                conn.send("d NOOP\r\n")
                noop = conn.read_until(b"d ")
                self.assertTrue(noop[-1].startswith(b"d OK"), noop)
                both = fetch + noop
                self.assertIn(b"* 1 EXPUNGE\r\n", noop)
                # message 3 is \Seen: reported as 3 before the EXPUNGE or as 2 after it
                seen = [line for line in both if re.match(rb"\* [23] FETCH \(.*\\Seen", line)]
                self.assertTrue(seen, both)

    def test_e_uidl_is_dovecot_format_of_uid_and_uidvalidity(self):
        with harness.Server(protocols=("imap", "pop3")) as srv:
            for i in range(3):
                srv.deliver("alice", harness.make_message(subject=f"u{i}"))
            imap = srv.imap()
            imap.login("alice", srv.password("alice"))
            imap.select("INBOX")
            typ, data = imap.status("INBOX", "(UIDVALIDITY)")
            uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))
            typ, data = imap.fetch("1:*", "(UID)")
            uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data]
            imap.logout()
            pop = pop3_login(srv)
            _, listing, _ = pop.uidl()
            pop.quit()
            got = [line.split()[1].decode() for line in listing]
            want = [f"{uid:08x}{uidvalidity:08x}" for uid in uids]  # Dovecot's %X is lowercase hex
            self.assertEqual(got, want)


if __name__ == "__main__":
    harness.main()
