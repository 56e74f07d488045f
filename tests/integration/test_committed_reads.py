"""After a crash, readers see committed rows only: `newsbeam query`, and the symlink manifests
the documented DuckDB / Athena recipes read. Real Kafka, real S3, a real SIGKILL."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import time

from connectors import committed_files, duckdb_s3, run_ledger, s3
from pipeline.run import execute
from stackutil import committed_rows, feed_item, manifests, newsbeam, produce, read_table, run_env

TEXT = "The port authority reported record container traffic for the month of March. " * 3


def _light(cfg):
    return cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(update={"nlp_enabled": False})})


def _query(cfg, sql: str) -> list[str]:
    proc = subprocess.run(newsbeam("query", "--format", "csv", sql), env=run_env(cfg), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return ["\t".join(row) for row in csv.reader(proc.stdout.strip().splitlines()[1:])]


def _symlinked_count(ss: s3.S3Settings, table: str) -> int:
    """The DuckDB recipe of docs/schema.md: files from the symlink manifests, then their rows."""
    con = duckdb_s3.connect(ss)
    con.execute(f"SET VARIABLE files = (SELECT list(column0) FROM read_csv("
                f"'{ss.url(ss.key('_symlink', table, 'dt=*', 'manifest'))}', header = false, "
                f"columns = {{'column0': 'VARCHAR'}}))")
    return con.execute("SELECT count(*) FROM read_parquet(getvariable('files'), hive_partitioning = true)").fetchone()[0]


def test_query_after_a_crash_counts_committed_rows_only(stack_config, tmp_path):
    cfg = _light(stack_config)
    ss = s3.S3Settings.from_config(cfg.s3)
    produce(cfg, [feed_item(f"first-{i:02d}", TEXT + f"Berth {i}.") for i in range(20)])
    execute(cfg)
    assert _query(cfg, "SELECT count(*) FROM articles") == ["20"]

    produce(cfg, [feed_item(f"second-{i:02d}", TEXT + f"Crane {i}, shift {i * 3}.") for i in range(60)])
    env = run_env(cfg, PIPELINE__ROWS_PER_FILE="1")  # many uploads: the kill lands between them
    crashed = subprocess.Popen(newsbeam("run"), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    first = set(manifests(cfg))
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and crashed.poll() is None:
        if len({f.run for f in run_ledger.data_files(ss)}) > 1 and \
                len([f for f in run_ledger.data_files(ss) if f.run not in first]) >= 5:
            break
        time.sleep(0.05)
    os.killpg(crashed.pid, signal.SIGKILL)
    crashed.wait(timeout=30)
    assert set(manifests(cfg)) == first, "killed before its manifest"
    uncommitted = len(read_table(cfg, "articles")) - 20
    assert uncommitted >= 5, "a dt=* glob would count the crashed run's rows"

    assert _query(cfg, "SELECT count(*) FROM articles") == ["20"]
    assert _query(cfg, "SELECT count(DISTINCT item_id) FROM articles WHERE item_id LIKE 'second-%'") == ["0"]
    assert _symlinked_count(ss, "articles") == 20
    links = committed_files.symlink_times(ss)
    assert set(links) == {("articles", f.dt) for f in run_ledger.data_files(ss) if f.run in first}

    # The next run removes the orphans and publishes its own rows: now 80, each once.
    summary = execute(cfg)
    assert summary.removed_orphans >= 5
    assert _query(cfg, "SELECT count(*), count(DISTINCT item_id) FROM articles") == ["80\t80"]
    assert _symlinked_count(ss, "articles") == 80 == len(committed_rows(cfg, "articles"))
