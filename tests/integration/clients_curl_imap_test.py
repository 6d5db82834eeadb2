"""tests/integration/clients_curl_imap_test.py: curl as an IMAP client against `mailbridge`
(issue #5 item 5): imap:// (plain on loopback and with STARTTLS required via --ssl-reqd) and
imaps:// (--insecure, the certificate is the harness's self-signed one).

For each transport: LIST shows the mailboxes, a fetch by UID returns exactly the bytes that were
delivered, and an upload (curl -T, an IMAP APPEND) is stored with exactly the uploaded bytes (read
back through Python's imaplib).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile

import harness

TIMEOUT = 60


class CurlImap(harness.TestCase):

    def curl(self, srv: harness.Server, url: str, *extra: str) -> bytes:
        args = ["curl", "--silent", "--show-error", "--max-time", str(TIMEOUT - 10),
                "--user", f"alice:{srv.password('alice')}", "--insecure", *extra, url]
        proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0,
                         f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}")
        return proc.stdout

    def imap_uid_fetch(self, srv: harness.Server, mailbox: str) -> dict[int, bytes]:
        """{uid: full message bytes} of `mailbox`, read with imaplib."""
        imap = srv.imap()
        imap.login("alice", srv.password("alice"))
        typ, _ = imap.select(mailbox)
        self.assertEqual(typ, "OK")
        typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        imap.logout()
        out = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                out[uid] = item[1]
        return out

    def check_transport(self, scheme: str, *extra: str) -> None:
        with harness.Server(protocols=("imap", "imaps")) as srv:
            first = harness.make_message(subject="curl one", body="first body\r\n")
            second = harness.make_message(subject="curl two",
                                          body="second body\r\n.dot line\r\ncaf\u00e9\r\n")
            srv.deliver("alice", first)
            srv.deliver("alice", second)
            srv.deliver("alice", harness.make_message(subject="archived"), folder="Archive")
            port_proto = "imaps" if scheme == "imaps" else "imap"
            base = srv.url(port_proto).replace(port_proto + "://", scheme + "://", 1)

            listing = self.curl(srv, base + "/", *extra).decode()
            names = re.findall(r'^\* LIST \([^)]*\) "[^"]*" "?([^"\r\n]+)"?\r?$', listing, re.M)
            self.assertIn("INBOX", names, listing)
            self.assertIn("Archive", names, listing)

            uids = self.imap_uid_fetch(srv, "INBOX")
            by_body = {v: k for k, v in uids.items()}
            self.assertEqual(set(by_body), {first, second})
            for msg in (first, second):
                got = self.curl(srv, f"{base}/INBOX;UID={by_body[msg]}", *extra)
                self.assertEqual(got, msg)

            upload = harness.make_message(subject="uploaded by curl",
                                          body="line 1\r\nline 2\r\n")
            with tempfile.NamedTemporaryFile(suffix=".eml", delete=False) as f:
                f.write(upload)
                path = f.name
            try:
                self.curl(srv, f"{base}/Archive", "--upload-file", path, *extra)
            finally:
                os.unlink(path)
            archived = self.imap_uid_fetch(srv, "Archive")
            self.assertEqual(len(archived), 2)
            self.assertIn(upload, archived.values())

    def test_imap_plain_on_loopback(self):
        self.check_transport("imap")

    def test_imap_starttls_required(self):
        self.check_transport("imap", "--ssl-reqd")

    def test_imaps(self):
        self.check_transport("imaps")


if __name__ == "__main__":
    harness.main()
