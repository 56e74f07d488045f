"""Writing the run's tables to S3 as Parquet, one file per (table, dt, shard).

File names carry the run id and shard: `<prefix>/<table>/dt=<YYYY-MM-DD>/part-<run_id>-<shard>.parquet`.
The same offsets give the same run id and the same sharding, so a rerun overwrites its own files
instead of adding rows. An S3 object appears only when its upload completes, so readers never see
a partial file; files of a run that never wrote its manifest are removed by the next run.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import apache_beam as beam
import pyarrow.parquet as pq

from connectors import s3, tables

FILE_RE = re.compile(r"/(?P<table>[a-z_]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/part-(?P<run>[0-9a-f]{16})-(?P<shard>\d{5})\.parquet$")


def file_key(settings: s3.S3Settings, table: str, dt: str, run_id: str, shard: int) -> str:
    return settings.key(table, f"dt={dt}", f"part-{run_id}-{shard:05d}.parquet")


def manifest_key(settings: s3.S3Settings, run_id: str) -> str:
    return settings.key("_runs", f"{run_id}.json")


def parse_file_key(key: str) -> dict | None:
    m = FILE_RE.search("/" + key)
    return m.groupdict() if m else None


class _WriteFileFn(beam.DoFn):
    """((table, dt, shard), rows) -> writes one Parquet file -> yields (table, key, rows)."""

    def __init__(self, settings: s3.S3Settings, run_id: str):
        self._settings = settings
        self._run_id = run_id
        self._fs = None

    def setup(self):
        self._fs = s3.filesystem(self._settings)

    def process(self, element):
        (table, dt, shard), rows = element
        rows = list(rows)
        key = file_key(self._settings, table, dt, self._run_id, shard)
        try:
            pq.write_table(tables.to_arrow(table, rows), f"{self._settings.bucket}/{key}",
                           filesystem=self._fs, compression="zstd")
        except OSError as exc:
            raise s3.S3Unavailable(f"S3 write failed at {s3.describe_endpoint(self._settings)} "
                                   f"for {key}: {exc}") from None
        yield table, key, len(rows)


class WriteTables(beam.PTransform):
    """PCollection[(table_name, row_dict)] -> files on S3; outputs (table, key, row_count).

    ``shards``: files per table and dt (``tables.shards_for``); a table not named gets one.
    """

    def __init__(self, settings: s3.S3Settings, run_id: str, shards: dict[str, int]):
        super().__init__()
        self._settings = settings
        self._run_id = run_id
        self._shards = shards

    def expand(self, rows):
        shards = self._shards
        return (rows
                # (table, row) -> ((table, dt, shard), row): one group per output file
                | "KeyByFile" >> beam.Map(lambda tr: ((tr[0], tables.partition_date(tr[1]),
                                                       tables.shard_of(tables.shard_key(*tr),
                                                                       shards.get(tr[0], 1))),
                                                      tr[1]))
                | "GroupByFile" >> beam.GroupByKey()
                | "WriteFile" >> beam.ParDo(_WriteFileFn(self._settings, self._run_id)))


@dataclass
class RunFile:
    table: str
    key: str
    rows: int


def files_of_run(settings: s3.S3Settings, run_id: str) -> list[RunFile]:
    """The data files a run wrote, with row counts from the Parquet footers."""
    fs = s3.filesystem(settings)
    return [RunFile(f["table"], f["key"],
                    pq.read_metadata(f"{settings.bucket}/{f['key']}", filesystem=fs).num_rows)
            for f in sorted(data_files(settings), key=lambda f: f["key"]) if f["run"] == run_id]


def write_manifest(settings: s3.S3Settings, run_id: str, body: dict) -> str:
    key = manifest_key(settings, run_id)
    s3.client(settings).put_object(Bucket=settings.bucket, Key=key,
                                   Body=json.dumps(body, indent=2, sort_keys=True).encode(),
                                   ContentType="application/json")
    return key


def committed_runs(settings: s3.S3Settings) -> set[str]:
    keys = s3.list_keys(settings, settings.key("_runs") + "/")
    return {k["Key"].rsplit("/", 1)[-1].removesuffix(".json") for k in keys if k["Key"].endswith(".json")}


def data_files(settings: s3.S3Settings) -> list[dict]:
    """Every data file of every table: dicts with key, table, dt, run, shard."""
    out = []
    for table in tables.SCHEMAS:
        for obj in s3.list_keys(settings, settings.key(table) + "/"):
            info = parse_file_key(obj["Key"])
            if info:
                out.append({"key": obj["Key"], **info})
    return out


def remove_uncommitted(settings: s3.S3Settings, files: list[dict], done: set[str]) -> list[str]:
    """Delete the files (from data_files) of runs not in `done` (crashed runs); returns their keys."""
    orphans = [f["key"] for f in files if f["run"] not in done]
    if orphans:
        s3.delete_keys(settings, orphans)
    return orphans
