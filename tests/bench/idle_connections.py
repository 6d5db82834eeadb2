#!/usr/bin/env python3
"""Idle-connection memory bench for mailbridge (not a ctest test; it prints figures).

Opens N connections (default 10,000), half to an IMAP port and half to a POP3 port, waits
for the server greeting on each, and reads the server's VmRSS from /proc/PID/status before
connecting and after all greetings arrived:

    tests/bench/idle_connections.py --pid PID --imap 127.0.0.1:143 --pop3 127.0.0.1:110 [-n 10000]
    (add --tls when both ports are implicit TLS, e.g. 993/995; certificates are not checked)

prints one line:
    idle_conns=N rss_kb_before=.. rss_kb_after=.. kb_per_conn=..
Raises RLIMIT_NOFILE for itself; the server must allow N descriptors too.
"""
import argparse
import errno
import resource
import selectors
import socket
import ssl
import sys
import time


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def parse_addr(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return socket.AF_INET6, (host, int(port))
    host, _, port = text.rpartition(":")
    return socket.AF_INET, (host or "127.0.0.1", int(port))


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, need + 64)) if hard != resource.RLIM_INFINITY else need + 64
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < need + 16:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is too low for {need} connections")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pid", type=int, required=True, help="server process id (reads /proc/PID/status)")
    ap.add_argument("--imap", required=True, help="IMAP address, host:port or [v6]:port")
    ap.add_argument("--pop3", required=True, help="POP3 address, host:port or [v6]:port")
    ap.add_argument("-n", "--connections", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=500, help="connections in flight at once")
    ap.add_argument("--timeout", type=float, default=120.0, help="give up after this many seconds")
    ap.add_argument("--settle", type=float, default=1.0, help="seconds to wait before measuring")
    ap.add_argument("--tls", action="store_true", help="implicit TLS on both ports (no cert check)")
    args = ap.parse_args()

    n = args.connections
    raise_nofile(n)
    targets = [parse_addr(args.imap), parse_addr(args.pop3)]

    time.sleep(args.settle)
    before = vm_rss_kb(args.pid)

    tls_ctx = None
    if args.tls:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls_ctx.check_hostname = False
        tls_ctx.verify_mode = ssl.CERT_NONE
    sel = selectors.DefaultSelector()
    socks = []
    greeted = 0
    pending = 0
    next_index = 0
    failures = 0
    deadline = time.monotonic() + args.timeout

    def open_one(i):
        family, addr = targets[i % 2]
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            s.close()
            raise OSError(err, f"connect {addr}: {errno.errorcode.get(err, err)}")
        if tls_ctx is not None:
            # Wrapped once the TCP connect completed (writable), see the loop below.
            sel.register(s, selectors.EVENT_WRITE, {"buf": bytearray(), "phase": "connect"})
            return
        socks.append(s)
        sel.register(s, selectors.EVENT_READ, {"buf": bytearray(), "phase": "greeting"})

    while greeted + failures < n:
        while next_index < n and pending < args.batch:
            open_one(next_index)
            next_index += 1
            pending += 1
        if time.monotonic() > deadline:
            sys.exit(f"timeout: {greeted} greetings of {n}")
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            state = key.data
            if state["phase"] == "connect":
                sel.unregister(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    s.close()
                    failures += 1
                    pending -= 1
                    continue
                s = tls_ctx.wrap_socket(s, do_handshake_on_connect=False)
                socks.append(s)
                state["phase"] = "handshake"
                sel.register(s, selectors.EVENT_WRITE, state)
                continue
            if state["phase"] == "handshake":
                try:
                    s.do_handshake()
                    state["phase"] = "greeting"
                    sel.modify(s, selectors.EVENT_READ, state)
                except ssl.SSLWantReadError:
                    sel.modify(s, selectors.EVENT_READ, state)
                    continue
                except ssl.SSLWantWriteError:
                    sel.modify(s, selectors.EVENT_WRITE, state)
                    continue
                except OSError:
                    failures += 1
                    pending -= 1
                    sel.unregister(s)
                    continue
            try:
                data = s.recv(4096)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                continue
            except OSError:
                data = b""
            if not data:
                failures += 1
                pending -= 1
                sel.unregister(s)
                continue
            state["buf"].extend(data)
            if b"\n" in state["buf"]:
                greeted += 1
                pending -= 1
                sel.unregister(s)  # idle from now on: nothing more is read or written

    time.sleep(args.settle)
    after = vm_rss_kb(args.pid)
    per = (after - before) / greeted if greeted else float("nan")
    print(("tls=1 " if args.tls else "") + f"idle_conns={greeted} rss_kb_before={before} rss_kb_after={after} kb_per_conn={per:.2f}"
          + (f" failed={failures}" if failures else ""))
    for s in socks:
        s.close()
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
