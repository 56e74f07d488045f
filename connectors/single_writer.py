"""One writer per SQLite state file (the poll state, the alert ledger), enforced.

SQLite keeps one file consistent under concurrent writers, but newsbeam's state is not only
rows: two pollers on one state would both fetch, both produce and overwrite each other's
per-feed state. So each writer first takes an exclusive `flock` on `<file>.lock` beside the
file, and a second writer fails at once with one line naming the holder (pid, host, since when).

The lock lives on the same volume as the state: it holds across containers of one node and, on
NFS/EFS (NFSv4 locks), across nodes; it ends with the process, so a crash never leaves it held.
"""
from __future__ import annotations

import fcntl
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from connectors.errors import RunLocked


class WriterLockHeld(RunLocked):
    """Another process writes this state file; the message names it and what to do."""


class SingleWriter:
    def __init__(self, path: str | Path, what: str, hint: str):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.what, self.hint = what, hint
        self._fh = None

    def acquire(self) -> "SingleWriter":
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.lock_path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise WriterLockHeld(f"{self.what} {self.path} is in use by {holder}; only one writer at a time: "
                                 f"{self.hint}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on host {socket.gethostname()} since "
                 f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "SingleWriter":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
