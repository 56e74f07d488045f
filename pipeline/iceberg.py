"""The Iceberg side of a run and of `newsbeam compact` (connectors/iceberg_*.py do the work).

`register` runs inside a run, after its manifest and before its offsets are committed
(pipeline/run.py): it registers every committed run the tables do not hold yet. `compact` is
the maintenance command; it takes the run lock and the consumer group's run claim on S3, so it
never commits at the same time as a run, of this host or another. With `iceberg.catalog: none` neither is called.
"""
from __future__ import annotations

import re
from datetime import timedelta

from connectors import run_ledger, s3
from connectors.errors import ConfigError, UsageError
from pipeline.config import Config

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm])\s*$")


def parse_duration(text: str) -> timedelta:
    """'1d', '12h', '30m' -> timedelta."""
    m = _DURATION.match(text or "")
    if not m:
        raise UsageError(f"expected a duration such as 1d, 12h or 30m, got {text!r}")
    value, unit = float(m.group(1)), m.group(2)
    return timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: value})


def register(config: Config, ss: s3.S3Settings) -> dict[str, int] | None:
    """Registers every committed run not yet in the Iceberg tables; None when no catalog is
    configured, else {table: rows added}. Raises CatalogError (exit 8) when the catalog fails."""
    if not config.iceberg.enabled:
        return None
    from connectors.iceberg_catalog import Catalog
    from connectors.iceberg_register import register_committed

    with Catalog(config.iceberg, ss, writer=True) as catalog:
        done = register_committed(catalog, ss)
    return {r.table: r.rows for r in done if r.runs}


def compact(config: Config, names: list[str] | None, older_than: timedelta, dry_run: bool = False):
    from connectors.iceberg_catalog import Catalog
    from connectors.iceberg_compact import compact as compact_tables
    from connectors.kafka_source import KafkaSettings
    from connectors.run_claim import RunClaim
    from pipeline.run import RunLock

    if not config.iceberg.enabled:
        raise ConfigError("invalid configuration:\n  iceberg.catalog: `newsbeam compact` works on the Iceberg "
                          "tables; set iceberg.catalog to sql, rest or glue")
    ss = s3.S3Settings.from_config(config.s3)
    retention = timedelta(hours=config.iceberg.snapshot_retention_hours)
    with RunLock(config.pipeline.lock_path) as lock:
        s3.check_reachable(ss)
        # The consumer group's S3 claim too, like a run: a run of another host then waits (ClaimHeld,
        # exit 5) instead of registering into tables whose files are being replaced.
        claim = RunClaim(ss, KafkaSettings.from_config(config.kafka).group_id,
                         config.pipeline.claim_lease_seconds)
        claim.acquire(successor_of=lock.previous_claim)
        lock.note_claim(claim.body.token)
        try:
            with Catalog(config.iceberg, ss, writer=True) as catalog:
                return compact_tables(catalog, ss, tuple(names or run_ledger.ALL_TABLES), older_than,
                                      retention, dry_run=dry_run)
        finally:
            claim.release()


def metadata_locations(config: Config, ss: s3.S3Settings) -> dict[str, str | None]:
    """table -> the metadata file of its current state (None: not created yet), for readers."""
    from connectors.iceberg_catalog import Catalog

    if config.iceberg.catalog == "sql" and not config.iceberg.sqlite_file().is_file():
        return dict.fromkeys(run_ledger.ALL_TABLES)  # no run registered anything yet; create nothing
    with Catalog(config.iceberg, ss) as catalog:
        return {t: catalog.metadata_location(t) for t in run_ledger.ALL_TABLES}
