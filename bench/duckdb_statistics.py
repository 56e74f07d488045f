"""Cost of `SET disabled_optimizers = 'statistics_propagation'` (connectors/duckdb_s3.py turns it
off: DuckDB 1.5.x crashes on min/max of the `dt` partition column over one file).

    .venv/bin/python bench/duckdb_statistics.py [--repeats 5] [--rows 200000] [--days 10]

Builds an `articles`-like Hive-partitioned Parquet table in a temporary folder (local disk, so
S3 latency does not hide the planner), then times typical `newsbeam query` statements with the
optimizer on (baseline) and off, alternating in the same run. Python's perf_counter; medians of
``--repeats`` passes; ratio = off / on (1.00 = no cost).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "SELECT language, count(*), avg(word_count) FROM a GROUP BY 1",
    "SELECT count(*) FROM a WHERE dt >= '2025-01-15'",
    "SELECT max(word_count), min(item_id) FROM a WHERE word_count > 2900",
    "SELECT dt, count(*) FROM a GROUP BY dt ORDER BY 1",
    "SELECT count(DISTINCT item_id) FROM a",
]


def build(root: Path, rows: int, days: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(7)
    for day in range(days):
        folder = root / f"dt=2025-01-{day + 10:02d}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({
            "item_id": [f"i{day}-{i}" for i in range(rows)],
            "word_count": pa.array([rng.randint(0, 3000) for _ in range(rows)], pa.int32()),
            "language": [rng.choice(["en", "de", "fr"]) for _ in range(rows)],
            "text": ["x" * rng.randint(10, 200) for _ in range(rows)]}), folder / "part.parquet")


def timings(root: Path, optimizer_off: bool) -> list[float]:
    import duckdb

    con = duckdb.connect()
    if optimizer_off:
        con.execute("SET disabled_optimizers = 'statistics_propagation'")
    con.execute(f"CREATE VIEW a AS SELECT * FROM read_parquet('{root}/dt=*/*.parquet', hive_partitioning = true)")
    out = []
    for sql in QUERIES:
        started = time.perf_counter()
        con.execute(sql).fetchall()
        out.append(time.perf_counter() - started)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000, help="rows per dt partition")
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "articles"
        build(root, args.rows, args.days)
        runs = {False: [], True: []}
        for _ in range(args.repeats):
            for off in (False, True):
                runs[off].append(timings(root, off))
    print(f"{args.days} files x {args.rows} rows, medians of {args.repeats}\n")
    print("| query | on ms | off ms | off/on |\n|---|---:|---:|---:|")
    for i, sql in enumerate(QUERIES):
        on = statistics.median(r[i] for r in runs[False])
        off = statistics.median(r[i] for r in runs[True])
        print(f"| `{sql}` | {on * 1000:.1f} | {off * 1000:.1f} | {off / on:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
