"""A backlog larger than pipeline.max_records_per_run drains in several runs, each in a fresh
process, with every item exactly once."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from connectors.kafka_source import OffsetRange, cap_ranges
from stackutil import committed_offsets, feed_item, produce, read_table

TEXT = ("The port authority said container traffic rose for the third month in a row, helped by "
        "new routes to the south. ") * 3


def test_cap_takes_the_oldest_records_from_every_partition():
    ranges = [OffsetRange("t", 0, 10, 110), OffsetRange("t", 1, 0, 300), OffsetRange("t", 2, 5, 5)]
    capped = cap_ranges(ranges, 100)
    assert [(r.start, r.end) for r in capped] == [(10, 35), (0, 75), (5, 5)]
    assert cap_ranges(ranges, None) == ranges and cap_ranges(ranges, 1000) == ranges


def test_backlog_drains_in_capped_runs(stack_config, tmp_path):
    cfg = stack_config
    produce(cfg, [feed_item(f"d-{i:02d}", TEXT + f" Figure {i} of {i * 31}.") for i in range(25)])
    env = {**os.environ,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_PIPELINE__NLP_ENABLED": "false",
           "NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN": "10",
           "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock")}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                           "run", "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    # --json: stdout holds one object per run, the summary lines go to stderr
    runs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in runs] == ["written"] * 3, proc.stdout  # 10 + 10 + 5 (rounded up per partition)
    assert [r["remaining"] for r in runs][-1] == 0 and sum(r["records"] for r in runs) == 25
    assert len([line for line in proc.stderr.splitlines() if line.startswith("run ")]) == 3, proc.stderr
    ids = sorted(r["item_id"] for r in read_table(cfg, "articles"))
    assert ids == [f"d-{i:02d}" for i in range(25)]
    assert sum(committed_offsets(cfg).values()) == 25
