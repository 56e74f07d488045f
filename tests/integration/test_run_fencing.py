"""Two runs on one consumer group, from different working directories and lock files (as two
hosts, or a CronJob overlapping a manual backfill): every item lands exactly once.

The guard is the group's claim on the real S3 (connectors/run_claim.py); the local lock files
differ on purpose, so they cannot help.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest

from connectors import run_ledger, s3
from connectors.errors import RunFenced, RunLocked
from pipeline.run import execute
from stackutil import (committed_offsets, committed_rows, feed_item, manifests, newsbeam, produce,
                       read_table, run_env)

TEXT = ("The regional council approved the budget for the harbour works after a long debate "
        "about costs and the timetable for the northern quay. ")


def _item(prefix: str, i: int) -> dict:
    return feed_item(f"{prefix}-{i:04d}", TEXT * 2 + f"Item {prefix} {i} closes with figure {i * 37}.")


def _light(cfg, **pipeline):
    return cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(
        update={"nlp_enabled": False, **pipeline})})


def _drain(cfg) -> None:
    for _ in range(20):
        if execute(cfg).status == "nothing to do":
            return
    raise AssertionError("backlog did not drain")


def _assert_every_item_once(cfg, expected: set[str]) -> None:
    counts = Counter(r["item_id"] for r in committed_rows(cfg, "articles"))
    assert set(counts) == expected, f"missing {sorted(expected - set(counts))[:5]}, extra {sorted(set(counts) - expected)[:5]}"
    assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1][:5]
    # and nothing beside the committed files: no run left rows a glob reader would double-count
    assert Counter(r["item_id"] for r in read_table(cfg, "articles")) == counts
    offsets = committed_offsets(cfg)
    assert sum(v or 0 for v in offsets.values()) == len(expected)


def test_two_runs_from_two_directories_with_records_arriving_leave_every_item_once(stack_config, tmp_path):
    cfg = _light(stack_config, max_records_per_run=150)
    produce(cfg, [_item("a", i) for i in range(400)])
    env = run_env(cfg, PIPELINE__MAX_RECORDS_PER_RUN="150")
    # Each run in its own directory with the default, relative lock path: two different lock files.
    del env["NEWSBEAM_PIPELINE__LOCK_PATH"]
    dirs = [tmp_path / "host-a", tmp_path / "host-b"]
    for d in dirs:
        d.mkdir()

    def arrive_late():  # records keep arriving while both runs go
        for k in range(4):
            time.sleep(1.5)
            produce(cfg, [_item(f"late{k}", i) for i in range(50)])

    more = threading.Thread(target=arrive_late)
    procs = []
    more.start()
    for d in dirs:
        procs.append(subprocess.Popen(newsbeam("run"), cwd=d, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
        time.sleep(0.5)
    outputs = [p.communicate(timeout=900) for p in procs]
    more.join()
    codes = [p.returncode for p in procs]
    assert all(c in (0, 5) for c in codes), outputs
    assert (tmp_path / "host-a" / ".stack" / "run.lock").exists() and (tmp_path / "host-b" / ".stack" / "run.lock").exists()
    for code, (out, err) in zip(codes, outputs):
        if code == 5:  # refused by the claim, naming the holder; it read nothing
            assert "holds" in err and "_claims/" in err and "pid" in err, err
    # Whatever is left (records that arrived late, a run refused by the claim) drains normally.
    _drain(cfg)
    expected = {f"a-{i:04d}" for i in range(400)} | {f"late{k}-{i:04d}" for k in range(4) for i in range(50)}
    _assert_every_item_once(cfg, expected)


def test_paused_holder_is_fenced_and_the_run_that_took_over_keeps_every_item_once(stack_config, tmp_path):
    """A holder stopped for longer than its lease (SIGSTOP: a GC pause, a frozen VM) while it
    writes; another run takes the claim over, and the first one, resumed, publishes nothing."""
    lease = 3
    cfg = _light(stack_config, claim_lease_seconds=lease)
    produce(cfg, [_item("p", i) for i in range(80)])
    ss = s3.S3Settings.from_config(cfg.s3)
    env = run_env(cfg, PIPELINE__ROWS_PER_FILE="1", PIPELINE__CLAIM_LEASE_SECONDS=str(lease),
                  PIPELINE__MAX_RECORDS_PER_RUN="null", PIPELINE__LOCK_PATH=str(tmp_path / "a.lock"))
    paused = subprocess.Popen(newsbeam("run"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and paused.poll() is None and not run_ledger.data_files(ss):
            time.sleep(0.05)
        assert paused.poll() is None, paused.communicate()
        os.killpg(paused.pid, signal.SIGSTOP)
        paused_run = {f.run for f in run_ledger.data_files(ss)}
        assert len(paused_run) == 1 and not manifests(cfg)

        # While its lease runs, another run (other directory, other lock file) is refused...
        other = cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(
            update={"lock_path": str(tmp_path / "b.lock")})})
        with pytest.raises(RunLocked, match="holds"):
            execute(other)
        time.sleep(lease + 1.5)
        # ...after it, it takes the claim over, with more records arrived in between.
        produce(cfg, [_item("q", i) for i in range(20)])
        summary = execute(other)
        assert summary.status == "written" and summary.records == 100
        assert summary.removed_orphans >= 1           # the paused run's files so far
        assert summary.run_id not in paused_run
    finally:
        os.killpg(paused.pid, signal.SIGCONT)
    out, err = paused.communicate(timeout=300)
    assert paused.returncode == RunFenced.exit_code, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("newsbeam run: run ") and "fenced" in last and "no manifest written" in last
    assert "removed" in last, last
    # It wrote no manifest, committed nothing, and removed every file it had written.
    (paused_id,) = paused_run
    assert paused_id not in manifests(cfg)
    assert not [f for f in run_ledger.data_files(ss) if f.run == paused_id]
    _assert_every_item_once(cfg, {f"p-{i:04d}" for i in range(80)} | {f"q-{i:04d}" for i in range(20)})


def test_crashed_holder_blocks_other_hosts_until_its_lease_ends_then_is_taken_over(stack_config, tmp_path):
    lease = 20
    cfg = _light(stack_config, claim_lease_seconds=lease)
    produce(cfg, [_item("c", i) for i in range(60)])
    ss = s3.S3Settings.from_config(cfg.s3)
    env = run_env(cfg, PIPELINE__ROWS_PER_FILE="1", PIPELINE__CLAIM_LEASE_SECONDS=str(lease),
                  PIPELINE__LOCK_PATH=str(tmp_path / "a.lock"))
    crashed = subprocess.Popen(newsbeam("run"), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and crashed.poll() is None and not run_ledger.data_files(ss):
        time.sleep(0.05)
    os.killpg(crashed.pid, signal.SIGKILL)
    crashed.wait(timeout=30)
    killed_at = time.monotonic()

    other = cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(
        update={"lock_path": str(tmp_path / "b.lock")})})
    with pytest.raises(RunLocked) as held:
        execute(other)
    assert "expires at" in str(held.value) and "_claims/" in str(held.value)
    assert run_ledger.data_files(ss) and not manifests(cfg)      # nothing touched
    from pipeline import status

    report = status.collect(other)
    (crashed_run,) = {f.run for f in run_ledger.data_files(ss)}
    assert f"run {crashed_run}" in report["s3"]["claim"] and "run in progress" in status.render(report)
    time.sleep(max(0.0, lease + 2 - (time.monotonic() - killed_at)))
    summary = execute(other)
    assert summary.status == "written" and summary.removed_orphans >= 1
    assert status.collect(other)["s3"]["claim"] is None               # released at the end
    _assert_every_item_once(cfg, {f"c-{i:04d}" for i in range(60)})


def test_offsets_moved_under_a_run_fence_it_and_its_files_go(stack_config, tmp_path):
    """An operator resets the group's offsets (kafka-consumer-groups) while a run is writing:
    the run still holds its claim, but its plan is stale, so it publishes nothing."""
    from connectors.kafka_source import KafkaSettings, reset_offsets

    cfg = _light(stack_config)
    produce(cfg, [_item("m", i) for i in range(60)], partitions=1)
    ss = s3.S3Settings.from_config(cfg.s3)
    env = run_env(cfg, PIPELINE__ROWS_PER_FILE="1", PIPELINE__MAX_RECORDS_PER_RUN="null")
    run = subprocess.Popen(newsbeam("run"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and run.poll() is None and not run_ledger.data_files(ss):
        time.sleep(0.05)
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {0: 0})   # None -> 0: moved
    out, err = run.communicate(timeout=300)
    assert run.returncode == RunFenced.exit_code, err
    assert "offsets moved since this run planned: partition 0 None -> 0" in err
    assert "no manifest written" in err and "removed" in err
    assert not manifests(cfg) and not run_ledger.data_files(ss)
    assert committed_offsets(cfg) == {0: 0}
    _drain(cfg)
    _assert_every_item_once(cfg, {f"m-{i:04d}" for i in range(60)})
