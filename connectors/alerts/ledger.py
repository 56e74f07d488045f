"""Durable alert ledger: one row per (statement_id, rule, sink) delivery, the links seen per
statement, and which committed runs have been alerted.

Protocol: record the intent (state `pending`) and commit it BEFORE sending, send, then mark
`sent`. A crash in between leaves `pending`, which the next run resolves (see dispatch).
States: pending -> sent | failed | unknown; failed -> pending on retry.

Alerting follows the committed runs (their manifests on S3), not the run that happens to be
going: every run alerts each committed run not yet in `alerted_runs`, so a run that died after
its manifest is alerted by whichever run comes next (connectors/alerts/backlog.py). When
alerting starts on an existing deployment, the runs committed before it are recorded as
`before alerting` once (`prime`), so switching alerts on does not replay the whole history.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connectors.alerts.message import Alert, Link
from connectors.single_writer import SingleWriter

PENDING, SENT, FAILED, UNKNOWN = "pending", "sent", "failed", "unknown"
# How a committed run came to be in `alerted_runs`.
ALERTED, BEFORE_ALERTING = "alerted", "before alerting"


@dataclass(frozen=True)
class Delivery:
    statement_id: str
    rule: str
    sink: str
    state: str
    attempts: int
    last_error: str | None
    alert: Alert
    created_at: str
    updated_at: str


class AlertLedger(Protocol):
    """What dispatch needs from a ledger; SqliteLedger is the local implementation, an
    object-store one would implement the same calls."""

    def remember_links(self, statement_id: str, links: list[Link], at: str) -> None: ...
    def links(self, statement_id: str) -> tuple[Link, ...]: ...
    def get(self, statement_id: str, rule: str, sink: str) -> Delivery | None: ...
    def begin(self, alert: Alert, sink: str, at: str) -> None: ...
    def mark_sent(self, statement_id: str, rule: str, sink: str, attempts: int, at: str) -> None: ...
    def mark_failed(self, statement_id: str, rule: str, sink: str, attempts: int, error: str, at: str) -> None: ...
    def mark_unknown(self, statement_id: str, rule: str, sink: str, note: str, at: str) -> None: ...
    def in_state(self, state: str) -> list[Delivery]: ...
    def recent(self, limit: int) -> list[Delivery]: ...
    def alerted_runs(self) -> set[str]: ...
    def mark_runs_alerted(self, run_ids: list[str], at: str, how: str = ALERTED) -> None: ...
    def primed(self) -> bool: ...
    def prime(self, committed_run_ids: list[str], at: str) -> None: ...
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    statement_id TEXT NOT NULL,
    rule         TEXT NOT NULL,
    sink         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    alert_json   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (statement_id, rule, sink)
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (state);
CREATE INDEX IF NOT EXISTS deliveries_updated ON deliveries (updated_at);
CREATE TABLE IF NOT EXISTS statement_links (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id TEXT NOT NULL,
    url          TEXT NOT NULL,
    feed_title   TEXT NOT NULL,
    feed_url     TEXT NOT NULL,
    published    TEXT NOT NULL,
    seen_at      TEXT NOT NULL,
    UNIQUE (statement_id, url)
);
CREATE TABLE IF NOT EXISTS alerted_runs (
    run_id     TEXT PRIMARY KEY,
    alerted_at TEXT NOT NULL,
    how        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_COLUMNS = "statement_id, rule, sink, state, attempts, last_error, alert_json, created_at, updated_at"


WRITER_HINT = "the run writes it (keep pipeline.lock_path on the same volume so runs never overlap)"


class SqliteLedger:
    """Single-writer SQLite ledger. Every write commits at once (autocommit) with
    synchronous=FULL, so a `pending` row is on disk before the send it announces.
    `exclusive=True` (the run) holds `<ledger>.lock` until close(): a second writer fails with
    `WriterLockHeld` naming the first."""

    def __init__(self, path: str | Path, exclusive: bool = False) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = SingleWriter(path, "alert ledger", WRITER_HINT).acquire() if exclusive else None
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def remember_links(self, statement_id: str, links: list[Link], at: str) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO statement_links (statement_id, url, feed_title, feed_url, published, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(statement_id, l.url, l.feed_title, l.feed_url, l.published, at) for l in links],
        )

    def links(self, statement_id: str) -> tuple[Link, ...]:
        rows = self._db.execute(
            "SELECT url, feed_title, feed_url, published FROM statement_links WHERE statement_id = ? ORDER BY seq",
            (statement_id,),
        )
        return tuple(Link(*row) for row in rows)

    def get(self, statement_id: str, rule: str, sink: str) -> Delivery | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE statement_id = ? AND rule = ? AND sink = ?",
            (statement_id, rule, sink),
        ).fetchone()
        return _delivery(row) if row else None

    def begin(self, alert: Alert, sink: str, at: str) -> None:
        self._db.execute(
            "INSERT INTO deliveries (statement_id, rule, sink, state, alert_json, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (statement_id, rule, sink) DO UPDATE SET "
            "state = excluded.state, alert_json = excluded.alert_json, updated_at = excluded.updated_at",
            (alert.statement_id, alert.rule, sink, PENDING, json.dumps(alert.to_dict()), at, at),
        )

    def _update(self, statement_id: str, rule: str, sink: str, state: str, attempts: int, error: str | None, at: str) -> None:
        self._db.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + ?, last_error = ?, updated_at = ? "
            "WHERE statement_id = ? AND rule = ? AND sink = ?",
            (state, attempts, error, at, statement_id, rule, sink),
        )

    def mark_sent(self, statement_id: str, rule: str, sink: str, attempts: int, at: str) -> None:
        self._update(statement_id, rule, sink, SENT, attempts, None, at)

    def mark_failed(self, statement_id: str, rule: str, sink: str, attempts: int, error: str, at: str) -> None:
        self._update(statement_id, rule, sink, FAILED, attempts, error, at)

    def mark_unknown(self, statement_id: str, rule: str, sink: str, note: str, at: str) -> None:
        self._update(statement_id, rule, sink, UNKNOWN, 0, note, at)

    def in_state(self, state: str) -> list[Delivery]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE state = ? ORDER BY created_at, statement_id, rule, sink", (state,)
        )
        return [_delivery(row) for row in rows]

    def recent(self, limit: int) -> list[Delivery]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM deliveries ORDER BY updated_at DESC, statement_id, rule, sink LIMIT ?", (limit,)
        )
        return [_delivery(row) for row in rows]

    def alerted_runs(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT run_id FROM alerted_runs")}

    def mark_runs_alerted(self, run_ids: list[str], at: str, how: str = ALERTED) -> None:
        self._db.executemany("INSERT OR IGNORE INTO alerted_runs (run_id, alerted_at, how) VALUES (?, ?, ?)",
                             [(r, at, how) for r in run_ids])

    def primed(self) -> bool:
        return self._db.execute("SELECT 1 FROM ledger_meta WHERE key = 'primed_at'").fetchone() is not None

    def prime(self, committed_run_ids: list[str], at: str) -> None:
        """Once per ledger: runs committed before alerting began are not alerted."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if not self.primed():
                self.mark_runs_alerted(committed_run_ids, at, BEFORE_ALERTING)
                self._db.execute("INSERT INTO ledger_meta (key, value) VALUES ('primed_at', ?)", (at,))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._db.close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None


def _delivery(row: tuple) -> Delivery:
    statement_id, rule, sink, state, attempts, last_error, alert_json, created_at, updated_at = row
    return Delivery(
        statement_id, rule, sink, state, attempts, last_error, Alert.from_dict(json.loads(alert_json)), created_at, updated_at
    )
