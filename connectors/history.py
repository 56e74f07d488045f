"""What earlier runs wrote, as dedup needs it: the `articles`, `rejects` and `duplicates` rows
of committed runs in the last `pipeline.history_days` dt= partitions.

`history_files` picks the files (plain function over the run ledger's listing); `ReadHistory`
reads them in the Beam run, only the columns dedup uses (a file written before a column existed
simply lacks it).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from connectors import s3
from connectors.run_ledger import DataFile, parse_file_key
from transforms.outputs import WithOutputs

ARTICLES, REJECTS, DUPLICATES = "articles", "rejects", "duplicates"
COORDS = ["kafka_topic", "kafka_partition", "kafka_offset"]
COLUMNS = {ARTICLES: ["item_id", "url", "content_hash", "story_id", *COORDS, "minhash"],
           REJECTS: [*COORDS, "stage"],
           DUPLICATES: COORDS}


def history_files(files: list[DataFile], committed: set[str], days: int,
                  today: datetime | None = None) -> list[str]:
    """Keys of the files of committed runs in the last `days` dt partitions that dedup checks."""
    today = today or datetime.now(timezone.utc)
    oldest = (today - timedelta(days=days)).strftime("%Y-%m-%d")
    return sorted(f.key for f in files if f.table in COLUMNS and f.run in committed and f.dt >= oldest)


class _ReadHistoryFn(beam.DoFn):
    """Key of an earlier run's file -> its rows (main output articles, tagged rejects and
    duplicates)."""

    def __init__(self, settings: s3.S3Settings):
        self._settings = settings
        self._fs = None

    def process(self, key: str):
        import pyarrow.parquet as pq

        if self._fs is None:  # on first use: a run without history never starts an S3 client
            self._fs = s3.filesystem(self._settings)
        table = parse_file_key(key).table
        path = f"{self._settings.bucket}/{key}"
        present = set(pq.read_schema(path, filesystem=self._fs).names)
        rows = pq.read_table(path, columns=[c for c in COLUMNS[table] if c in present],
                             filesystem=self._fs).to_pylist()
        for row in rows:
            yield row if table == ARTICLES else TaggedOutput(table, row)


class ReadHistory(beam.PTransform):
    """PBegin -> outputs ``articles``, ``rejects`` and ``duplicates``: the rows of the given
    history files."""

    def __init__(self, settings: s3.S3Settings, keys: list[str] | tuple[str, ...]):
        super().__init__()
        self._settings, self._keys = settings, list(keys)

    def expand(self, pbegin):
        return (pbegin
                | "HistoryFiles" >> beam.Create(self._keys)
                | "ReadFiles" >> WithOutputs(_ReadHistoryFn(self._settings), REJECTS, DUPLICATES,
                                             main=ARTICLES))
