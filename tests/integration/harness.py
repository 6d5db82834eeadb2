"""tests/integration/harness.py: run the real `mailbridge` binary for integration tests.

Python 3 standard library only. Every integration test imports this module:

    import harness

    class PopBasics(harness.TestCase):          # unittest.TestCase + helpers
        def test_retr(self):
            with harness.Server() as srv:        # temp dir, config, users, Maildirs, cert, free ports
                srv.deliver("alice", harness.make_message(subject="hi", body="hello"))
                pop = srv.pop3()                 # poplib.POP3 connected to the plain POP3 port
                pop.user("alice"); pop.pass_(srv.password("alice"))
                ...

    if __name__ == "__main__":
        harness.main()                           # unittest.main with verbose output

What `Server` does (see its docstring for every argument):
  * makes a temp dir holding `mailbridge.toml`, `users` (a Dovecot passwd-file: {PLAIN} users plus
    {SHA512-CRYPT} users hashed with `mailbridge hash-password`), `cert.pem`/`key.pem` (made with the
    openssl CLI), and `mail/<user>/Maildir/{cur,new,tmp}` for every user;
  * picks free 127.0.0.1 ports (bind port 0, release; a start that loses the race is retried);
  * starts `mailbridge --config FILE` with stderr captured to `server.log` in the temp dir;
  * waits (bounded) for the IMAP "* OK" / POP3 "+OK" greeting on every listener (TLS ones through an
    unverified TLS handshake);
  * on exit sends SIGTERM to the PID, waits up to 10 s (then SIGKILL), and asserts the exit code is 0;
    the temp dir is removed unless MB_KEEP_TMP=1 is set. On any failure the server log tail is printed.

Helpers live in harness_mail.py (make_message, deliver, make_maildir) and harness_net.py
(client_ssl_context, read_greeting, LineClient, metrics_scrape, parse_metrics); every name is
re-exported here, so tests import only `harness`.

The binary comes from the MAILBRIDGE_BIN environment variable (set by ctest, see
deploy_harness.cmake); when unset, build/dev/gateway/mailbridge in the source tree is used.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import poplib
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Iterable, Mapping

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-exported: tests use harness.make_message, harness.deliver, harness.LineClient, ...
from harness_mail import deliver, make_maildir, make_message  # noqa: E402,F401
from harness_net import (HOST, IO_TIMEOUT, PROTOCOLS, TLS_PROTOCOLS, HarnessError,  # noqa: E402,F401
                         LineClient, client_ssl_context, greeting_ok, metrics_scrape,
                         parse_metrics, read_greeting)

# ASan/UBSan builds start slowly; bounded anyway so a hung server fails the test instead of ctest.
START_TIMEOUT = float(os.environ.get("MB_START_TIMEOUT", "30"))
STOP_TIMEOUT = 10.0

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_USERS = {"alice": "alice-secret", "bob": "bob-secret"}
DEFAULT_HASHED_USERS = {"carol": "carol-secret"}


# ---------------------------------------------------------------------------------------------
# Paths and processes


def binary() -> str:
    """Path of the mailbridge binary under test (MAILBRIDGE_BIN, else build/dev)."""
    path = os.environ.get("MAILBRIDGE_BIN") or str(REPO_ROOT / "build/dev/gateway/mailbridge")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"mailbridge binary not found or not executable: {path} "
                           "(set MAILBRIDGE_BIN or build the dev preset)")
    return path


def run_binary(*args: str, input: str | bytes | None = None, timeout: float = 60,
               check: bool = False) -> subprocess.CompletedProcess:
    """Run `mailbridge ARGS...` to completion; returns the CompletedProcess (text mode)."""
    if isinstance(input, bytes):
        input = input.decode()
    proc = subprocess.run([binary(), *args], input=input, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise HarnessError(f"mailbridge {' '.join(args)} exited {proc.returncode}: "
                           f"{proc.stderr.strip()}")
    return proc


def hash_password(password: str, scheme: str | None = None) -> str:
    """`{SCHEME}hash` made by `mailbridge hash-password [--scheme S]` (password on stdin)."""
    args = ["hash-password"] + (["--scheme", scheme] if scheme else [])
    out = run_binary(*args, input=password + "\n", check=True).stdout.strip()
    if not out.startswith("{"):
        raise HarnessError(f"hash-password printed {out!r}, expected '{{SCHEME}}hash'")
    return out.splitlines()[-1]


def free_port(host: str = HOST) -> int:
    """A port that was free a moment ago (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_ports(count: int, host: str = HOST) -> list[int]:
    """`count` distinct free ports, all held open until every one is chosen."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_cert(directory: str | os.PathLike, cn: str = "localhost") -> tuple[str, str]:
    """Self-signed certificate and key (PEM) for `cn` and 127.0.0.1, made with the openssl CLI.
    Returns (cert_path, key_path); the key file is mode 0600."""
    directory = Path(directory)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
         "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return str(cert), str(key)


# ---------------------------------------------------------------------------------------------
# Config rendering


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot render {value!r} as TOML")


def render_toml(sections: Mapping[str, Mapping]) -> str:
    """Render {"section": {"key": value, "sub": {...}}} as TOML (tables nest as [a.b])."""
    out: list[str] = []

    def emit(name: str, table: Mapping):
        scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
        tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
        if scalars or not tables:
            out.append(f"[{name}]")
            out.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
            out.append("")
        for k, v in tables.items():
            emit(f"{name}.{k}", v)

    for name, table in sections.items():
        emit(name, table)
    return "\n".join(out)


def _merge(base: dict, extra: Mapping) -> dict:
    for key, value in extra.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        elif isinstance(value, Mapping):
            base[key] = _merge({}, value)
        else:
            base[key] = value
    return base


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """A running mailbridge on free 127.0.0.1 ports, for the duration of a `with` block.

    Arguments (all optional):
      users         {name: password} written as {PLAIN} (default alice, bob)
      hashed_users  {name: password} written as {SHA512-CRYPT} via `mailbridge hash-password`
                    (default carol); pass {} to skip running hash-password
      protocols     which listeners to open, subset of ("imap", "imaps", "pop3", "pop3s")
      metrics       also open `[listen] metrics` on a free port (srv.ports["metrics"])
      tls           write the [tls] section (default: when imaps/pop3s are used, else True too,
                    so STARTTLS/STLS are offered on the plain ports)
      plaintext     auth.plaintext ("never" | "loopback" | "always"), default "loopback"
      config        extra TOML sections merged over the defaults, e.g.
                    {"pop3": {"delete_mode": "flag"}, "log": {"level": "debug"}};
                    a value of None removes a default key
      start         start in __enter__ (default True); else call srv.start() yourself
      expect_exit   exit code asserted at stop (default 0)

    Attributes once entered: dir, config_path, passwd_path, cert_path, key_path, mail_root,
    ports {protocol: port}, host, pid, process, log_path.
    """

    def __init__(self, users: Mapping[str, str] | None = None,
                 hashed_users: Mapping[str, str] | None = None,
                 protocols: Iterable[str] = PROTOCOLS, metrics: bool = False, tls: bool = True,
                 plaintext: str = "loopback", config: Mapping | None = None, start: bool = True,
                 expect_exit: int = 0):
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.hashed_users = dict(DEFAULT_HASHED_USERS if hashed_users is None else hashed_users)
        self.protocols = tuple(protocols)
        for p in self.protocols:
            if p not in PROTOCOLS:
                raise ValueError(f"unknown protocol {p!r}")
        self.metrics = metrics
        self.tls = tls or any(p in TLS_PROTOCOLS for p in self.protocols)
        self.plaintext = plaintext
        self.extra_config = dict(config or {})
        self.auto_start = start
        self.expect_exit = expect_exit
        self.host = HOST
        self.ports: dict[str, int] = {}
        self.process: subprocess.Popen | None = None
        self.dir: str = ""
        self._log_file = None
        self._hash_cache: dict[str, str] = {}
        self._log_dumped = False
        self._tmp: tempfile.TemporaryDirectory | None = None

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self) -> "Server":
        try:
            self.prepare()
            if self.auto_start:
                self.start()
        except BaseException:
            self._cleanup(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        failed = exc_type is not None
        try:
            if self.running:
                code = self.stop(check=not failed)
                if failed:
                    sys.stderr.write(f"[harness] server exit code {code}\n")
        except BaseException:
            failed = True
            raise
        finally:
            self._cleanup(failed=failed)
        return False

    # -- set-up ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Temp dir, passwd-file, Maildirs, cert, config (called by __enter__)."""
        self._tmp = tempfile.TemporaryDirectory(prefix="mb-it-")
        self.dir = self._tmp.name
        self.config_path = os.path.join(self.dir, "mailbridge.toml")
        self.passwd_path = os.path.join(self.dir, "users")
        self.mail_root = os.path.join(self.dir, "mail")
        self.log_path = os.path.join(self.dir, "server.log")
        self.cert_path = self.key_path = ""
        if self.tls:
            self.cert_path, self.key_path = make_cert(self.dir)
        self.write_passwd()
        for user in self.all_users():
            make_maildir(self.maildir(user))

    def all_users(self) -> list[str]:
        return list(self.users) + list(self.hashed_users)

    def password(self, user: str) -> str:
        return {**self.users, **self.hashed_users}[user]

    def write_passwd(self) -> None:
        """(Re)write the passwd-file from self.users / self.hashed_users (then reload() for SIGHUP)."""
        lines = [f"# written by tests/integration/harness.py"]
        for user, pw in self.users.items():
            lines.append(f"{user}:{{PLAIN}}{pw}")
        for user, pw in self.hashed_users.items():
            hashed = self._hash_cache.get(pw) or hash_password(pw)  # default scheme
            if not hashed.startswith("{SHA512-CRYPT}"):
                raise HarnessError(f"hash-password default scheme is not SHA512-CRYPT: {hashed!r}")
            self._hash_cache[pw] = hashed
            lines.append(f"{user}:{hashed}")
        tmp = self.passwd_path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.passwd_path)

    def add_user(self, user: str, password: str, hashed: bool = False) -> None:
        """Add a user to the passwd-file and create its Maildir (call reload() when running)."""
        (self.hashed_users if hashed else self.users)[user] = password
        self.write_passwd()
        make_maildir(self.maildir(user))

    def config_sections(self) -> dict:
        listen = {p: [f"{self.host}:{self.ports[p]}"] for p in self.protocols}
        if self.metrics:
            listen["metrics"] = [f"{self.host}:{self.ports['metrics']}"]
        sections: dict = {"listen": listen}
        if self.tls:
            sections["tls"] = {"cert": self.cert_path, "key": self.key_path}
        sections["auth"] = {"passwd_file": self.passwd_path, "plaintext": self.plaintext}
        sections["store"] = {"driver": "maildir",
                             "path": os.path.join(self.mail_root, "%u", "Maildir")}
        return _merge(sections, self.extra_config)

    def write_config(self) -> str:
        names = list(self.protocols) + (["metrics"] if self.metrics else [])
        self.ports = dict(zip(names, free_ports(len(names))))
        with open(self.config_path, "w") as f:
            f.write("# written by tests/integration/harness.py\n" +
                    render_toml(self.config_sections()))
        return self.config_path

    # -- process --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, "server not started"
        return self.process.pid

    def start(self, attempts: int = 3) -> None:
        """Write the config on fresh ports, start the binary, wait for every greeting. A start
        that fails because a port was taken in between is retried on new ports."""
        last = ""
        for _ in range(attempts):
            self.write_config()
            if self._log_file is not None:
                self._log_file.close()
            self._log_file = open(self.log_path, "ab")
            self.process = subprocess.Popen(
                [binary(), "--config", self.config_path], stdin=subprocess.DEVNULL,
                stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                self.wait_ready()
                return
            except HarnessError as e:
                last = str(e)
                log = self.log()
                if self.running:
                    self._terminate()
                if "in use" not in log.lower():
                    break
        self.dump_log()
        raise HarnessError(f"server did not start: {last}")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until every listener greets (bounded); raises HarnessError."""
        deadline = time.monotonic() + timeout
        pending = list(self.protocols)
        last_error = ""
        while pending:
            if self.process.poll() is not None:
                raise HarnessError(f"mailbridge exited with {self.process.returncode} during "
                                   f"start-up: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise HarnessError(f"no greeting on {pending} within {timeout} s "
                                   f"(last error: {last_error})")
            proto = pending[0]
            try:
                line = read_greeting(self.host, self.ports[proto], proto,
                                     timeout=max(0.5, min(5.0, deadline - time.monotonic())))
                if not greeting_ok(proto, line):
                    raise HarnessError(f"{proto} greeting is {line!r}")
                pending.pop(0)
            except (OSError, ssl.SSLError) as e:
                last_error = f"{proto}: {e}"
                time.sleep(0.05)

    def reload(self) -> None:
        """SIGHUP: reload users and certificates."""
        os.kill(self.pid, signal.SIGHUP)

    def stop(self, check: bool = True) -> int:
        """SIGTERM by PID, wait up to 10 s, then SIGKILL. Returns the exit code; with `check`,
        asserts it equals `expect_exit` (a kill -9 is always a failure)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
                if check:
                    self.dump_log()
                    raise HarnessError(f"mailbridge did not exit within {STOP_TIMEOUT} s of "
                                       "SIGTERM; killed with SIGKILL")
        code = self.process.returncode
        if check and code != self.expect_exit:
            self.dump_log()
            raise HarnessError(f"mailbridge exited with {code}, expected {self.expect_exit}")
        return code

    def _terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _cleanup(self, failed: bool) -> None:
        if self.process is not None and self.process.poll() is None:
            self._kill()
        if failed:
            self.dump_log()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            if os.environ.get("MB_KEEP_TMP") == "1":
                sys.stderr.write(f"[harness] keeping {self.dir}\n")
            else:
                self._tmp.cleanup()
            self._tmp = None

    # -- logs -----------------------------------------------------------------------------------

    def log(self) -> str:
        """Everything the server wrote to stdout/stderr so far."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def dump_log(self) -> None:
        """Print the log tail to stderr (once per server run)."""
        if self._log_dumped:
            return
        self._log_dumped = True
        sys.stderr.write(f"[harness] --- server log ({self.log_path}) ---\n"
                         f"{self.log_tail(80)}\n[harness] --- end of server log ---\n")

    # -- mail -----------------------------------------------------------------------------------

    def maildir(self, user: str) -> str:
        """The user's Maildir root (INBOX), per store.path = <dir>/mail/%u/Maildir."""
        return os.path.join(self.mail_root, user, "Maildir")

    def deliver(self, user: str, message: bytes | str | None = None, folder: str | None = None,
                flags: str | None = None) -> str:
        """Deliver `message` (default: make_message()) into the user's Maildir like an MDA."""
        return deliver(self.maildir(user), message if message is not None else make_message(),
                       folder=folder, flags=flags)

    # -- clients --------------------------------------------------------------------------------

    def address(self, protocol: str) -> tuple[str, int]:
        return (self.host, self.ports[protocol])

    def imap(self, timeout: float = IO_TIMEOUT) -> imaplib.IMAP4:
        return imaplib.IMAP4(self.host, self.ports["imap"], timeout=timeout)

    def imaps(self, timeout: float = IO_TIMEOUT) -> imaplib.IMAP4_SSL:
        return imaplib.IMAP4_SSL(self.host, self.ports["imaps"], ssl_context=client_ssl_context(),
                                 timeout=timeout)

    def pop3(self, timeout: float = IO_TIMEOUT) -> poplib.POP3:
        return poplib.POP3(self.host, self.ports["pop3"], timeout=timeout)

    def pop3s(self, timeout: float = IO_TIMEOUT) -> poplib.POP3_SSL:
        return poplib.POP3_SSL(self.host, self.ports["pop3s"], context=client_ssl_context(),
                               timeout=timeout)

    def raw(self, protocol: str, timeout: float = IO_TIMEOUT) -> "LineClient":
        """A line-oriented raw client (TLS for imaps/pop3s) for exact protocol bytes."""
        return LineClient(self.host, self.ports[protocol], tls=protocol in TLS_PROTOCOLS,
                          timeout=timeout)

    def url(self, protocol: str, path: str = "") -> str:
        """curl URL, e.g. srv.url("pop3s", "/1") -> "pop3s://127.0.0.1:PORT/1"."""
        return f"{protocol}://{self.host}:{self.ports[protocol]}{path}"


class TestCase(unittest.TestCase):
    """unittest.TestCase with a longer diff and a `server()` shortcut."""

    maxDiff = None

    def server(self, **kwargs) -> Server:
        return Server(**kwargs)


def main() -> None:
    """Run the calling module's unittest tests verbosely; exit non-zero on failure."""
    unittest.main(verbosity=2)
