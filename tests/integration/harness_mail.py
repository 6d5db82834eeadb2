"""tests/integration/harness_mail.py: messages and MDA-style Maildir delivery for the integration
harness (harness.py re-exports every name here). Python 3 standard library only."""

from __future__ import annotations

import email.utils
import os
import socket
import time
from pathlib import Path
from typing import Mapping


def make_message(subject: str = "test message", body: str = "Hello from the harness.\r\n",
                 sender: str = "sender@example.org", to: str = "alice@example.org",
                 date: str | None = None, headers: Mapping[str, str] | None = None,
                 message_id: str | None = None) -> bytes:
    """An RFC 5322 message with CRLF line ends (as stored by MDAs we mimic)."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {date or email.utils.formatdate(localtime=False)}",
        f"Message-ID: {message_id or email.utils.make_msgid(domain='harness.test')}",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    text = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode()


_delivery_counter = 0


def deliver(maildir: str | os.PathLike, message: bytes | str, folder: str | None = None,
            flags: str | None = None) -> str:
    """Deliver like an MDA (maildir(5)): write to tmp/, fsync, rename into new/ (or into cur/
    with ':2,FLAGS' when `flags` is given, e.g. "S" or "FS"). `folder` is a Maildir++ folder
    name such as "Archive" or "A.B" (created with its maildirfolder marker if missing).
    Returns the final path."""
    global _delivery_counter
    _delivery_counter += 1
    root = Path(maildir)
    if folder and folder.upper() != "INBOX":
        root = root / ("." + folder.replace("/", "."))
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "maildirfolder").touch()
    if isinstance(message, str):
        message = message.encode()
    now = time.time()
    unique = (f"{int(now)}.M{int((now % 1) * 1e6)}P{os.getpid()}Q{_delivery_counter}."
              f"{socket.gethostname().replace('/', '_').replace(':', '_')}")
    tmp = root / "tmp" / unique
    with open(tmp, "wb") as f:
        f.write(message)
        f.flush()
        os.fsync(f.fileno())
    if flags is None:
        final = root / "new" / unique
    else:
        final = root / "cur" / f"{unique}:2,{''.join(sorted(flags))}"
    os.rename(tmp, final)
    return str(final)


def make_maildir(path: str | os.PathLike) -> str:
    """Create an empty Maildir (cur, new, tmp) at `path`; returns it."""
    for sub in ("cur", "new", "tmp"):
        Path(path, sub).mkdir(parents=True, exist_ok=True)
    return str(path)
