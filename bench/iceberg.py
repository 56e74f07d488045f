"""Cost of the Iceberg step of a run, and of `newsbeam compact`, on the local stack.

A run with a catalog does one more thing after its manifest: register every committed run not
yet in the five tables (connectors/iceberg_register.py). This measures that step for one new run
(5 tables, one file each) as the tables' history grows (0, 96, 288 earlier runs: none, one day
and three days of a 15-minute schedule), against the baseline of the same run's existing
commit work measured in the same process: reading its files' footers (`files_of_run`) and
writing its manifest. Then the time `compact` takes for one day of 96 small files per table.

    .venv/bin/python bench/iceberg.py [--repeat 5]

Needs the local stack (NEWSBEAM_S3_PORT). Python's own timers, medians of --repeat runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402

from connectors import iceberg_register, run_ledger, s3, tables  # noqa: E402
from connectors.iceberg_catalog import Catalog  # noqa: E402
from connectors.iceberg_compact import compact  # noqa: E402
from connectors.iceberg_config import IcebergConfig  # noqa: E402

ROWS = 40  # rows per file, like a 15-minute run of a few hundred feeds


def settings(prefix: str) -> s3.S3Settings:
    port = os.environ.get("NEWSBEAM_S3_PORT", "8333")
    return s3.S3Settings("newsbeam", prefix, f"http://127.0.0.1:{port}", "us-east-1", "newsbeam",
                         "newsbeam-local-secret", 5, 30, 3)


def write_run(ss: s3.S3Settings, fs, run_id: str, day: str, offset: int) -> float:
    """The run's files, then the baseline: its footers read and its manifest written (seconds)."""
    for t in run_ledger.ALL_TABLES:
        rows = [{"item_id": f"{run_id}-{i}", "fetched_at": f"{day}T06:00:00Z", "run_id": run_id,
                 "kafka_topic": "t", "kafka_partition": 0, "kafka_offset": offset + i, "url": "u",
                 "text": "x" * 400, "stage": "decode", "canonical": "c", "reason": "r"} for i in range(ROWS)]
        pq.write_table(tables.to_arrow(t, rows), f"{ss.bucket}/{run_ledger.file_key(ss, t, day, run_id, 0)}",
                       filesystem=fs, compression="zstd")
    started = time.perf_counter()
    files = run_ledger.files_of_run(ss, run_id)
    run_ledger.write_manifest(ss, run_ledger.RunManifest(
        run_id=run_id, group_id="bench", finished_at=day,
        offsets=[{"topic": "t", "partition": 0, "start": offset, "end": offset + ROWS}],
        files=[{"table": f.table, "key": f.key, "rows": f.rows} for f in files]))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ss = settings(f"bench/iceberg-{uuid.uuid4().hex[:8]}")
    fs = s3.filesystem(ss)
    tmp = tempfile.mkdtemp(prefix="newsbeam-bench-iceberg-")
    cfg = IcebergConfig(catalog="sql", sqlite_path=f"{tmp}/catalog.sqlite3")
    day = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%d")
    offset, history = 0, 0
    print(f"{'earlier runs':>12} {'register s':>11} {'baseline s':>11} {'ratio':>6}")
    with Catalog(cfg, ss, writer=True) as cat:
        for target in (0, 96, 288):
            while history < target:  # build the history, registered in batches like a catch-up
                for _ in range(min(48, target - history)):
                    write_run(ss, fs, uuid.uuid4().hex[:16], day, offset)
                    offset += ROWS
                    history += 1
                iceberg_register.register_committed(cat, ss)
            register, baseline = [], []
            for _ in range(args.repeat):
                run_id = uuid.uuid4().hex[:16]
                baseline.append(write_run(ss, fs, run_id, day, offset))
                offset += ROWS
                started = time.perf_counter()
                iceberg_register.register_committed(cat, ss)
                register.append(time.perf_counter() - started)
                history += 1
            r, b = statistics.median(register), statistics.median(baseline)
            print(f"{target:>12} {r:>11.3f} {b:>11.3f} {r / b:>6.1f}")
        started = time.perf_counter()
        results = compact(cat, ss, run_ledger.ALL_TABLES, timedelta(days=1), timedelta(hours=168))
        seconds = time.perf_counter() - started
    files = sum(r.rewritten for r in results)
    print(f"compact: {files} files of one day in 5 tables -> {sum(r.written for r in results)} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
