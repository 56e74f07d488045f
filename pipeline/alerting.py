"""After a run's files are durable: alert on its leadership statements (docs/alerts.md).

Runs before the offsets are committed, so a crash here is retried by the next run; the alert
ledger makes the retry send nothing twice. Never fails the run.
"""
from __future__ import annotations

import logging
from datetime import datetime

import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors import s3
from connectors.parquet_sink import RunFile
from pipeline.config import Config

log = logging.getLogger(__name__)


def leadership_rows(settings: s3.S3Settings, files: list[RunFile]) -> list[dict]:
    """Leadership quote rows of the run's `quotes` files, timestamps as ISO strings."""
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


def alert_on_run(config: Config, settings: s3.S3Settings, files: list[RunFile]) -> dict[str, int] | None:
    """Dispatch alerts for the run; None when no alert rules are configured."""
    from connectors.alerts.config import AlertsConfig
    from connectors.alerts.dispatch import dispatch
    from connectors.alerts.ledger import SqliteLedger

    if not config.alerts or not config.alerts.get("rules"):
        return None
    try:
        alerts = AlertsConfig.model_validate(config.alerts)
        rows = leadership_rows(settings, files)
        ledger = SqliteLedger(alerts.ledger_path, exclusive=True)   # the run is the ledger's one writer
        try:
            summary = dispatch(rows, alerts, ledger)
        finally:
            ledger.close()
        return summary.as_dict()
    except Exception as exc:  # alerts never fail a run; the ledger retries next time
        log.error("alerts: %s: %s", type(exc).__name__, exc)
        return {"errors": 1}
