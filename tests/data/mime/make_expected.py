#!/usr/bin/env python3
"""Regenerates tests/data/mime/*.expected from Debian's Dovecot (2.3.19.1).

How the expected files were made: a private Dovecot was started with
  /work/shared/bench/dovecot-anchor.sh start /tmp/mime-dovecot 21443 21110
then this script, for every *.eml here (converted to CRLF line ends), APPENDs it to user1's
INBOX and saves Dovecot's raw FETCH answers for RFC822.SIZE, ENVELOPE, BODY, BODYSTRUCTURE and
a fixed list of BODY.PEEK[section]s. Format: one `key<TAB>value` per line, value escaped with
\\r \\n \\\\ (other bytes raw); a section that Dovecot answered NIL has the value `NIL`, others
are the section's bytes.
Usage: make_expected.py [PORT]
"""
import glob, os, re, socket, sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 21443
SECTIONS = ["HEADER", "TEXT", "1", "1.MIME", "2", "2.MIME", "3", "3.MIME", "1.1", "1.2",
            "2.1", "2.2", "2.HEADER", "2.TEXT", "3.HEADER", "3.TEXT", "2.1.1", "2.2.MIME", "1.HEADER",
            "1.TEXT", "4", "HEADER.FIELDS (FROM SUBJECT)", "HEADER.FIELDS.NOT (From Subject Received)",
            "2.HEADER.FIELDS (Subject)", "1.1.MIME"]


class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", PORT))
        self.buf = b""
        self.n = 0
        self.readline()

    def readline(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def readn(self, n):
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"t%d" % self.n
        if literal is not None:
            self.s.sendall(tag + b" " + text + b" {%d}\r\n" % len(literal))
            self.readline()  # continuation
            self.s.sendall(literal + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text + b"\r\n")
        out = []
        while True:
            line = self.readline()
            resp = line
            while True:
                m = re.search(rb"\{(\d+)\}\r\n$", line)
                if not m:
                    break
                resp += self.readn(int(m.group(1)))
                line = self.readline()
                resp += line
            if resp.startswith(tag + b" "):
                if not resp.startswith(tag + b" OK"):
                    raise RuntimeError(resp)
                return out
            out.append(resp)


def value_of(resp, item):
    # "* 1 FETCH (ITEM value)\r\n" -> value
    prefix = b"* 1 FETCH (" + item + b" "
    assert resp.startswith(prefix) and resp.endswith(b")\r\n"), resp
    return resp[len(prefix):-3]


def esc(b):
    return b.replace(b"\\", b"\\\\").replace(b"\r", b"\\r").replace(b"\n", b"\\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    c = Conn()
    c.cmd(b"LOGIN user1 pass")
    for path in sorted(glob.glob(os.path.join(here, "*.eml"))):
        if b"* 0 EXISTS" not in b"".join(c.cmd(b"SELECT INBOX")):
            c.cmd(b"STORE 1:* +FLAGS.SILENT (\\Deleted)")
            c.cmd(b"EXPUNGE")
        raw = open(path, "rb").read()
        wire = re.sub(rb"\r?\n", b"\r\n", raw)
        c.cmd(b"APPEND INBOX", wire)
        c.cmd(b"SELECT INBOX")
        lines = []
        for item in [b"RFC822.SIZE", b"ENVELOPE", b"BODY", b"BODYSTRUCTURE"]:
            (resp,) = [r for r in c.cmd(b"FETCH 1 " + item) if b" FETCH " in r]
            lines.append(item + b"\t" + esc(value_of(resp, item)))
        for sec in SECTIONS:
            s = sec.encode()
            (resp,) = [r for r in c.cmd(b"FETCH 1 BODY.PEEK[" + s + b"]") if b" FETCH " in r]
            name = b"BODY[" + re.sub(rb"\.(HEADER\.FIELDS[^(]*)\(.*", rb".\1", s).rstrip() + b"]"
            m = re.match(rb"\* 1 FETCH \(BODY\[[^\]]*\] (.*)\)\r\n$", resp, re.S)
            v = m.group(1)
            if v == b"NIL":
                val = b"NIL"
            elif v.startswith(b"{"):
                val = v.split(b"\r\n", 1)[1]
            else:
                assert v.startswith(b'"') and v.endswith(b'"'), v
                val = v[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
            lines.append(b"SECTION " + s + b"\t" + esc(val))
        with open(path[:-4] + ".expected", "wb") as f:
            f.write(b"\n".join(lines) + b"\n")
        print(os.path.basename(path))


main()
