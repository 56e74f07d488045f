"""The run ledger on S3: where a run's files go, its manifest, and which runs are committed.

Layout under `s3://<bucket>/<prefix>/`:

    <table>/dt=YYYY-MM-DD/part-<run_id>-<shard>.parquet   a data file (parquet_sink writes it)
    _runs/<run_id>.json                                   the run's manifest (`RunManifest`)
    _counters/<run_id>.json                               the run's counters, written by the job
                                                          (connectors/run_counters.py), read into
                                                          the manifest, then deleted

File names depend only on the run id (derived from the offsets it read) and a shard number, so
a rerun of the same offsets overwrites its own files. A run is *committed* once its manifest
exists; data files of a run without one were left by a crash and are removed by the next run
(whose offsets are the same, so it writes them again). Everything that reads or writes this
layout (pipeline/run.py, pipeline/status.py, connectors/parquet_sink.py, connectors/history.py)
goes through this module.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from connectors import s3
from connectors.errors import CountersMissing, S3Unavailable
from connectors.tables import SCHEMAS

ALL_TABLES = tuple(SCHEMAS)

RUNS_DIR = "_runs"
COUNTERS_DIR = "_counters"
MANIFEST_SCHEMA_VERSION = 1
_FILE_RE = re.compile(r"/(?P<table>[a-z_]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/"
                      r"part-(?P<run>[0-9a-f]{16})-(?P<shard>\d{5})\.parquet$")


# ----------------------------------------------------------------------------- data files
@dataclass(frozen=True, order=True)
class DataFile:
    """One data file found on S3, with what its key says about it."""

    key: str
    table: str
    dt: str
    run: str
    shard: int


def file_key(settings: s3.S3Settings, table: str, dt: str, run_id: str, shard: int) -> str:
    return settings.key(table, f"dt={dt}", f"part-{run_id}-{shard:05d}.parquet")


def parse_file_key(key: str) -> DataFile | None:
    m = _FILE_RE.search("/" + key)
    if not m:
        return None
    return DataFile(key, m["table"], m["dt"], m["run"], int(m["shard"]))


def data_files(settings: s3.S3Settings, tables: tuple[str, ...] = ALL_TABLES) -> list[DataFile]:
    """Every data file of these tables, committed or not, sorted by key."""
    out = []
    for table in tables:
        for obj in s3.list_keys(settings, settings.key(table) + "/"):
            f = parse_file_key(obj["Key"])
            if f:
                out.append(f)
    return sorted(out)


@dataclass(frozen=True)
class RunFile:
    """A data file of one run with its row count (from the Parquet footer)."""

    table: str
    key: str
    rows: int


def files_of_run(settings: s3.S3Settings, run_id: str, tables: tuple[str, ...] = ALL_TABLES) -> list[RunFile]:
    import pyarrow.parquet as pq

    fs = s3.filesystem(settings)
    return [RunFile(f.table, f.key, pq.read_metadata(f"{settings.bucket}/{f.key}", filesystem=fs).num_rows)
            for f in data_files(settings, tables) if f.run == run_id]


def remove_uncommitted(settings: s3.S3Settings, files: list[DataFile], committed: set[str]) -> list[str]:
    """Delete the files (from `data_files`) of runs without a manifest; returns their keys."""
    orphans = [f.key for f in files if f.run not in committed]
    if orphans:
        s3.delete_keys(settings, orphans)
    return orphans


# ----------------------------------------------------------------------------- manifests
class ManifestRange(BaseModel):
    """Offsets [start, end) of one partition the run read."""

    topic: str
    partition: int
    start: int
    end: int


class ManifestFile(BaseModel):
    table: str
    key: str
    rows: int


class ManifestRetentionLoss(BaseModel):
    """Records of one partition Kafka's retention deleted before the group read them."""

    topic: str
    partition: int
    committed: int
    log_start: int
    records: int


class RunManifest(BaseModel):
    """`_runs/<run_id>.json`: what a committed run read and wrote (docs/schema.md)."""

    # Written by newsbeam only; a newer release may add fields, which an older reader keeps.
    model_config = ConfigDict(extra="allow")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    run_id: str
    group_id: str
    finished_at: str
    offsets: list[ManifestRange] = Field(default_factory=list)
    files: list[ManifestFile] = Field(default_factory=list)
    rows: dict[str, int] = Field(default_factory=dict)
    counters: dict[str, int] = Field(default_factory=dict)
    retention_lost: list[ManifestRetentionLoss] = Field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(self.model_dump(), indent=2, sort_keys=True).encode()


def manifest_key(settings: s3.S3Settings, run_id: str) -> str:
    return settings.key(RUNS_DIR, f"{run_id}.json")


def write_manifest(settings: s3.S3Settings, manifest: RunManifest) -> str:
    """Commits the run: from now on its files are part of the tables."""
    key = manifest_key(settings, manifest.run_id)
    s3.client(settings).put_object(Bucket=settings.bucket, Key=key, Body=manifest.to_json(),
                                   ContentType="application/json")
    return key


def read_manifest(settings: s3.S3Settings, run_id: str) -> RunManifest:
    body = s3.client(settings).get_object(Bucket=settings.bucket, Key=manifest_key(settings, run_id))["Body"]
    return RunManifest.model_validate_json(body.read())


def _manifest_objects(settings: s3.S3Settings) -> list[dict]:
    return [o for o in s3.list_keys(settings, settings.key(RUNS_DIR) + "/") if o["Key"].endswith(".json")]


def manifest_times(settings: s3.S3Settings) -> dict[str, datetime]:
    """Run id -> Last-Modified of its manifest (S3's clock), from one listing."""
    return {o["Key"].rsplit("/", 1)[-1].removesuffix(".json"): o["LastModified"]
            for o in _manifest_objects(settings)}


def committed_runs(settings: s3.S3Settings) -> set[str]:
    return {o["Key"].rsplit("/", 1)[-1].removesuffix(".json") for o in _manifest_objects(settings)}


def committed_run_times(settings: s3.S3Settings) -> dict[str, datetime]:
    """Committed runs and when S3 stored their manifests (S3's clock, aware UTC)."""
    return {o["Key"].rsplit("/", 1)[-1].removesuffix(".json"): o["LastModified"]
            for o in _manifest_objects(settings)}


def latest_manifest(settings: s3.S3Settings) -> tuple[int, RunManifest | None]:
    """(number of committed runs, the manifest written last or None)."""
    objects = _manifest_objects(settings)
    if not objects:
        return 0, None
    newest = max(objects, key=lambda o: o["LastModified"])
    run_id = newest["Key"].rsplit("/", 1)[-1].removesuffix(".json")
    return len(objects), read_manifest(settings, run_id)


# ----------------------------------------------------------------------------- counters
# Not every runner keeps Beam metrics (the DaskRunner reports none), so the job writes its
# counters as one object; the launcher reads them into the manifest and deletes the object. One a
# run left behind (it died before its manifest) is deleted by the next run with the other leftovers.
def counters_key(settings: s3.S3Settings, run_id: str) -> str:
    return settings.key(COUNTERS_DIR, f"{run_id}.json")


def write_counters(settings: s3.S3Settings, run_id: str, counts: dict[str, int]) -> str:
    key = counters_key(settings, run_id)
    try:
        s3.client(settings).put_object(Bucket=settings.bucket, Key=key,
                                       Body=json.dumps(counts, sort_keys=True).encode(),
                                       ContentType="application/json")
    except Exception as exc:
        raise S3Unavailable(f"S3 write failed at {s3.describe_endpoint(settings)} for {key}: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    return key


def read_counters(settings: s3.S3Settings, run_id: str) -> dict[str, int]:
    key = counters_key(settings, run_id)
    try:
        body = s3.client(settings).get_object(Bucket=settings.bucket, Key=key)["Body"].read()
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise CountersMissing(f"the pipeline finished without writing {settings.url(key)}") from None
        raise
    return {k: int(v) for k, v in json.loads(body).items()}


def delete_counters(settings: s3.S3Settings, run_ids: list[str] | None = None) -> list[str]:
    """Delete the counters of ``run_ids`` (None: every counters object); returns the keys."""
    if run_ids is None:
        keys = [k["Key"] for k in s3.list_keys(settings, settings.key(COUNTERS_DIR) + "/")]
    else:
        keys = [counters_key(settings, r) for r in run_ids]
    if keys:
        s3.delete_keys(settings, keys)
    return keys
