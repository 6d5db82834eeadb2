"""tests/integration/clients_offlineimap_test.py: offlineimap3 one-shot sync (`-o -u quiet`) from
`mailbridge` over plain IMAP on loopback (issue #5 item 5).

The first run pulls every message of INBOX and of a second folder with the delivered bytes (read
as offlineimap stores them: it writes LF line ends into the local Maildir); a second run changes
nothing, locally (same files, names and contents) or on the server (same UIDs, flags, bytes).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import harness

TIMEOUT = 180


def norm(message: bytes) -> bytes:
    return message.replace(b"\r\n", b"\n")


def local_messages(maildir: Path) -> dict[str, bytes]:
    out = {}
    for sub in ("new", "cur"):
        for p in sorted((maildir / sub).iterdir()):
            out[f"{sub}/{p.name}"] = p.read_bytes()
    return out


def server_state(srv: harness.Server, mailbox: str) -> dict[int, tuple[bytes, bytes]]:
    """{uid: (flags, bytes)} of alice's `mailbox`, without setting \\Seen (BODY.PEEK)."""
    imap = srv.imap()
    imap.login("alice", srv.password("alice"))
    typ, _ = imap.select(mailbox, readonly=True)
    assert typ == "OK", mailbox
    typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
    imap.logout()
    out = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            out[uid] = (re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1), item[1])
    return out


class OfflineImap(harness.TestCase):

    def run_offlineimap(self, config: Path) -> None:
        proc = subprocess.run(["offlineimap", "-c", str(config), "-o", "-u", "quiet"],
                              capture_output=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0,
                         f"offlineimap exited {proc.returncode}:\n{proc.stdout.decode()}"
                         f"{proc.stderr.decode()}")
        # offlineimap reports some sync errors on stderr but still exits 0 in quiet mode
        self.assertNotIn(b"ERROR", proc.stderr, proc.stderr.decode())

    def test_one_shot_sync_then_noop(self):
        with harness.Server(protocols=("imap",)) as srv, \
                tempfile.TemporaryDirectory(prefix="mb-offlineimap-") as work:
            work_path = Path(work)
            local = work_path / "mail"
            local.mkdir()
            config = work_path / "offlineimaprc"
            config.write_text(f"""[general]
accounts = mb
metadata = {work_path}/meta
ui = quiet

[Account mb]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = {local}

[Repository remote]
type = IMAP
remotehost = 127.0.0.1
remoteport = {srv.ports['imap']}
remoteuser = alice
remotepass = {srv.password('alice')}
ssl = no
starttls = no
maxconnections = 1
""")
            inbox_msgs = [harness.make_message(subject=f"offlineimap {i}",
                                               body=f"body {i}\r\n.dot\r\ncaf\u00e9\r\n")
                          for i in range(6)]
            for i, msg in enumerate(inbox_msgs):
                srv.deliver("alice", msg, flags="S" if i % 2 else None)
            archive_msgs = [harness.make_message(subject=f"archived {i}") for i in range(2)]
            for msg in archive_msgs:
                srv.deliver("alice", msg, folder="Archive")

            self.run_offlineimap(config)
            got_inbox = local_messages(local / "INBOX")
            got_archive = local_messages(local / "Archive")
            self.assertEqual(sorted(map(norm, got_inbox.values())),
                             sorted(map(norm, inbox_msgs)))
            self.assertEqual(sorted(map(norm, got_archive.values())),
                             sorted(map(norm, archive_msgs)))
            seen_local = sum(1 for name in got_inbox if re.search(r":2,[A-Z]*S", name))
            self.assertEqual(seen_local, 3, f"\\Seen not mirrored: {sorted(got_inbox)}")

            before = (got_inbox, got_archive, server_state(srv, "INBOX"),
                      server_state(srv, "Archive"))
            self.run_offlineimap(config)
            after = (local_messages(local / "INBOX"), local_messages(local / "Archive"),
                     server_state(srv, "INBOX"), server_state(srv, "Archive"))
            self.assertEqual(after, before)


if __name__ == "__main__":
    harness.main()
