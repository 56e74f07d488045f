"""The feed list of a long-running poller, re-read when its file changes.

Kubernetes updates a ConfigMap volume by writing a new timestamped folder and swapping the
`..data` symlink, so the mounted `feeds.yaml` becomes another file (new inode) without ever
being written in place; editors and `kubectl cp` replace files too. The watcher therefore
compares `os.stat` through the symlinks and, when that changed, the bytes. A new list that does
not load is reported and the previous one kept, so a typo never stops the polling.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .spec import FeedSpec, load_feed_list


@dataclass(frozen=True)
class FeedListChange:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()     # same URL, other settings (interval, enabled, tags, ...)
    total: int = 0
    error: str | None = None          # the new file did not load; the previous list stays

    def line(self, path: str | Path) -> str:
        if self.error:
            return f"feed list {path} not reloaded: {self.error}; still polling the previous {self.total} feeds"
        return (f"feed list {path} reloaded: {len(self.added)} added, {len(self.removed)} removed, "
                f"{len(self.changed)} changed ({self.total} feeds)")


def diff_feed_lists(old: Sequence[FeedSpec], new: Sequence[FeedSpec]) -> FeedListChange:
    before, after = {s.url: s for s in old}, {s.url: s for s in new}
    return FeedListChange(
        added=tuple(u for u in after if u not in before),
        removed=tuple(u for u in before if u not in after),
        changed=tuple(u for u in after if u in before and after[u] != before[u]),
        total=len(after))


def _stat_key(path: Path) -> tuple | None:
    try:
        st = os.stat(path)  # follows the ConfigMap's symlinks
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass
class FeedListWatcher:
    path: Path
    loader: Callable[[Path], list[FeedSpec]] = load_feed_list
    specs: list[FeedSpec] = field(default_factory=list)
    reloads: int = 0
    errors: int = 0

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self._stat = _stat_key(self.path)
        self._digest = self._read_digest()
        self.specs = self.loader(self.path)   # the first load may fail loudly: nothing to fall back to

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def changed(self) -> bool:
        """Cheap check (one stat) whether the file is no longer the one last read."""
        return _stat_key(self.path) != self._stat

    def poll(self) -> FeedListChange | None:
        """None when the file is as last seen; else what changed (or why the new one was refused,
        the previous list staying in `specs`). The caller reports it."""
        stat = _stat_key(self.path)
        if stat == self._stat:
            return None
        self._stat = stat
        digest = self._read_digest()
        if digest == self._digest and digest is not None:
            return None   # touched or re-linked, same bytes
        try:
            if digest is None:
                raise FileNotFoundError(f"{self.path} is missing")
            new = self.loader(self.path)
        except Exception as exc:  # noqa: BLE001 - any bad file keeps the old list, reported below
            self.errors += 1
            return FeedListChange(total=len(self.specs), error=load_error_line(exc))
        change = diff_feed_lists(self.specs, new)
        self.specs, self._digest = new, digest
        self.reloads += 1
        return change


def load_error_line(exc: BaseException) -> str:
    """Why a feed list did not load, on one line (pydantic's errors name the entry and field)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            parts = [f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in errors()]
            return f"{type(exc).__name__}: {'; '.join(parts)}"
        except (TypeError, KeyError):
            pass
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
