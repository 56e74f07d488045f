"""Poll state in one embedded SQLite file: per-feed HTTP/caching/health state, seen item ids,
and the link -> item id memory that tames feeds whose GUIDs change on every poll."""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    feed_url TEXT PRIMARY KEY,
    current_url TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    etag TEXT,
    last_modified TEXT,
    next_poll_at REAL NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    parked INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_success_at REAL,
    last_error TEXT,
    last_error_at REAL,
    last_parse_error TEXT,
    items_produced INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS seen (
    feed_url TEXT NOT NULL,
    item_id TEXT NOT NULL,
    seen_at REAL NOT NULL,
    PRIMARY KEY (feed_url, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_by_age ON seen (seen_at);
CREATE TABLE IF NOT EXISTS link_ids (
    feed_url TEXT NOT NULL,
    link TEXT NOT NULL,
    item_id TEXT NOT NULL,
    PRIMARY KEY (feed_url, link)
) WITHOUT ROWID;
"""
_SQL_VARIABLES = 500  # stay well under SQLite's bound-parameter limit


@dataclass
class FeedState:
    feed_url: str                       # as configured; the key
    current_url: str                    # where we fetch now (301/308 update it)
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    next_poll_at: float = 0.0           # epoch seconds, UTC
    consecutive_failures: int = 0
    parked: bool = False                # too many failures in a row: skipped until unparked
    disabled: bool = False              # 410 Gone
    last_status: int | None = None
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    last_parse_error: str | None = None
    items_produced: int = 0


_COLUMNS = [f.name for f in fields(FeedState)]


def _chunks(values: list, size: int = _SQL_VARIABLES) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


class StateStore:
    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- per-feed state -------------------------------------------------------------------
    def get(self, feed_url: str) -> FeedState:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feeds WHERE feed_url = ?",
                                   (feed_url,)).fetchone()
        if row is None:
            return FeedState(feed_url=feed_url, current_url=feed_url)
        return self._from_row(row)

    def save(self, state: FeedState) -> None:
        values = asdict(state)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO feeds ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
                             [values[c] for c in _COLUMNS])

    def all_feeds(self) -> list[FeedState]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM feeds ORDER BY feed_url").fetchall()
        return [self._from_row(row) for row in rows]

    def unpark(self, feed_url: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE feeds SET parked = 0, disabled = 0, consecutive_failures = 0, next_poll_at = 0 "
                "WHERE feed_url = ?", (feed_url,))
        return cursor.rowcount > 0

    @staticmethod
    def _from_row(row) -> FeedState:
        state = FeedState(**dict(zip(_COLUMNS, row)))
        state.parked, state.disabled = bool(state.parked), bool(state.disabled)
        return state

    # -- item identity ----------------------------------------------------------------------
    def seen_ids(self, feed_url: str, item_ids: list[str]) -> set[str]:
        found: set[str] = set()
        with self._lock:
            for chunk in _chunks(list(dict.fromkeys(item_ids))):
                marks = ", ".join("?" for _ in chunk)
                found.update(r[0] for r in self._db.execute(
                    f"SELECT item_id FROM seen WHERE feed_url = ? AND item_id IN ({marks})",
                    [feed_url, *chunk]))
        return found

    def touch_seen(self, feed_url: str, item_ids: Iterable[str], now: float) -> None:
        """Items still in the feed stay remembered however long they stay there."""
        ids = list(item_ids)
        with self._lock:
            self._db.executemany("UPDATE seen SET seen_at = ? WHERE feed_url = ? AND item_id = ?",
                                 [(now, feed_url, i) for i in ids])

    def known_link_ids(self, feed_url: str, links: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for chunk in _chunks([link for link in dict.fromkeys(links) if link]):
                marks = ", ".join("?" for _ in chunk)
                found.update(self._db.execute(
                    f"SELECT link, item_id FROM link_ids WHERE feed_url = ? AND link IN ({marks})",
                    [feed_url, *chunk]).fetchall())
        return found

    def mark_produced(self, feed_url: str, produced: list[tuple[str, str]], now: float) -> None:
        """Record (item_id, canonical link) pairs once Kafka has acknowledged them, atomically."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?, ?)",
                                     [(feed_url, item_id, now) for item_id, _ in produced])
                self._db.executemany("INSERT OR IGNORE INTO link_ids VALUES (?, ?, ?)",
                                     [(feed_url, link, item_id) for item_id, link in produced if link])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def prune_seen(self, older_than: float) -> int:
        """Forget items not seen since `older_than`, and their link memory."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "DELETE FROM link_ids WHERE EXISTS (SELECT 1 FROM seen s WHERE s.feed_url = link_ids.feed_url "
                "AND s.item_id = link_ids.item_id AND s.seen_at < ?)", (older_than,))
            removed = self._db.execute("DELETE FROM seen WHERE seen_at < ?", (older_than,)).rowcount
            self._db.execute("COMMIT")
        return removed
