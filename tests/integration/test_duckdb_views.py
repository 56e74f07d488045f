"""DuckDB views over the real S3 (connectors/duckdb_s3.py)."""
from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq

from connectors import duckdb_s3, run_ledger, s3, tables
from stackutil import commit_run


def _put(ss: s3.S3Settings, table: str, day: str, rows: list[dict], shard: int = 0) -> None:
    key = run_ledger.file_key(ss, table, day, "0123456789abcdef", shard)
    pq.write_table(tables.to_arrow(table, rows), f"{ss.bucket}/{key}", filesystem=s3.filesystem(ss))
    commit_run(ss, "0123456789abcdef")


def test_min_and_max_of_dt_over_a_single_file(stack_config):
    """DuckDB 1.5.5 raised an INTERNAL Error (and invalidated the connection) here."""
    ss = s3.S3Settings.from_config(stack_config.s3)
    _put(ss, "quotes", "2025-01-28", [{"item_id": "a", "quote_index": 0, "text": "x",
                                       "fetched_at": "2025-01-28T10:00:00Z"}])
    con, present = duckdb_s3.connect_with_views(ss, ["quotes"])
    assert present == {"quotes"}
    day = dt.date(2025, 1, 28)
    assert con.execute("SELECT min(dt), max(dt) FROM quotes").fetchall() == [(day, day)]
    assert con.execute("SELECT count(*), max(dt) FROM quotes WHERE dt < '2025-02-01'").fetchall() == [(1, day)]


def test_timestamps_read_in_utc_whatever_the_machine_zone(stack_config):
    """DuckDB takes the zone of the process (TZ) when it starts: a subprocess in Los Angeles."""
    import json
    import os
    import subprocess
    import sys

    ss = s3.S3Settings.from_config(stack_config.s3)
    _put(ss, "articles", "2025-01-28", [{"item_id": "a", "fetched_at": "2025-01-28T23:30:00Z"}])
    code = ("import json, sys; from connectors import duckdb_s3, s3; "
            "con, _ = duckdb_s3.connect_with_views(s3.S3Settings(*json.loads(sys.argv[1])), ['articles']); "
            "print(con.execute('SELECT CAST(fetched_at AS VARCHAR) FROM articles').fetchone()[0])")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(list(vars(ss).values()))],
                          env={**os.environ, "TZ": "America/Los_Angeles"}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2025-01-28 23:30:00+00"


def test_quotes_written_before_the_offset_rename_read_as_start_char(stack_config):
    """A file with `start`/`end` (before the rename) next to one with `start_char`/`end_char`: the
    `quotes` view of `newsbeam query` shows one pair of columns with both files' values."""
    import pyarrow as pa

    ss = s3.S3Settings.from_config(stack_config.s3)
    old = pa.table({"item_id": ["old"], "quote_index": pa.array([0], pa.int32()),
                    "start": pa.array([1], pa.int32()), "end": pa.array([5], pa.int32()), "text": ["past"],
                    "fetched_at": pa.array([dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)], tables.TS)})
    key = run_ledger.file_key(ss, "quotes", "2025-01-01", "fedcba9876543210", 0)
    pq.write_table(old, f"{ss.bucket}/{key}", filesystem=s3.filesystem(ss))
    commit_run(ss, "fedcba9876543210")
    con, _ = duckdb_s3.connect_with_views(ss, ["quotes"])
    assert con.execute("SELECT item_id, start_char, end_char FROM quotes").fetchall() == [("old", 1, 5)]

    _put(ss, "quotes", "2025-02-01", [{"item_id": "new", "quote_index": 0, "start_char": 7, "end_char": 12,
                                       "text": "today", "fetched_at": "2025-02-01T10:00:00Z"}])
    con, _ = duckdb_s3.connect_with_views(ss, ["quotes"])
    assert con.execute("SELECT item_id, start_char, end_char FROM quotes ORDER BY 1").fetchall() == \
        [("new", 7, 12), ("old", 1, 5)]
    columns = [r[0] for r in con.execute("DESCRIBE quotes").fetchall()]
    assert "start" not in columns and "end" not in columns and columns.count("start_char") == 1
