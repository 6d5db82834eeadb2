"""tests/integration/imap_protocol_test.py: the IMAP server over real sockets ("imapsession").

Python's imaplib and raw exchanges against the real `mailbridge` binary (harness.py): login
policy and STARTTLS, mailbox commands, APPEND/FETCH/STORE/SEARCH/COPY/MOVE/EXPUNGE, IDLE with
a second connection, and cross-protocol checks with poplib (RETR -> \\Seen seen in IDLE,
DELE+QUIT -> EXPUNGE, IMAP APPEND -> same bytes in POP3).
"""

from __future__ import annotations

import imaplib
import re
import socket

import harness

MSG = harness.make_message(subject="integration", body="Hello over IMAP.\r\n")
if isinstance(MSG, str):
    MSG = MSG.encode()


def login(srv: harness.Server, user: str = "alice") -> imaplib.IMAP4:
    imap = srv.imap()
    imap.login(user, srv.password(user))
    return imap


class ImapBasics(harness.TestCase):
    def test_capability_login_logout(self):
        with self.server(protocols=("imap", "imaps")) as srv:
            imap = srv.imap()
            caps = imap.capabilities
            self.assertIn("IMAP4REV1", caps)
            self.assertIn("STARTTLS", caps)
            self.assertIn("AUTH=PLAIN", caps)
            typ, _ = imap.login("alice", srv.password("alice"))
            self.assertEqual(typ, "OK")
            self.assertEqual(imap.logout()[0], "BYE")

    def test_bad_password_and_implicit_tls(self):
        with self.server(protocols=("imap", "imaps")) as srv:
            imap = srv.imap()
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login("alice", "wrong")
            imap.logout()
            imaps = srv.imaps()
            self.assertNotIn("STARTTLS", imaps.capabilities)
            self.assertEqual(imaps.login("bob", srv.password("bob"))[0], "OK")
            imaps.logout()

    def test_starttls_then_login_when_plaintext_never(self):
        with self.server(protocols=("imap",), plaintext="never") as srv:
            imap = srv.imap()
            self.assertIn("LOGINDISABLED", imap.capabilities)
            imap.starttls(ssl_context=harness.client_ssl_context())
            self.assertNotIn("LOGINDISABLED", imap.capabilities)
            self.assertEqual(imap.login("alice", srv.password("alice"))[0], "OK")
            imap.logout()

    def test_hashed_user_login(self):
        with self.server(protocols=("imap",)) as srv:
            imap = login(srv, "carol")
            imap.logout()

    def test_mailboxes(self):
        with self.server(protocols=("imap",)) as srv:
            imap = login(srv)
            self.assertEqual(imap.create("Work/Projects")[0], "OK")
            typ, data = imap.list()
            names = b"\n".join(data)
            self.assertIn(b'"/" INBOX', names)
            self.assertIn(b"Work/Projects", names)
            self.assertEqual(imap.rename("Work/Projects", "Work/Done")[0], "OK")
            self.assertEqual(imap.subscribe("Work/Done")[0], "OK")
            typ, data = imap.lsub()
            self.assertIn(b"Work/Done", b"\n".join(data))
            typ, data = imap.status("INBOX", "(MESSAGES UIDNEXT)")
            self.assertRegex(data[0], rb"MESSAGES 0 UIDNEXT 1")
            self.assertEqual(imap.delete("Work/Done")[0], "OK")
            typ, _ = imap.create("../../escape")
            self.assertEqual(typ, "NO")
            imap.logout()

    def test_append_fetch_store_search_copy_move_expunge(self):
        with self.server(protocols=("imap",)) as srv:
            srv.deliver("alice", MSG)
            imap = login(srv)
            typ, data = imap.append("INBOX", r"(\Flagged)", None, MSG)
            self.assertEqual(typ, "OK")
            self.assertRegex(data[0], rb"\[APPENDUID \d+ 2\]")
            typ, data = imap.select("INBOX")
            self.assertEqual(data[0], b"2")
            typ, data = imap.fetch("1:2", "(UID FLAGS RFC822.SIZE)")
            self.assertEqual(len([d for d in data if d]), 2)
            self.assertIn(b"RFC822.SIZE %d" % len(MSG.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")), data[0])
            typ, data = imap.fetch("1", "(BODY.PEEK[])")
            self.assertEqual(data[0][1].replace(b"\r\n", b"\n"), MSG.replace(b"\r\n", b"\n"))
            typ, data = imap.fetch("1", "(ENVELOPE BODYSTRUCTURE)")
            self.assertIn(b'"integration"', data[0])
            typ, data = imap.store("1", "+FLAGS", r"(\Seen)")
            self.assertIn(rb"\Seen", data[0])
            typ, data = imap.search(None, "FLAGGED")
            self.assertEqual(data[0], b"2")
            typ, data = imap.uid("SEARCH", None, "SUBJECT", "integration")
            self.assertEqual(data[0], b"1 2")
            self.assertEqual(imap.create("Archive")[0], "OK")
            typ, data = imap.copy("1", "Archive")
            self.assertEqual(typ, "OK")
            typ, data = imap._simple_command("MOVE", "2", "Archive")
            self.assertEqual(typ, "OK")
            self.assertEqual(imap.select("Archive")[1][0], b"2")
            imap.store("1", "+FLAGS", r"(\Deleted)")
            typ, data = imap.expunge()
            self.assertEqual(data[0], b"1")
            imap.close()
            imap.logout()


    def test_large_bodies_byte_for_byte_plain_and_tls(self):
        # Large literals are sent by the body pump thread on plain connections, by the loop
        # on TLS ones: both must give every octet of the wire form (LF files -> CRLF, lines
        # starting with '.', 8-bit bytes), across literals split between the two and a
        # reader that takes small bites (the pump meets a full socket).
        def lf_message(size: int, tag: str) -> bytes:
            head = f"Subject: big {tag}\nContent-Type: text/plain; charset=utf-8\n\n".encode()
            lines, n, i = [head], len(head), 0
            while n < size:
                line = (b"." if i % 5 == 0 else b"") + ("\u00e9t\u00e9 " + tag * (40 + i % 50)).encode() + b"\n"
                lines.append(line)
                n += len(line)
                i += 1
            return b"".join(lines)

        sizes = [2_000, 90_000, 700_000, 2_300_000, 5_000, 1_100_000]
        messages = [lf_message(size, chr(ord("a") + k)) for k, size in enumerate(sizes)]
        wire = [m.replace(b"\n", b"\r\n") for m in messages]
        with self.server(protocols=("imap", "imaps")) as srv:
            for m in messages:
                srv.deliver("alice", m)
            for make in (srv.imap, srv.imaps):
                imap = make()
                imap.login("alice", srv.password("alice"))
                imap.select("INBOX", readonly=True)
                typ, data = imap.fetch("1:*", "(BODY.PEEK[])")
                self.assertEqual(typ, "OK")
                bodies = [d[1] for d in data if isinstance(d, tuple)]
                self.assertEqual(len(bodies), len(wire))
                for k, (got, want) in enumerate(zip(bodies, wire)):
                    self.assertEqual(len(got), len(want), f"message {k + 1} via {make.__name__}")
                    self.assertTrue(got == want, f"message {k + 1} via {make.__name__}: bytes differ")
                imap.logout()
            # A raw reader taking small pieces: the pump meets a full socket.
            sock = socket.create_connection(srv.address("imap"), timeout=harness.IO_TIMEOUT)
            reader = sock.makefile("rb", buffering=0)
            def line() -> bytes:
                out = b""
                while not out.endswith(b"\r\n"):
                    out += reader.read(1)
                return out
            line()
            pw = srv.password("alice")
            sock.sendall(f'a LOGIN alice "{pw}"\r\nb EXAMINE INBOX\r\nc FETCH 3:4 BODY.PEEK[]\r\n'.encode())
            while not line().startswith(b"b OK"):
                pass
            for k in (2, 3):
                head = line()
                self.assertRegex(head, rb"^\* %d FETCH \(BODY\[\] \{%d\}\r\n$" % (k + 1, len(wire[k])))
                got = bytearray()
                while len(got) < len(wire[k]):
                    piece = reader.read(min(3001, len(wire[k]) - len(got)))
                    self.assertTrue(piece, "connection closed early")
                    got += piece
                self.assertTrue(bytes(got) == wire[k], f"raw message {k + 1}: bytes differ")
                self.assertEqual(line(), b")\r\n")
            self.assertTrue(line().startswith(b"c OK"))
            sock.close()

    def test_empty_mailbox_sets_esearch_searchres_sort(self):
        # Python's imaplib raises on BAD: "1:*" on an empty mailbox must answer OK (issue #5).
        with self.server(protocols=("imap",)) as srv:
            imap = login(srv)
            caps = imap.capability()[1][0].split()
            for cap in (b"ESEARCH", b"SEARCHRES", b"MULTIAPPEND", b"SORT"):
                self.assertIn(cap, caps)
            self.assertEqual(imap.create("Empty")[0], "OK")
            self.assertEqual(imap.select("Empty")[1][0], b"0")
            typ, data = imap.fetch("1:*", "(FLAGS)")
            self.assertEqual((typ, data), ("OK", [None]))
            self.assertEqual(imap.uid("FETCH", "1:*", "(FLAGS)")[0], "OK")
            self.assertEqual(imap.store("1:*", "+FLAGS", r"(\Seen)")[0], "OK")
            imap.close()
            for i in (3, 1, 2):
                srv.deliver("alice", b"From: u%d@x.org\r\nSubject: Re: s%d\r\n\r\n%s\r\n" % (i, i, b"x" * i))
            imap.select("INBOX")
            typ, data = imap._simple_command("SORT", "(SUBJECT)", "UTF-8", "ALL")
            self.assertEqual(typ, "OK")
            self.assertEqual(imap._untagged_response(typ, data, "SORT")[1][0], b"2 3 1")
            typ, data = imap._simple_command("SEARCH", "RETURN", "(MIN COUNT SAVE)", "LARGER", "38")
            self.assertEqual(typ, "OK")
            self.assertRegex(imap._untagged_response(typ, data, "ESEARCH")[1][0], rb'\(TAG "\w+"\) MIN 1 COUNT 2')  # 40 and 39 octets
            typ, data = imap.fetch("$", "(UID)")  # SAVE with COUNT keeps every match (RFC 5182 §2.4)
            self.assertEqual([d for d in data if d], [b"1 (UID 1)", b"3 (UID 3)"])
            imap.logout()


class ImapCurl(harness.TestCase):
    def test_curl_imap_and_imaps(self):
        import subprocess
        with self.server(protocols=("imap", "imaps")) as srv:
            srv.deliver("alice", MSG)
            user = f"alice:{srv.password('alice')}"
            # LIST of the root, then the message by UID, over plain IMAP and implicit TLS.
            out = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", user, srv.url("imap", "/")],
                                 capture_output=True, check=True).stdout
            self.assertIn(b"INBOX", out)
            for proto in ("imap", "imaps"):
                out = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-u", user,
                                      srv.url(proto, "/INBOX;UID=1")],
                                     capture_output=True, check=True).stdout
                self.assertEqual(out.replace(b"\r\n", b"\n"), MSG.replace(b"\r\n", b"\n"))


class ImapLive(harness.TestCase):
    def test_idle_sees_append_and_flags(self):
        with self.server(protocols=("imap",)) as srv:
            srv.deliver("alice", MSG)
            with srv.raw("imap") as idle:
                idle.readline()
                idle.send(f"a LOGIN alice {srv.password('alice')}\r\n")
                idle.read_until(b"a ")
                idle.send("b SELECT INBOX\r\n")
                idle.read_until(b"b OK")
                idle.send("c IDLE\r\n")
                self.assertTrue(idle.readline().startswith(b"+"))
                other = login(srv)
                other.append("INBOX", None, None, MSG)
                self.assertIn(b"* 2 EXISTS", idle.readline())
                idle.readline()  # RECENT
                other.select("INBOX")
                other.store("1", "+FLAGS", r"(\Flagged)")
                self.assertRegex(idle.readline(), rb"\* 1 FETCH \(FLAGS \(.*\\Flagged")
                srv.deliver("alice", MSG)
                self.assertIn(b"* 3 EXISTS", idle.readline())
                idle.readline()
                idle.send("DONE\r\n")
                self.assertTrue(idle.read_until(b"c ")[-1].startswith(b"c OK"))
                other.logout()


class CrossProtocol(harness.TestCase):
    def test_pop3_retr_and_dele_reach_imap_idle(self):
        with self.server(protocols=("imap", "pop3")) as srv:
            srv.deliver("alice", MSG)
            srv.deliver("alice", MSG)
            with srv.raw("imap") as idle:
                idle.readline()
                idle.send(f"a LOGIN alice {srv.password('alice')}\r\nb SELECT INBOX\r\n")
                idle.read_until(b"b OK")
                idle.send("c IDLE\r\n")
                idle.readline()
                pop = srv.pop3()
                pop.user("alice")
                pop.pass_(srv.password("alice"))
                pop.retr(1)
                self.assertRegex(idle.readline(), rb"\* 1 FETCH \(FLAGS \(.*\\Seen")
                pop.dele(2)
                pop.quit()
                self.assertIn(b"* 2 EXPUNGE", idle.readline())
                idle.send("DONE\r\n")
                idle.read_until(b"c ")

    def test_imap_append_visible_to_pop3(self):
        with self.server(protocols=("imap", "pop3")) as srv:
            imap = login(srv)
            imap.append("INBOX", None, None, MSG)
            imap.logout()
            pop = srv.pop3()
            pop.user("alice")
            pop.pass_(srv.password("alice"))
            count, size = pop.stat()
            self.assertEqual(count, 1)
            _, lines, octets = pop.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", MSG.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            pop.quit()


if __name__ == "__main__":
    harness.main()
