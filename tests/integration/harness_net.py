"""tests/integration/harness_net.py: client-side helpers of the integration harness (harness.py
re-exports every name here): TLS context, greetings, a raw line client, metrics scraping.
Python 3 standard library only."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl

HOST = "127.0.0.1"
PROTOCOLS = ("imap", "imaps", "pop3", "pop3s")
TLS_PROTOCOLS = ("imaps", "pop3s")
IO_TIMEOUT = float(os.environ.get("MB_IO_TIMEOUT", "15"))


class HarnessError(AssertionError):
    """A harness step failed (start-up, greeting, stop). Subclasses AssertionError so that
    unittest reports it as a test failure, not an error in the test code."""


def client_ssl_context() -> ssl.SSLContext:
    """A client TLS context that accepts the test's self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def read_greeting(host: str, port: int, protocol: str, timeout: float = IO_TIMEOUT) -> str:
    """Connect, do TLS first for imaps/pop3s, read one line; returns it (without CRLF)."""
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = raw
        if protocol in TLS_PROTOCOLS:
            sock = client_ssl_context().wrap_socket(raw, server_hostname="localhost")
        try:
            data = b""
            while b"\n" not in data and len(data) < 4096:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.split(b"\n", 1)[0].rstrip(b"\r").decode(errors="replace")
        finally:
            if sock is not raw:
                with contextlib.suppress(OSError, ssl.SSLError):
                    sock.close()


def greeting_ok(protocol: str, line: str) -> bool:
    return line.startswith("* OK") if protocol.startswith("imap") else line.startswith("+OK")


class LineClient:
    """A tiny blocking client for exact protocol exchanges: send(bytes), readline(), expect()."""

    def __init__(self, host: str, port: int, tls: bool = False, timeout: float = IO_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            self.sock = client_ssl_context().wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def readline(self) -> bytes:
        """One line including CRLF; b"" at EOF."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def read_until(self, prefix: bytes) -> list[bytes]:
        """Lines up to and including the first one starting with `prefix` (e.g. b"a1 ")."""
        lines = []
        while True:
            line = self.readline()
            if not line:
                raise HarnessError(f"EOF before a line starting with {prefix!r}: {lines!r}")
            lines.append(line)
            if line.startswith(prefix):
                return lines

    def start_tls(self) -> None:
        """Upgrade in place after the server said OK to STARTTLS/STLS."""
        self.sock = client_ssl_context().wrap_socket(self.sock, server_hostname="localhost")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self) -> "LineClient":
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def metrics_scrape(host: str, port: int, path: str = "/metrics",
                   timeout: float = IO_TIMEOUT) -> tuple[int, str]:
    """GET path over HTTP/1.0; returns (status, body)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body.decode(errors="replace")


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format -> {'name{label="v",...}': value} (labels as written)."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        samples[key] = float(value)
    return samples
