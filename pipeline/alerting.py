"""After a run's files are durable: alert on its leadership statements (docs/alerts.md).

Runs before the offsets are committed, so a crash here is retried by the next run; the alert
ledger makes the retry send nothing twice. Alerting never stops the data: failures come back
in the summary (`failed`, `errors`), the run still commits, and the command then exits with
AlertsFailed's code (connectors/errors.py). Failed deliveries stay in the ledger and are
retried by every later run (also one with nothing new) and by `newsbeam alerts retry`.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from connectors import s3
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


def alert_on_run(alerts: AlertsConfig, settings: s3.S3Settings, files: list[RunFile]) -> dict[str, int] | None:
    """Dispatch alerts for the run's files; None when no alert rules are configured."""
    if not alerts.rules:
        return None
    return _dispatch(alerts, lambda: leadership_rows(settings, files))


def retry_alerts(alerts: AlertsConfig) -> dict[str, int] | None:
    """Retry what earlier runs could not deliver (failed, or pending after a crash); None when
    there is nothing that could need it (no rules, no ledger yet)."""
    if not alerts.rules or not Path(alerts.ledger_path).exists():
        return None
    return _dispatch(alerts, lambda: [])
