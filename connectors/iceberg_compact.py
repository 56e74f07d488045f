"""`newsbeam compact`: fewer, larger files per day in the Iceberg tables; expire old snapshots.

A 15-minute schedule registers ~100 small files per table and day. Compaction rewrites the
small files of each day partition that is older than `--older-than` into files of about
`iceberg.target_file_mb`, in one Iceberg *replace* snapshot per table: a reader sees either all
old files or all new ones, never a mix, and the rows are the same (the commit is refused unless
the rows read, the rows written and the rows of the files it replaces agree).

How this relates to the plain layout and the `_runs/` manifests:

- compacted files are written under the table's Iceberg location
  (`<iceberg.location>/<namespace>/<table>/data/fetched_at_day=YYYY-MM-DD/`), never under
  `<table>/dt=.../`: plain readers, the manifests, dedup history and orphan clean-up of the
  plain layout do not see them, and the plain files are never deleted or changed (they stop
  being part of the Iceberg table, that is all);
- a rerun of an old run registers nothing again (connectors/iceberg_register.py: the run is
  older than the table's `newsbeam.registered-before`, or named by a snapshot), so compacted
  rows are never resurrected.

Snapshot expiry keeps every snapshot whose runs were committed within
`iceberg.snapshot_retention_hours` (S3's clock) and the current one. Before it expires anything it
registers every committed run, then records the cut-off as the table property
`newsbeam.registered-before` in the same commit as the expiry, which is what keeps registration
idempotent once the snapshots that named a run are gone. Compacted files that no retained
snapshot references any more (a day compacted again after late rows) and manifests of expired
snapshots are deleted from the table's location; nothing outside it is ever deleted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

from connectors import iceberg_register, run_ledger, s3, tables
from connectors.errors import CatalogError

log = logging.getLogger(__name__)

COMPACTED = "newsbeam.compacted-files"
# Files this close to the target are left alone: rewriting them gains nothing.
LARGE_ENOUGH = 0.75
# Objects younger than this under the table location may belong to a writer still committing.
ORPHAN_GRACE = timedelta(hours=1)
EPOCH = date(1970, 1, 1)


# ----------------------------------------------------------------------------- pure planning
@dataclass(frozen=True)
class LiveFile:
    """A data file of the table's current snapshot."""

    path: str
    day: date | None          # its fetched_at_day partition (None: rejects without fetched_at)
    records: int
    size: int
    added: datetime           # when the snapshot that added it was committed


def plan(files: Iterable[LiveFile], now: datetime, older_than: timedelta,
         target_bytes: int) -> dict[date | None, list[LiveFile]]:
    """Partition -> the files to rewrite together. A day qualifies once it ended more than
    ``older_than`` ago (the null partition: its files added that long ago); in it, files of less
    than 3/4 of the target are rewritten when there are at least two."""
    cut = now - older_than
    groups: dict[date | None, list[LiveFile]] = {}
    for f in files:
        old = f.added < cut if f.day is None else f.day < cut.date()
        if old and f.size < target_bytes * LARGE_ENOUGH:
            groups.setdefault(f.day, []).append(f)
    return {day: sorted(fs, key=lambda f: f.path) for day, fs in groups.items() if len(fs) >= 2}


def expirable(snapshots: Iterable[tuple[int, datetime, list[str]]], keep: set[int],
              run_times: dict[str, datetime], cut: datetime) -> list[int]:
    """Snapshots (id, committed at, runs named) that may go: older than ``cut``, not kept (the
    current one), and every run they name committed before ``cut`` (S3's clock)."""
    return [sid for sid, at, runs in snapshots
            if sid not in keep and at < cut and all(run_times.get(r, cut) < cut for r in runs)]


# ----------------------------------------------------------------------------- results
@dataclass
class Compacted:
    table: str
    partitions: list[str] = field(default_factory=list)
    files_before: int = 0            # live files of the table before
    files_after: int = 0             # and after
    rewritten: int = 0               # files replaced
    written: int = 0                 # files written in their place
    rows: int = 0                    # rows moved
    expired_snapshots: int = 0
    deleted_objects: int = 0

    def line(self, dry_run: bool = False) -> str:
        days = ", ".join(self.partitions) or "no day to compact"
        if dry_run:
            return (f"{self.table}: would rewrite {self.rewritten} of {self.files_before} files "
                    f"({self.rows} rows; {days})")
        return (f"{self.table}: {self.files_before} -> {self.files_after} files "
                f"({self.rewritten} rewritten into {self.written}, {self.rows} rows; {days}); "
                f"{self.expired_snapshots} snapshot(s) expired, {self.deleted_objects} unreferenced "
                "object(s) deleted")


# ----------------------------------------------------------------------------- I/O
def _day(partition) -> date | None:
    value = partition[0] if partition is not None and len(partition) else None
    return None if value is None else EPOCH + timedelta(days=int(value))


def live_files(table) -> list[tuple[LiveFile, object]]:
    """(LiveFile, pyiceberg DataFile) of every data file in the current snapshot."""
    snap = table.current_snapshot()
    if snap is None:
        return []
    times = {s.snapshot_id: datetime.fromtimestamp(s.timestamp_ms / 1000, timezone.utc)
             for s in table.metadata.snapshots}
    oldest = min(times.values())
    out = []
    for manifest in snap.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            df = entry.data_file
            out.append((LiveFile(df.file_path, _day(df.partition), df.record_count, df.file_size_in_bytes,
                                 times.get(entry.snapshot_id, oldest)), df))
    return out


def _replace_producer(tx, io, properties: dict[str, str]):
    """A snapshot producer that deletes and adds files in one snapshot with operation `replace`
    (same rows, other files): incremental readers skip it. pyiceberg writes such snapshots only
    through this producer, whose summary totals are computed as for an overwrite."""
    from pyiceberg.table.snapshots import Operation, Summary
    from pyiceberg.table.update.snapshot import _OverwriteFiles

    class _ReplaceFiles(_OverwriteFiles):
        def _summary(self, snapshot_properties=None):
            summary = super()._summary(snapshot_properties or {})
            return Summary(Operation.REPLACE, **summary.additional_properties)

    return _ReplaceFiles(operation=Operation.OVERWRITE, transaction=tx, io=io,
                         snapshot_properties=properties)


def compact_table(catalog, name: str, now: datetime, older_than: timedelta,
                  dry_run: bool = False) -> Compacted:
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import ArrowScan
    from pyiceberg.table import FileScanTask

    result = Compacted(name)
    with catalog.failures(f"compacting {catalog.cfg.namespace}.{name}"):
        table = catalog.table(name)
        files = live_files(table)
        result.files_before = result.files_after = len(files)
        target = int(table.properties.get("write.target-file-size-bytes", catalog.cfg.target_file_mb << 20))
        groups = plan([f for f, _ in files], now, older_than, target)
        if not groups:
            return result
        by_path = {f.path: df for f, df in files}
        olds, news, rows = [], [], 0
        for day, group in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or EPOCH)):
            old = [by_path[f.path] for f in group]
            expected = sum(f.records for f in group)
            data = ArrowScan(table.metadata, table.io, table.schema(), AlwaysTrue()).to_table(
                [FileScanTask(df) for df in old])
            if data.num_rows != expected:
                raise CatalogError(f"compacting {name} {day}: read {data.num_rows} rows from files that "
                                   f"hold {expected}; nothing committed")
            olds += old
            rows += expected
            result.partitions.append(str(day) if day else "null")
            if dry_run:
                news.append(None)
                continue
            written = _write_compacted(table, name, day, data, sum(f.size for f in group), target)
            if sum(df.record_count for df in written) != expected:
                raise CatalogError(f"compacting {name} {day}: wrote {sum(df.record_count for df in written)} "
                                   f"rows for {expected}; nothing committed")
            news += written
        result.rewritten, result.written, result.rows = len(olds), len(news), rows
        result.files_after = len(files) - len(olds) + len(news)
        if dry_run:
            return result
        with table.transaction() as tx:
            with _replace_producer(tx, table.io, {COMPACTED: str(len(olds))}) as replace:
                for df in olds:
                    replace.delete_data_file(df)
                for df in news:
                    replace.append_data_file(df)
    log.info("Iceberg %s: %s", name, result.line())
    return result


def _write_compacted(table, name: str, day: date | None, data, input_bytes: int, target: int) -> list:
    """Rows of one partition -> Parquet files of about ``target`` bytes under the table's data
    path, written like the run's files (sorted by the table's keys, zstd, columns by name: the
    name mapping resolves them) -> their pyiceberg DataFiles (statistics, partition)."""
    import math
    import uuid

    import pyarrow.parquet as pq

    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    ours = tables.SCHEMAS[name]
    # our column types where we have them (the scan may hand back large_string and the like)
    data = data.cast(pa_schema_like(data.schema, ours))
    data = tables.sort_rows(name, data)
    parts = max(1, math.ceil(input_bytes / max(1, target)))
    per_file = math.ceil(data.num_rows / parts)
    folder = f"{table.properties.get('write.data.path', table.location().rstrip('/') + '/data')}/" \
             f"fetched_at_day={day.isoformat() if day else 'null'}"
    token = uuid.uuid4().hex[:12]
    out = []
    for n in range(parts):
        chunk = data.slice(n * per_file, per_file)
        if chunk.num_rows == 0:
            continue
        path = f"{folder}/compacted-{token}-{n:05d}.parquet"
        with table.io.new_output(path).create(overwrite=True) as stream:
            pq.write_table(chunk, stream, compression="zstd")
        out.append(parquet_file_to_data_file(table.io, table.metadata, path))
    return out


def pa_schema_like(have, ours):
    """``have`` with the types of ``ours`` for the columns both have."""
    import pyarrow as pa

    return pa.schema([ours.field(f.name) if f.name in ours.names else f for f in have])


def expire_and_clean(catalog, ss: s3.S3Settings, name: str, run_times: dict[str, datetime],
                     cut: datetime, s3_now: datetime, result: Compacted,
                     grace: timedelta = ORPHAN_GRACE) -> None:
    """Expire snapshots before ``cut`` (see `expirable`), set `newsbeam.registered-before` to
    ``cut`` in the same commit, then delete objects under the table's location that no retained
    snapshot references. Every committed run must be registered before (the caller does)."""
    from pyiceberg.table.update.snapshot import ExpireSnapshots

    with catalog.failures(f"expiring snapshots of {catalog.cfg.namespace}.{name}"):
        table = catalog.table(name)
        current = table.current_snapshot()
        keep = {current.snapshot_id} if current is not None else set()
        snaps = [(s.snapshot_id, datetime.fromtimestamp(s.timestamp_ms / 1000, timezone.utc),
                  iceberg_register.runs_of(s.summary.additional_properties if s.summary else {}))
                 for s in table.metadata.snapshots]
        ids = expirable(snaps, keep, run_times, cut)
        before = iceberg_register.horizon(table)
        with table.transaction() as tx:
            if before is None or cut > before:
                tx.set_properties(**{iceberg_register.REGISTERED_BEFORE: iceberg_register.format_time(cut)})
            if ids:
                ExpireSnapshots(tx).by_ids(ids).commit()
        result.expired_snapshots = len(ids)
        table = catalog.table(name)
        result.deleted_objects = _delete_unreferenced(ss, table, s3_now, grace)


def _referenced(table) -> set[str]:
    out = {table.metadata_location}
    for snap in table.metadata.snapshots:
        out.add(snap.manifest_list)
        for manifest in snap.manifests(table.io):
            out.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                out.add(entry.data_file.file_path)
    return out


def _delete_unreferenced(ss: s3.S3Settings, table, s3_now: datetime, grace: timedelta) -> int:
    """Compacted files and manifest files of the table's own location that no retained snapshot
    needs. Only under that location (and only in our bucket): the plain layout is never touched."""
    root = table.location().rstrip("/")
    bucket_url = f"s3://{ss.bucket}/"
    if not root.startswith(bucket_url):
        log.info("table location %s is outside s3://%s: unreferenced files are left", root, ss.bucket)
        return 0
    referenced = {p.replace("s3a://", "s3://", 1) for p in _referenced(table)}
    stale = []
    for sub, keep_if in (("data/", lambda k: False), ("metadata/", lambda k: not k.endswith(".avro"))):
        prefix = root[len(bucket_url):] + "/" + sub
        for obj in s3.list_keys(ss, prefix):
            key = obj["Key"]
            if keep_if(key) or f"{bucket_url}{key}" in referenced or s3_now - obj["LastModified"] < grace:
                continue
            if run_ledger.parse_file_key(key) is not None:  # a run's file, whatever iceberg.location says
                continue
            stale.append(key)
    if stale:
        s3.delete_keys(ss, stale)
    return len(stale)


def compact(catalog, ss: s3.S3Settings, names: tuple[str, ...], older_than: timedelta,
            retention: timedelta, dry_run: bool = False, now: datetime | None = None,
            grace: timedelta = ORPHAN_GRACE) -> list[Compacted]:
    """The whole `newsbeam compact`: register every committed run, compact each table, expire
    snapshots older than ``retention`` and delete what nothing references any more."""
    s3_now = s3.server_time(ss)  # before listing the runs: see iceberg_register's idempotency rule
    now = now or s3_now
    run_times = run_ledger.committed_run_times(ss)
    if not dry_run:
        iceberg_register.register_committed(catalog, ss, run_times=run_times)
    results = []
    for name in names:
        result = compact_table(catalog, name, now, older_than, dry_run=dry_run)
        if not dry_run:
            expire_and_clean(catalog, ss, name, run_times, s3_now - retention, s3_now, result, grace)
        results.append(result)
    return results
