"""Writing the run's tables to S3 as Parquet, one file per (table, dt, shard).

File names come from the run ledger (connectors/run_ledger.py: the run id and shard), so a
rerun of the same offsets overwrites its own files instead of adding rows. An S3 object appears
only when its upload completes, so readers never see a partial file; files of a run that never
wrote its manifest are removed by the next run.
"""
from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.transforms.window import GlobalWindows

from connectors import s3, tables
from connectors.errors import S3Unavailable
from connectors.run_ledger import file_key

FileKey = tuple  # (table, dt, shard): one output file


def file_of(table: str, row: dict, shards: dict[str, int]) -> FileKey:
    """The file a row belongs to: its table, its `dt=` partition, its shard."""
    return (table, tables.partition_date(row),
            tables.shard_of(tables.shard_key(table, row), shards.get(table, 1)))


class _ArrowChunksFn(beam.DoFn):
    """(table, row) -> (file key, Arrow table of up to ``chunk_rows`` of its rows).

    Rows become Arrow in the worker that made them (for the extraction, the NLP workers), so
    the shuffle to the writers carries a few columnar chunks per file instead of every row as
    a pickled dict, and the runner no longer decodes and regroups tens of thousands of rows.
    """

    def __init__(self, shards: dict[str, int], chunk_rows: int = 5000):
        self._shards, self._chunk_rows = shards, chunk_rows

    def start_bundle(self):
        self._pending: dict[FileKey, list[dict]] = {}

    def process(self, table_row):
        table, row = table_row
        key = file_of(table, row, self._shards)
        rows = self._pending.setdefault(key, [])
        rows.append(row)
        if len(rows) >= self._chunk_rows:
            del self._pending[key]
            yield key, tables.rows_to_arrow(table, rows)

    def finish_bundle(self):
        for key, rows in self._pending.items():
            yield GlobalWindows.windowed_value((key, tables.rows_to_arrow(key[0], rows)))
        self._pending = {}


class _WriteFileFn(beam.DoFn):
    """(file key, [Arrow chunks]) -> writes one sorted Parquet file -> yields (table, key, rows)."""

    def __init__(self, settings: s3.S3Settings, run_id: str):
        self._settings = settings
        self._run_id = run_id
        self._fs = None

    def setup(self):
        self._fs = s3.filesystem(self._settings)

    def process(self, element):
        (table, dt, shard), chunks = element
        data = tables.sort_rows(table, pa.concat_tables(list(chunks)))
        key = file_key(self._settings, table, dt, self._run_id, shard)
        try:
            pq.write_table(data, f"{self._settings.bucket}/{key}", filesystem=self._fs,
                           compression="zstd")
        except OSError as exc:
            raise S3Unavailable(f"S3 write failed at {s3.describe_endpoint(self._settings)} "
                                   f"for {key}: {exc}") from None
        yield table, key, data.num_rows


class WriteTables(beam.PTransform):
    """PCollection[(table_name, row_dict)], or a tuple of them -> files on S3; outputs
    (table, key, row_count).

    ``shards``: files per table and dt (``tables.shards_for``); a table not named gets one.
    Each input is turned into Arrow chunks where it is produced, before any shuffle: pass
    several row sources as a tuple rather than flattening them first (a Flatten is a
    materialised step on the portable runners, i.e. one more pass over every row).
    """

    def __init__(self, settings: s3.S3Settings, run_id: str, shards: dict[str, int]):
        super().__init__()
        self._settings = settings
        self._run_id = run_id
        self._shards = shards

    def expand(self, rows):
        sources = rows if isinstance(rows, (tuple, list)) else (rows,)
        # each source: (table, row) -> (file key, Arrow chunk), in the producing stage
        chunks = [source | f"ToArrow{i}" >> beam.ParDo(_ArrowChunksFn(self._shards))
                  for i, source in enumerate(sources)]
        return (chunks
                | "Chunks" >> beam.Flatten()
                # (file key, [chunk, ...]): one group per output file
                | "GroupByFile" >> beam.GroupByKey()
                | "WriteFile" >> beam.ParDo(_WriteFileFn(self._settings, self._run_id)))
