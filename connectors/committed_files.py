"""Which data files readers may see: only those of committed runs (runs with a manifest).

A run's Parquet files land on S3 before its manifest; a run that dies in between leaves files
that are not part of the tables until the next run removes them. A reader globbing
`<table>/dt=*/*.parquet` would count those rows, so every reader we document goes through the
committed list instead:

* `newsbeam query` builds its DuckDB views from `committed(...)` (connectors/duckdb_s3.py);
* engines that cannot list our run ledger (Athena, Trino, Spark, plain DuckDB) read symlink
  manifests: `<prefix>/_symlink/<table>/dt=YYYY-MM-DD/manifest`, one `s3://` URL of a committed
  data file per line (Hive's `SymlinkTextInputFormat`, the layout Delta Lake uses for the same
  purpose). Only the run holding the group's claim writes them, right after its manifest.

A manifest object is rewritten whenever a run committed since it was written has a file in its
partition, judged on S3's Last-Modified times, so a run that died after its manifest but before
its symlinks is healed by the next run. The files and manifests themselves are the run ledger's
(connectors/run_ledger.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable

from connectors import run_ledger, s3
from connectors.run_ledger import DataFile

SYMLINK_DIR = "_symlink"
SYMLINK_NAME = "manifest"


def committed(files: Iterable[DataFile], runs: set[str]) -> list[DataFile]:
    """The files (from run_ledger.data_files) of committed runs, by key."""
    return sorted(f for f in files if f.run in runs)


def symlink_key(settings: s3.S3Settings, table: str, dt: str) -> str:
    return settings.key(SYMLINK_DIR, table, f"dt={dt}", SYMLINK_NAME)


def parse_symlink_key(settings: s3.S3Settings, key: str) -> tuple[str, str] | None:
    """`<prefix>/_symlink/<table>/dt=<dt>/manifest` -> (table, dt)."""
    head = settings.key(SYMLINK_DIR) + "/"
    if not key.startswith(head) or not key.endswith("/" + SYMLINK_NAME):
        return None
    parts = key[len(head):].split("/")
    if len(parts) != 3 or not parts[1].startswith("dt="):
        return None
    return parts[0], parts[1][3:]


def symlink_text(settings: s3.S3Settings, files: Iterable[DataFile]) -> str:
    """The manifest body: one s3:// URL per line, sorted (same files -> same bytes)."""
    return "".join(f"{settings.url(k)}\n" for k in sorted({f.key for f in files}))


def stale_partitions(files: list[DataFile], manifest_times: dict[str, datetime],
                     symlink_times: dict[tuple[str, str], datetime]) -> set[tuple[str, str]]:
    """(table, dt) whose symlink manifest is missing or older than a committed run with a file
    in it. ``files``: committed data files; ``manifest_times``: run id -> its manifest's
    Last-Modified; ``symlink_times``: (table, dt) -> its symlink manifest's Last-Modified.
    Equal times count as stale (Last-Modified has whole seconds)."""
    stale = set()
    for f in files:
        part = (f.table, f.dt)
        written = symlink_times.get(part)
        made = manifest_times.get(f.run)
        if written is None or (made is not None and made >= written):
            stale.add(part)
    return stale


def by_partition(files: Iterable[DataFile]) -> dict[tuple[str, str], list[DataFile]]:
    out: dict[tuple[str, str], list[DataFile]] = defaultdict(list)
    for f in files:
        out[(f.table, f.dt)].append(f)
    return out


def symlink_times(settings: s3.S3Settings) -> dict[tuple[str, str], datetime]:
    out = {}
    for obj in s3.list_keys(settings, settings.key(SYMLINK_DIR) + "/"):
        part = parse_symlink_key(settings, obj["Key"])
        if part:
            out[part] = obj["LastModified"]
    return out


def publish_symlinks(settings: s3.S3Settings, files: list[DataFile]) -> list[tuple[str, str]]:
    """Rewrite the symlink manifests that are out of date. ``files``: the data files of committed
    runs, listed after the caller's manifest was written (an earlier attempt's extra shards of
    the caller's run id must not be among them). Only the claim holder calls this, so no two
    writers race on one manifest. Returns the partitions rewritten."""
    times = run_ledger.manifest_times(settings)
    done = committed(files, set(times))
    stale = stale_partitions(done, times, symlink_times(settings))
    groups = by_partition(done)
    client = s3.client(settings)
    for table, dt in sorted(stale):
        client.put_object(Bucket=settings.bucket, Key=symlink_key(settings, table, dt),
                          Body=symlink_text(settings, groups[(table, dt)]).encode(),
                          ContentType="text/plain")
    return sorted(stale)
