"""`newsbeam run --continuous` against the real local Kafka and SeaweedFS S3: micro-batches as
records arrive, each a committed run; SIGTERM stops it between batches without losing or
duplicating anything."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from connectors import run_ledger, s3
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, manifests, produce, read_table

TEXT = ("The minister said on Monday that the new rail line would open next spring. "
        "\"We are on time and on budget,\" she told reporters in the capital. ")


def _env(cfg, tmp_path, **extra) -> dict:
    return {**os.environ,
            "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
            "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
            "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
            "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock"),
            "NEWSBEAM_PIPELINE__CONTINUOUS_IDLE_SECONDS": "0.5",
            "NEWSBEAM_ALERTS__LEDGER_PATH": str(tmp_path / "alerts.sqlite"), **extra}


def _start(cfg, tmp_path, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                             "run", "--continuous"], env=_env(cfg, tmp_path, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(predicate, proc, what: str, timeout: float = 240.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the continuous run exited ({proc.returncode}) while waiting for {what}: "
                                 f"{proc.stderr.read()[-2000:]}")
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _ids(cfg):
    return sorted(r["item_id"] for r in read_table(cfg, "articles"))


def test_items_arriving_while_it_runs_each_land_once_with_quotes(stack_config, tmp_path):
    cfg = stack_config
    produce(cfg, [feed_item(f"c-{i}", TEXT + f"Story {i}.") for i in range(3)])
    proc = _start(cfg, tmp_path)
    try:
        _wait_for(lambda: _ids(cfg) == ["c-0", "c-1", "c-2"], proc, "the first three items")
        # Arrivals after the first micro-batch: picked up by later ones, without a restart.
        produce(cfg, [feed_item(f"c-{i}", TEXT + f"Story {i}.") for i in range(3, 5)])
        _wait_for(lambda: _ids(cfg) == [f"c-{i}" for i in range(5)], proc, "the two later items")
        _wait_for(lambda: sum(v or 0 for v in committed_offsets(cfg).values()) == 5, proc, "the commit")
    finally:
        code, out, err = _stop(proc)
    assert code == 0, err[-2000:]
    assert "stopped after" in out and out.count("records ->") >= 2  # one summary line per micro-batch
    quotes = read_table(cfg, "quotes")
    assert sorted({q["item_id"] for q in quotes}) == [f"c-{i}" for i in range(5)]  # NLP ran in each batch
    ss = s3.S3Settings.from_config(cfg.s3)
    files = run_ledger.data_files(ss)
    assert {f.run for f in files} == set(manifests(cfg)) and len(manifests(cfg)) >= 2
    assert execute(cfg).status == "nothing to do"


def test_sigterm_during_a_micro_batch_finishes_and_commits_it(stack_config, tmp_path):
    cfg = stack_config
    n = 40
    produce(cfg, [feed_item(f"t-{i:03d}", TEXT + f"Article {i} ends {i * 13}.") for i in range(n)])
    ss = s3.S3Settings.from_config(cfg.s3)
    # No NLP and one file per row: the batch is still writing when the signal arrives.
    proc = _start(cfg, tmp_path, NEWSBEAM_PIPELINE__NLP_ENABLED="false", NEWSBEAM_PIPELINE__ROWS_PER_FILE="1")
    try:
        _wait_for(lambda: run_ledger.data_files(ss), proc, "the first file of the batch")
    finally:
        code, out, err = _stop(proc)
    assert code == 0, err[-2000:]
    runs = manifests(cfg)
    assert len(runs) == 1, "the batch in flight finished and wrote its manifest"
    assert {f.run for f in run_ledger.data_files(ss)} == set(runs)
    assert _ids(cfg) == [f"t-{i:03d}" for i in range(n)]
    assert sum(v or 0 for v in committed_offsets(cfg).values()) == n


def test_continuous_refuses_a_backfill_start(stack_config, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                           "run", "--continuous", "--since", "2025-01-01"], env=_env(stack_config, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--continuous cannot start with a backfill" in proc.stderr
