"""tests/integration/pop3_clients_test.py: real POP3 clients against `mailbridge` (issue #4).

curl (pop3://, pop3:// with STLS required, pop3s://), getmail6 (keeping mail: a second run
retrieves nothing; deleting: the maildrop ends empty) and fetchmail --keep --uidl (a second run
fetches nothing), each against the real binary and a real Maildir.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import harness

TIMEOUT = 120


def run(args: list[str], env: dict | None = None, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, timeout=TIMEOUT, env=env, cwd=cwd)


def count_files(maildir: str | os.PathLike) -> int:
    """Messages in a Maildir (new + cur), or files in a plain directory."""
    root = Path(maildir)
    if not (root / "cur").is_dir():
        return sum(1 for _ in root.iterdir())
    return sum(1 for sub in ("new", "cur") for _ in (root / sub).iterdir())


class Pop3Clients(harness.TestCase):

    def deliver_three(self, srv: harness.Server) -> list[bytes]:
        msgs = [harness.make_message(subject=f"client test {i}",
                                     body=f"body {i}\r\n.dotted line\r\n") for i in range(3)]
        for m in msgs:
            srv.deliver("alice", m)
        return msgs

    def test_curl_plain_stls_and_pop3s(self):
        with harness.Server(protocols=("pop3", "pop3s")) as srv:
            msgs = self.deliver_three(srv)
            creds = f"alice:{srv.password('alice')}"
            listing = run(["curl", "-sS", "-u", creds, srv.url("pop3", "/")])
            self.assertEqual(listing.returncode, 0, listing.stderr)
            self.assertEqual(listing.stdout.decode().split("\r\n")[:3],
                             [f"{i + 1} {len(m)}" for i, m in enumerate(msgs)])
            for proto, extra in (("pop3", []), ("pop3", ["--ssl-reqd", "-k"]), ("pop3s", ["-k"])):
                got = run(["curl", "-sS", *extra, "-u", creds, srv.url(proto, "/2")])
                self.assertEqual(got.returncode, 0, (proto, extra, got.stderr))
                self.assertEqual(got.stdout, msgs[1], (proto, extra))
            bad = run(["curl", "-sS", "-u", "alice:wrong", srv.url("pop3", "/1")])
            self.assertNotEqual(bad.returncode, 0)

    def getmail(self, srv: harness.Server, workdir: Path, delete: bool) -> subprocess.CompletedProcess:
        # An external MDA rather than getmail's Maildir destination, which refuses to run as
        # root (CI containers); allow_root_commands keeps the test runnable there too.
        dest = workdir / "dest"
        dest.mkdir(exist_ok=True)
        rc = workdir / "getmailrc"
        rc.write_text(
            "[retriever]\ntype = SimplePOP3Retriever\n"
            f"server = {srv.host}\nport = {srv.ports['pop3']}\n"
            f"username = alice\npassword = {srv.password('alice')}\n\n"
            "[destination]\ntype = MDA_external\npath = /bin/sh\n"
            f"arguments = (\"-c\", \"cat > $(mktemp {dest}/m.XXXXXX)\")\n"
            "allow_root_commands = true\n\n"
            f"[options]\nverbose = 1\nread_all = false\ndelete = {'true' if delete else 'false'}\n")
        return run(["getmail", f"--getmaildir={workdir}", f"--rcfile={rc.name}"])

    def test_getmail_keep_then_nothing_new(self):
        with harness.Server(protocols=("pop3",)) as srv:
            self.deliver_three(srv)
            work = Path(srv.dir) / "getmail-keep"
            work.mkdir()
            first = self.getmail(srv, work, delete=False)
            self.assertEqual(first.returncode, 0, first.stderr + first.stdout)
            self.assertEqual(count_files(work / "dest"), 3)
            second = self.getmail(srv, work, delete=False)
            self.assertEqual(second.returncode, 0, second.stderr + second.stdout)
            self.assertEqual(count_files(work / "dest"), 3)  # UIDLs remembered: nothing new
            self.assertEqual(count_files(srv.maildir("alice")), 3)

    def test_getmail_delete_empties_maildrop(self):
        with harness.Server(protocols=("pop3",)) as srv:
            self.deliver_three(srv)
            work = Path(srv.dir) / "getmail-delete"
            work.mkdir()
            result = self.getmail(srv, work, delete=True)
            self.assertEqual(result.returncode, 0, result.stderr + result.stdout)
            self.assertEqual(count_files(work / "dest"), 3)
            self.assertEqual(count_files(srv.maildir("alice")), 0)

    def test_fetchmail_keep_uidl_twice(self):
        with harness.Server(protocols=("pop3",)) as srv:
            self.deliver_three(srv)
            home = Path(srv.dir) / "fetchmail"
            out = home / "out"
            out.mkdir(parents=True)
            rc = home / "fetchmailrc"
            rc.write_text(
                f'set no syslog\nset idfile "{home}/.fetchids"\n'
                f"poll {srv.host} with proto POP3 port {srv.ports['pop3']} uidl\n"
                f'  user "alice" there with password "{srv.password("alice")}" is "alice" here\n'
                f"  keep sslproto ''\n"
                f"  mda \"/bin/sh -c 'cat > $(mktemp {out}/m.XXXXXX)'\"\n")
            os.chmod(rc, 0o600)
            env = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
            args = ["fetchmail", "-f", str(rc), "--keep", "--uidl", "--nodetach"]
            first = run(args, env=env)
            self.assertEqual(first.returncode, 0, first.stderr + first.stdout)  # 0: mail retrieved
            self.assertEqual(len(list(out.iterdir())), 3)
            second = run(args, env=env)
            self.assertEqual(second.returncode, 1, second.stderr + second.stdout)  # 1: no new mail
            self.assertEqual(len(list(out.iterdir())), 3)
            self.assertEqual(count_files(srv.maildir("alice")), 3)


if __name__ == "__main__":
    harness.main()
