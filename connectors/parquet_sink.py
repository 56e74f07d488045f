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

from apache_beam.pvalue import TaggedOutput

from connectors import s3, tables
from connectors.errors import S3Unavailable
from connectors.run_ledger import file_key
from transforms.outputs import WithOutputs
from transforms.rows import error_line, write_reject

WRITTEN, REJECTED = "written", "rejected"

FileKey = tuple  # (table, dt, shard): one output file


def file_of(table: str, row: dict, shards: dict[str, int]) -> FileKey:
    """The file a row belongs to: its table, its `dt=` partition, its shard."""
    return (table, tables.partition_date(row),
            tables.shard_of(tables.shard_key(table, row), shards.get(table, 1)))


class _ToFilesFn(beam.DoFn):
    """Rows -> (file key, value) for the writer's GroupByKey.

    An element that is a list of (table, row) - e.g. the rows of one NLP batch - becomes one Arrow
    table per file it touches, here, in the worker that made the rows: the shuffle to the writers
    carries a few columnar chunks instead of every row as a pickled dict. A single (table, row)
    goes as it is, once it is known to convert. Nothing is held across elements: what a DoFn
    emits at the end of a bundle is lost on some runners (Beam's DaskRunner).

    A row that has no file (no `dt=` partition) or that Arrow cannot convert becomes a `rejects`
    row at stage `write` (``transforms.rows.write_reject``) instead of failing the run: a chunk
    that does not convert is converted row by row to find it. The reject goes to the rejects
    file, and out under REJECTED to be counted.
    """

    def __init__(self, shards: dict[str, int], chunk_rows: int = 5000):
        self._shards, self._chunk_rows = shards, chunk_rows

    def process(self, element):
        if not isinstance(element, list):
            table, row = element
            try:
                key = file_of(table, row, self._shards)
                tables.rows_to_arrow(table, [row])  # a bad row fails here, not in the writer
            except Exception as exc:
                yield from self._reject(table, row, error_line(exc))
                return
            yield key, row
            return
        by_file: dict[FileKey, list[dict]] = {}
        for table, row in element:
            try:
                key = file_of(table, row, self._shards)
            except Exception as exc:
                yield from self._reject(table, row, error_line(exc))
                continue
            by_file.setdefault(key, []).append(row)
        for key, rows in by_file.items():
            for i in range(0, len(rows), self._chunk_rows):
                data, bad = tables.rows_to_arrow_isolating(key[0], rows[i:i + self._chunk_rows])
                if data is not None:
                    yield key, data
                for row, reason in bad:
                    yield from self._reject(key[0], row, reason)

    def _reject(self, table: str, row: dict, reason: str):
        if table == "rejects":  # write_reject rows always convert: never loop on one
            raise ValueError(f"a rejects row cannot be written: {reason}")
        reject = write_reject(table, row, reason)
        yield file_of("rejects", reject, self._shards), reject
        yield TaggedOutput(REJECTED, reject)


def file_table(table: str, values) -> pa.Table:
    """What one file holds: its Arrow chunks and single rows (from ``_ToFilesFn``), sorted."""
    chunks, rows = [], []
    for value in values:
        (chunks if isinstance(value, pa.Table) else rows).append(value)
    if rows:
        chunks.append(tables.rows_to_arrow(table, rows))
    return tables.sort_rows(table, pa.concat_tables(chunks))


class _WriteFileFn(beam.DoFn):
    """(file key, [Arrow chunks]) -> writes one sorted Parquet file -> yields (table, key, rows)."""

    def __init__(self, settings: s3.S3Settings, run_id: str):
        self._settings = settings
        self._run_id = run_id
        self._fs = None

    def setup(self):
        self._fs = s3.filesystem(self._settings)

    def process(self, element):
        (table, dt, shard), values = element
        data = file_table(table, values)
        key = file_key(self._settings, table, dt, self._run_id, shard)
        try:
            pq.write_table(data, f"{self._settings.bucket}/{key}", filesystem=self._fs,
                           compression="zstd")
        except OSError as exc:
            raise S3Unavailable(f"S3 write failed at {s3.describe_endpoint(self._settings)} "
                                   f"for {key}: {exc}") from None
        yield table, key, data.num_rows


class WriteTables(beam.PTransform):
    """PCollection of (table_name, row_dict) or of lists of them, or a tuple of such
    PCollections -> files on S3; outputs ``written`` ((table, key, row_count) per file) and
    ``rejected`` (the `rejects` rows of stage `write`, also written, for counting).

    ``shards``: files per table and dt (``tables.shards_for``); a table not named gets one.
    Lists of rows are turned into Arrow chunks where they are produced, before any shuffle: pass
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
        # each source: rows -> (file key, Arrow chunk or row), in the producing stage
        parts = [source | f"ToArrow{i}" >> WithOutputs(_ToFilesFn(self._shards), REJECTED, main="chunks")
                 for i, source in enumerate(sources)]
        written = ([part["chunks"] for part in parts]
                   | "Chunks" >> beam.Flatten()
                   # (file key, [chunk, ...]): one group per output file
                   | "GroupByFile" >> beam.GroupByKey()
                   | "WriteFile" >> beam.ParDo(_WriteFileFn(self._settings, self._run_id)))
        rejected = [part[REJECTED] for part in parts] | "WriteRejects" >> beam.Flatten()
        return {WRITTEN: written, REJECTED: rejected}
