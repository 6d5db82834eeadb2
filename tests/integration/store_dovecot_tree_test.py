"""Checked-by test of the message store (issue 3) against Debian's Dovecot.

Dovecot (doveadm save, as `nobody`: it refuses root) delivers into a Maildir and assigns UIDs
and UIDVALIDITY; then mailbridge serves the same tree and must show
  - IMAP STATUS UIDVALIDITY and UID FETCH: Dovecot's values;
  - POP3 UIDL: exactly what Dovecot's own POP3 (run preauthenticated on the same tree) lists,
    i.e. its default pop3_uidl_format %08Xu%08Xv;
and a message an MDA drops into new/ reaches a session in IDLE with no client command.
"""
from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess

import harness

DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
DOVECOT_POP3 = "/usr/lib/dovecot/pop3"


class DovecotTree:
    """A private Dovecot configuration over one Maildir (no daemon: doveadm and pop3 run
    standalone, preauthenticated as the Maildir's owner)."""

    def __init__(self, workdir: str, maildir: str):
        self.maildir = maildir
        self.user = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        pw = pwd.getpwnam(self.user)
        if os.geteuid() == 0:
            for root, dirs, files in os.walk(os.path.dirname(maildir)):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
            os.chown(os.path.dirname(maildir), pw.pw_uid, pw.pw_gid)
            # The harness' temp dirs are 0700 root: let the owner reach its Maildir.
            path = os.path.dirname(os.path.dirname(maildir))
            while path.startswith(workdir):
                os.chmod(path, os.stat(path).st_mode | 0o111)
                path = os.path.dirname(path)
        group = __import__("grp").getgrgid(pw.pw_gid).gr_name
        os.makedirs(os.path.join(workdir, "dv-run"), exist_ok=True)
        self.conf = os.path.join(workdir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"base_dir = {workdir}/dv-run\nlog_path = /dev/stderr\nssl = no\n"
                    f"mail_location = maildir:{maildir}\nmail_uid = {self.user}\n"
                    f"mail_gid = {group}\nfirst_valid_uid = 1\n")
        self.env = dict(os.environ, USER=self.user, HOME=os.path.dirname(maildir))

    def doveadm(self, *args: str, input: bytes | None = None) -> str:
        out = subprocess.run([DOVEADM, "-c", self.conf, *args], input=input, env=self.env,
                             capture_output=True, timeout=60, check=True)
        return out.stdout.decode()

    def save(self, message: bytes) -> None:
        self.doveadm("save", input=message)

    def uids(self) -> list[int]:
        return sorted(int(line.split()[1]) for line in self.doveadm("search", "mailbox", "INBOX", "all").splitlines())

    def uidvalidity(self) -> int:
        return int(re.search(r"uidvalidity=(\d+)", self.doveadm("mailbox", "status", "uidvalidity", "INBOX")).group(1))

    def pop3_uidl(self) -> list[str]:
        out = subprocess.run([DOVECOT_POP3, "-c", self.conf], input=b"UIDL\r\nQUIT\r\n", env=self.env,
                             capture_output=True, timeout=60, check=True).stdout.decode()
        lines = out.split("\r\n")
        start = lines.index("+OK") + 1  # preauthenticated: no greeting, UIDL's "+OK" first
        uidl = []
        for line in lines[start:]:
            if line == ".":
                break
            uidl.append(line.split()[1])
        return uidl


class StoreDovecotTree(harness.TestCase):
    def test_dovecot_written_tree_same_uids_uidl_and_idle_delivery(self):
        # Dovecot's %X prints lowercase hex (its pop3 above lists "000000026b02..."); mailbridge's
        # default pop3.uidl_format (%08Xu%08Xv) must give the same bytes.
        with harness.Server(users={"alice": "secret"}, hashed_users={}, protocols=("imap", "pop3"),
                            plaintext="always", start=False) as srv:
            maildir = srv.maildir("alice")
            dv = DovecotTree(srv.dir, maildir)
            for i in range(5):
                dv.save(harness.make_message(subject=f"dovecot {i}"))
            # Dovecot expunges one, so UIDs have a gap (1 is gone).
            dv.doveadm("expunge", "mailbox", "INBOX", "uid", "1")
            want_uids = dv.uids()
            want_uidvalidity = dv.uidvalidity()
            want_uidl = dv.pop3_uidl()
            self.assertEqual(want_uids, [2, 3, 4, 5])
            # Dovecot's %08Xu%08Xv (its %X prints lowercase hex).
            self.assertEqual(want_uidl, [f"{u:08x}{want_uidvalidity:08x}" for u in want_uids])
            srv.start()
            imap = srv.imap()
            imap.login("alice", "secret")
            typ, data = imap.status("INBOX", "(UIDVALIDITY UIDNEXT MESSAGES)")
            self.assertEqual(typ, "OK")
            self.assertEqual(int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1)), want_uidvalidity)
            self.assertEqual(int(re.search(rb"MESSAGES (\d+)", data[0]).group(1)), 4)
            imap.select("INBOX")
            typ, data = imap.uid("FETCH", "1:*", "(UID)")
            self.assertEqual(sorted(int(re.search(rb"UID (\d+)", d).group(1)) for d in data), want_uids)
            imap.logout()
            pop = srv.pop3()
            pop.user("alice")
            pop.pass_("secret")
            _, listing, _ = pop.uidl()
            pop.quit()
            self.assertEqual([line.split()[1].decode() for line in listing], want_uidl)

            # An MDA drops a message into new/ while a session idles: it arrives unasked.
            conn = srv.raw("imap")
            conn.readline()
            conn.send("a LOGIN alice secret\r\n")
            conn.read_until(b"a ")
            conn.send("b SELECT INBOX\r\n")
            conn.read_until(b"b ")
            conn.send("c IDLE\r\n")
            self.assertTrue(conn.readline().startswith(b"+"))
            srv.deliver("alice", harness.make_message(subject="from the MDA"))
            line = conn.readline()
            self.assertEqual(line, b"* 5 EXISTS\r\n")
            conn.send("DONE\r\n")
            done = conn.read_until(b"c ")
            self.assertTrue(done[-1].startswith(b"c OK"), done)
            conn.close()


if __name__ == "__main__":
    harness.main()
