"""tests/integration/clients_imapflow_test.py: a Node IMAP client (imapflow from npm, version
pinned in node/package.json and node/package-lock.json) in IDLE sees new mail delivered by others
(issue #5 item 5).

node/idle_watch.js logs in with STARTTLS, opens INBOX and IDLEs, printing JSON events. This test
waits until it has sent IDLE, then delivers (1) by a Python imaplib APPEND on another connection
and (2) by an MDA-style file drop into Maildir/new, and asserts an "exists" event with the new
count arrives for each. node_modules is installed with `npm ci` (from the lock file) when missing.
Every wait is bounded; the Node process is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import harness

NODE_DIR = Path(__file__).resolve().parent / "node"
EVENT_WAIT = 30.0
INSTALL_TIMEOUT = 600


def ensure_imapflow() -> None:
    if (NODE_DIR / "node_modules" / "imapflow" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise harness.HarnessError("npm not found (deploy/scripts/deps.sh --test installs "
                                   "nodejs and npm)")
    proc = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                          capture_output=True, timeout=INSTALL_TIMEOUT)
    if proc.returncode != 0:
        raise harness.HarnessError(f"npm ci failed ({proc.returncode}): "
                                   f"{proc.stderr.decode(errors='replace')[-2000:]}")


class NodeWatcher:
    """idle_watch.js as a child process; events() come through a reader thread and a queue."""

    def __init__(self, srv: harness.Server, user: str):
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "idle_watch.js"), srv.host, str(srv.ports["imap"]), user,
             srv.password(user)],
            cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        self.events: queue.Queue = queue.Queue()
        self.stderr_lines: list[bytes] = []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, True),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, False),
                                         daemon=True)]
        for reader in self.readers:
            reader.start()
        self.seen: list[dict] = []

    def _read(self, stream, is_stdout: bool) -> None:
        for line in stream:
            if is_stdout:
                self.events.put(json.loads(line))
            else:
                self.stderr_lines.append(line)
        if is_stdout:
            self.events.put({"event": "eof"})

    def wait_for(self, event: str, **fields) -> dict:
        """The next event named `event` whose fields match; fails after EVENT_WAIT seconds."""
        while True:
            try:
                got = self.events.get(timeout=EVENT_WAIT)
            except queue.Empty:
                raise AssertionError(f"no {event} {fields} event within {EVENT_WAIT} s; events so "
                                     f"far {self.seen}; stderr {b''.join(self.stderr_lines)!r}")
            self.seen.append(got)
            if got["event"] == "eof":
                raise AssertionError(f"idle_watch.js ended before {event} {fields}: {self.seen}; "
                                     f"stderr {b''.join(self.stderr_lines)!r}")
            if got["event"] == event and all(got.get(k) == v for k, v in fields.items()):
                return got

    def quit(self) -> int:
        self.proc.stdin.write(b"quit\n")
        self.proc.stdin.flush()
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=EVENT_WAIT)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for reader in self.readers:
            reader.join(timeout=EVENT_WAIT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if not stream.closed:
                stream.close()


class ImapFlowIdle(harness.TestCase):

    def test_idle_sees_append_and_mda_drop(self):
        ensure_imapflow()
        with harness.Server(protocols=("imap",)) as srv:
            srv.deliver("alice", harness.make_message(subject="before"))
            watcher = NodeWatcher(srv, "alice")
            try:
                opened = watcher.wait_for("opened")
                self.assertEqual(opened["exists"], 1)
                watcher.wait_for("idling")

                imap = srv.imap()
                imap.login("alice", srv.password("alice"))
                typ, _ = imap.append("INBOX", None, None,
                                     harness.make_message(subject="appended by python"))
                self.assertEqual(typ, "OK")
                imap.logout()
                watcher.wait_for("exists", count=2)

                srv.deliver("alice", harness.make_message(subject="dropped by an MDA"))
                watcher.wait_for("exists", count=3)

                self.assertEqual(watcher.quit(), 0, b"".join(watcher.stderr_lines))
                watcher.wait_for("closed")
            finally:
                watcher.kill()


if __name__ == "__main__":
    harness.main()
