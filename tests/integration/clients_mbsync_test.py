"""tests/integration/clients_mbsync_test.py: mbsync (isync) two-way sync between a local Maildir
and `mailbridge` over IMAP with STARTTLS (issue #5 item 5).

One scenario, in order:
  1. initial pull of N messages: the local Maildir holds exactly the delivered bytes;
  2. a local flag change (Maildir info ":2,FS") and a new local message are pushed: the server
     shows the flags and stores the new message with the same bytes (seen through imaplib);
  3. a server-side change (a flag set and a message APPENDed by imaplib) is pulled back;
  4. a second sync is a no-op: local files and the server's UID/FLAGS listing are unchanged.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

import harness

TIMEOUT = 120
N = 5


def norm(message: bytes) -> bytes:
    """What mbsync keeps of a message: it stores LF line ends in the near Maildir and CRLF on
    the IMAP side, and inserts an "X-TUID:" header into every message it propagates (its
    recovery marker for interrupted syncs). Compare messages without those two differences."""
    message = message.replace(b"\r\n", b"\n")
    return re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", message, count=1)


def local_messages(maildir: Path, raw: bool = False) -> dict[str, bytes]:
    """{file name: bytes} of every message in new/ and cur/ of a Maildir (normalised unless raw)."""
    out = {}
    for sub in ("new", "cur"):
        for p in sorted((maildir / sub).iterdir()):
            data = p.read_bytes()
            out[f"{sub}/{p.name}"] = data if raw else norm(data)
    return out


def server_state(srv: harness.Server,
                 normalise: bool = True) -> dict[int, tuple[frozenset, bytes]]:
    """{uid: (flags, bytes)} of alice's INBOX, read with imaplib (BODY.PEEK: no \\Seen side effect)."""
    imap = srv.imap()
    imap.login("alice", srv.password("alice"))
    imap.select("INBOX")
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    assert typ == "OK", data
    imap.logout()
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).split()
            body = norm(item[1]) if normalise else item[1]
            out[uid] = (frozenset(f.decode() for f in flags), body)
    return out


class Mbsync(harness.TestCase):

    def sync(self, config: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(["mbsync", "--config", config, "--all"], capture_output=True,
                              timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0,
                         f"mbsync exited {proc.returncode}:\n{proc.stdout.decode()}"
                         f"{proc.stderr.decode()}")
        return proc

    def test_two_way_sync(self):
        with harness.Server(protocols=("imap",)) as srv, \
                tempfile.TemporaryDirectory(prefix="mb-mbsync-") as work:
            work_path = Path(work)
            local = work_path / "local"
            state = work_path / "state"
            state.mkdir()
            local.mkdir()
            config = work_path / "mbsyncrc"
            config.write_text(f"""
IMAPAccount mb
Host localhost
Port {srv.ports['imap']}
User alice
Pass {srv.password('alice')}
SSLType STARTTLS
CertificateFile {srv.cert_path}
Timeout 30

IMAPStore remote
Account mb

MaildirStore near
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel mb
Far :remote:
Near :near:
Patterns INBOX
Create Both
Expunge Both
Sync All
SyncState {state}/
""")
            delivered = [harness.make_message(subject=f"mbsync {i}",
                                              body=f"body {i}\r\n.dot\r\ncaf\u00e9\r\n")
                         for i in range(N)]
            for msg in delivered:
                srv.deliver("alice", msg)

            # 1. initial pull
            self.sync(str(config))
            inbox = local / "INBOX"
            pulled = local_messages(inbox)
            self.assertEqual(sorted(pulled.values()), sorted(norm(m) for m in delivered))

            # 2. local flag change + local new message pushed to the server
            target_name, target_bytes = next(iter(sorted(pulled.items())))
            src = inbox / target_name
            base = src.name.split(":2,")[0]
            os.rename(src, inbox / "cur" / f"{base}:2,FS")
            local_new = harness.make_message(subject="written locally", body="from mbsync\r\n")
            harness.deliver(inbox, local_new)
            self.sync(str(config))
            server = server_state(srv)
            self.assertEqual(len(server), N + 1)
            by_bytes = {body: (uid, flags) for uid, (flags, body) in server.items()}
            self.assertIn(norm(local_new), by_bytes, "locally written message not on the server "
                          "with the same bytes")
            self.assertTrue({"\\Seen", "\\Flagged"} <= by_bytes[target_bytes][1],
                            f"flags on the server: {by_bytes[target_bytes][1]}")
            # the untouched delivered messages are still byte-identical on the server
            raw_server = [body for _, body in server_state(srv, normalise=False).values()]
            for msg in delivered:
                self.assertIn(msg, raw_server)

            # 3. server-side change pulled back
            imap = srv.imap()
            imap.login("alice", srv.password("alice"))
            imap.select("INBOX")
            other_bytes = next(norm(b) for b in delivered if norm(b) != target_bytes)
            other_uid = by_bytes[other_bytes][0]
            typ, _ = imap.uid("STORE", str(other_uid), "+FLAGS", "(\\Answered)")
            self.assertEqual(typ, "OK")
            server_new = harness.make_message(subject="appended on the server", body="pull me\r\n")
            typ, _ = imap.append("INBOX", None, None, server_new)
            self.assertEqual(typ, "OK")
            imap.logout()
            self.sync(str(config))
            pulled = local_messages(inbox)
            self.assertEqual(len(pulled), N + 2)
            self.assertIn(norm(server_new), pulled.values())
            other_name = next(n for n, b in pulled.items() if b == other_bytes)
            self.assertRegex(other_name, r":2,[A-Z]*R", "\\Answered not pulled as Maildir 'R'")

            # 4. second sync is a no-op
            before_local = local_messages(inbox, raw=True)
            before_server = server_state(srv, normalise=False)
            self.sync(str(config))
            self.assertEqual(local_messages(inbox, raw=True), before_local)
            self.assertEqual(server_state(srv, normalise=False), before_server)


if __name__ == "__main__":
    harness.main()
