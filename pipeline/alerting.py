"""Alerts on leadership statements of committed runs (docs/alerts.md).

Driven by durable state: after its manifest, a run alerts every committed run that the alert
ledger has not recorded as alerted - its own and any earlier run that died after its manifest
(connectors/alerts/backlog.py). Runs before the offsets are committed; a crash here is finished
by the next run, and the ledger makes that send nothing twice. Alerting never stops the data:
failures come back in the summary (`failed`, `errors`), the run still commits, and the command
then exits with AlertsFailed's code (connectors/errors.py). Failed deliveries stay in the ledger
and are retried by every later run (also one with nothing new) and by `newsbeam alerts retry`,
which also alerts committed runs still due.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from connectors import run_ledger, s3
from connectors.alerts.config import AlertsConfig
from connectors.run_ledger import RunFile

log = logging.getLogger(__name__)


def leadership_rows(settings: s3.S3Settings, files: list[RunFile]) -> list[dict]:
    """Leadership quote rows of the run's `quotes` files, timestamps as ISO strings."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    fs = s3.filesystem(settings)
    rows: list[dict] = []
    for f in files:
        if f.table != "quotes" or f.rows == 0:
            continue
        t = pq.read_table(f"{settings.bucket}/{f.key}", filesystem=fs)
        for row in t.filter(pc.field("is_leadership")).to_pylist():
            for k, v in row.items():
                if isinstance(v, datetime):
                    row[k] = v.strftime("%Y-%m-%dT%H:%M:%SZ")
            row["first_seen"] = row.get("fetched_at")
            rows.append(row)
    return rows


def failures(summary: dict[str, int] | None) -> int:
    """Deliveries that failed plus alerting steps that could not run at all."""
    return 0 if not summary else summary.get("failed", 0) + summary.get("errors", 0)


def _dispatch(alerts: AlertsConfig, rows_of) -> dict[str, int]:
    from connectors.alerts.dispatch import dispatch
    from connectors.alerts.ledger import SqliteLedger

    try:
        rows = rows_of()
        ledger = SqliteLedger(alerts.ledger_path, exclusive=True)  # dispatch is the ledger's one writer
        try:
            return dispatch(rows, alerts, ledger).as_dict()
        finally:
            ledger.close()
    except Exception as exc:  # the data is durable either way; reported, counted, retried
        log.error("alerts: %s: %s", type(exc).__name__, exc)
        return {"errors": 1}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_files(settings: s3.S3Settings, run_id: str) -> list[RunFile]:
    """A committed run's files, as its manifest lists them."""
    return [RunFile(f.table, f.key, f.rows) for f in run_ledger.read_manifest(settings, run_id).files]


def prime_alerts(alerts: AlertsConfig, settings: s3.S3Settings, committed: set[str] | None = None) -> None:
    """Before a run writes anything: on a ledger's first use, the runs committed so far count as
    alerted before alerting began (so this run's own statements, and those of any run that dies
    after its manifest from now on, are alerted). A failure is logged: `alert_committed` primes
    too, keeping the run it finishes. ``committed``: the committed runs when the caller has just
    listed them (else listed here)."""
    from connectors.alerts.backlog import prime
    from connectors.alerts.ledger import SqliteLedger

    if not alerts.rules:
        return
    try:
        ledger = SqliteLedger(alerts.ledger_path, exclusive=True)  # the run is the ledger's one writer
        try:
            prime(ledger, run_ledger.committed_runs(settings) if committed is None else committed, _now())
        finally:
            ledger.close()
    except Exception as exc:  # alerts never fail a run
        log.error("alerts: %s: %s", type(exc).__name__, exc)


def alert_committed(alerts: AlertsConfig, settings: s3.S3Settings, current_run: str | None = None,
                    committed: set[str] | None = None) -> dict[str, int] | None:
    """Alert every committed run not yet alerted (and retry failed deliveries); None when no
    alert rules are configured. ``current_run``: the run this process just committed (never
    taken for one committed before alerting began). ``committed``: the committed runs when the
    caller knows them (a run holding the group's claim), else listed here."""
    from connectors.alerts.backlog import alert_committed_runs
    from connectors.alerts.ledger import SqliteLedger

    if not alerts.rules:
        return None
    try:
        ledger = SqliteLedger(alerts.ledger_path, exclusive=True)  # the run is the ledger's one writer
        try:
            summary, runs = alert_committed_runs(
                alerts, ledger, run_ledger.committed_runs(settings) if committed is None else committed,
                lambda run_id: leadership_rows(settings, _run_files(settings, run_id)),
                _now(), keep=[current_run] if current_run else [])
        finally:
            ledger.close()
        return {**summary.as_dict(), "runs": len(runs)}
    except Exception as exc:  # the data is durable either way; reported, counted, the runs stay due
        log.error("alerts: %s: %s", type(exc).__name__, exc)
        return {"errors": 1}


def retry_alerts(alerts: AlertsConfig) -> dict[str, int] | None:
    """Retry what earlier runs could not deliver (failed, or pending after a crash), without
    reading S3 (a run with nothing new); None when there is nothing that could need it (no
    rules, no ledger yet). Committed runs still due are alerted by the next run that writes, or
    by `newsbeam alerts retry` (`alert_committed`)."""
    if not alerts.rules or not Path(alerts.ledger_path).exists():
        return None
    return _dispatch(alerts, lambda: [])
