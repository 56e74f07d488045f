"""Registering committed runs in the Iceberg tables: one commit per table, idempotent.

A run is *committed* when its manifest `_runs/<run_id>.json` exists (connectors/run_ledger.py).
Registration adds exactly the files that manifest lists to each table (`add_files`: the Parquet
files stay where the run wrote them), in one snapshot per table whose summary carries:

    newsbeam.run-ids        the runs the snapshot registers (comma-separated)
    newsbeam.kafka-offsets  their Kafka offset ranges, JSON [{run_id, group_id, offsets: [...]}]

Every run leaves that snapshot in every table, also one it added no rows to, so each table's
snapshots say which runs (and offsets) it holds.

**Which runs are registered.** Run R counts as registered in table T when a snapshot of T names R,
or when R's manifest is older than T's property `newsbeam.registered-before` (set by
`newsbeam compact` when it expires snapshots; every run committed before it was registered first,
see connectors/iceberg_compact.py). So registering is idempotent however old the run: a run
registered once is never added again, also after its snapshot expired and its files were
compacted away. A pass registers *every* committed run not yet registered, oldest first, so a
run that crashed after its manifest is registered by the next run whatever its offsets.

Manifest times are S3's `LastModified` and the cut-off is taken from S3's clock too, so clocks of
the hosts never enter the decision.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, Mapping

from connectors import run_ledger, s3
from connectors.errors import CatalogError, CatalogUnavailable

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

RUN_IDS = "newsbeam.run-ids"
OFFSETS = "newsbeam.kafka-offsets"
REGISTERED_BEFORE = "newsbeam.registered-before"
# Runs per snapshot when catching up (first registration of an existing deployment): bounds the
# size of one snapshot summary.
MAX_RUNS_PER_COMMIT = 100
COMMIT_ATTEMPTS = 5


# ----------------------------------------------------------------------------- pure rules
def runs_of(summary: Mapping[str, str] | None) -> list[str]:
    value = (summary or {}).get(RUN_IDS) or ""
    return [r for r in value.split(",") if r]


def registered_runs(summaries: Iterable[Mapping[str, str] | None]) -> set[str]:
    return {r for s in summaries for r in runs_of(s)}


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pending_runs(committed: Mapping[str, datetime], registered: set[str],
                 registered_before: datetime | None) -> list[str]:
    """Committed runs the table does not hold yet, oldest manifest first."""
    todo = [(t, r) for r, t in committed.items()
            if r not in registered and (registered_before is None or t >= registered_before)]
    return [r for _, r in sorted(todo)]


def summary_properties(manifests: list[run_ledger.RunManifest]) -> dict[str, str]:
    return {RUN_IDS: ",".join(m.run_id for m in manifests),
            OFFSETS: json.dumps([{"run_id": m.run_id, "group_id": m.group_id,
                                  "offsets": [o.model_dump() for o in m.offsets]} for m in manifests],
                                separators=(",", ":"), sort_keys=True)}


def table_summaries(table) -> list[Mapping[str, str]]:
    return [s.summary.additional_properties if s.summary else {} for s in table.metadata.snapshots]


def horizon(table) -> datetime | None:
    return parse_time(table.properties.get(REGISTERED_BEFORE))


# ----------------------------------------------------------------------------- registering
@dataclass
class Registered:
    """What one table got in this pass."""

    table: str
    runs: list[str] = field(default_factory=list)
    files: int = 0
    rows: int = 0
    snapshots: list[int] = field(default_factory=list)


def register_committed(catalog, ss: s3.S3Settings, tables: tuple[str, ...] = run_ledger.ALL_TABLES,
                       run_times: Mapping[str, datetime] | None = None,
                       schemas: Mapping[str, "pa.Schema"] | None = None) -> list[Registered]:
    """Registers every committed run each table does not hold yet; returns what was added.
    ``catalog`` is an open `connectors.iceberg_catalog.Catalog` (as writer); ``schemas``
    (table -> Arrow schema) default to connectors/tables.py's, which the tables are brought up to."""
    run_times = dict(run_times if run_times is not None else run_ledger.committed_run_times(ss))
    manifests: dict[str, run_ledger.RunManifest] = {}
    out = []
    for name in tables:
        done = Registered(name)
        schema = (schemas or {}).get(name)
        table = catalog.table(name, schema)
        for _ in range(10_000):  # bounded: each pass registers up to MAX_RUNS_PER_COMMIT runs
            batch = pending_runs(run_times, registered_runs(table_summaries(table)), horizon(table))
            if not batch:
                break
            batch = batch[:MAX_RUNS_PER_COMMIT]
            for run_id in batch:
                if run_id not in manifests:
                    manifests[run_id] = _read_manifest(ss, run_id)
            table = _commit(catalog, ss, name, [manifests[r] for r in batch], run_times, done, schema)
        out.append(done)
    return out


def _read_manifest(ss: s3.S3Settings, run_id: str) -> run_ledger.RunManifest:
    try:
        return run_ledger.read_manifest(ss, run_id)
    except Exception as exc:
        raise CatalogError(f"cannot read the manifest of run {run_id} to register it in Iceberg: "
                           f"{type(exc).__name__}: {str(exc)[:200]}") from None


def _commit(catalog, ss: s3.S3Settings, name: str, batch: list[run_ledger.RunManifest],
            run_times: Mapping[str, datetime], done: Registered, schema=None):
    """One snapshot adding the batch's files of this table; retried on a lost commit race after
    reloading the table (the winner may have registered some of the same runs), and when a REST
    catalog could not say whether the commit landed (the reload shows it; nothing is added twice)."""
    from pyiceberg.exceptions import CommitFailedException, CommitStateUnknownException

    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        table = catalog.table(name, schema)
        registered = registered_runs(table_summaries(table))
        cut = horizon(table)
        todo = [m for m in batch if m.run_id not in registered and (cut is None or run_times[m.run_id] >= cut)]
        if not todo:
            return table
        files = [f for m in todo for f in m.files if f.table == name]
        paths = [ss.url(f.key) for f in files]
        try:
            with catalog.failures(f"registering run(s) {', '.join(m.run_id for m in todo)} in "
                                  f"{catalog.cfg.namespace}.{name}"):
                with table.transaction() as tx:
                    tx.add_files(paths, snapshot_properties=summary_properties(todo))
        except CatalogUnavailable as exc:
            if isinstance(exc.__cause__, (CommitFailedException, CommitStateUnknownException)) \
                    and attempt < COMMIT_ATTEMPTS:
                log.info("Iceberg commit to %s lost a race (attempt %d); retrying", name, attempt)
                continue
            if isinstance(exc.__cause__, FileNotFoundError):
                raise CatalogError(f"{exc}; a file a manifest lists is missing from S3 (deleted by "
                                   "hand?): restore it, or remove the run's manifest") from None
            raise
        table = catalog.table(name, schema)
        done.runs += [m.run_id for m in todo]
        done.files += len(files)
        done.rows += sum(f.rows for f in files)
        if table.current_snapshot() is not None:
            done.snapshots.append(table.current_snapshot().snapshot_id)
        log.info("Iceberg %s.%s: registered run(s) %s (%d files)", catalog.cfg.namespace, name,
                 ", ".join(m.run_id for m in todo), len(files))
        return table
    raise CatalogUnavailable(f"Iceberg {catalog.name}: {COMMIT_ATTEMPTS} commits to {name} lost a race "
                             "with another writer; offsets not committed, the next run retries")
