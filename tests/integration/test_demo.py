"""`newsbeam demo` end to end, twice, on an isolated topic, group and S3 prefix."""
from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_twice_keeps_one_row_per_item(stack_config, tmp_path):
    cfg = stack_config
    env = {**os.environ,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix,
           "NEWSBEAM_FEEDS__STATE_PATH": str(tmp_path / "poll.sqlite"),
           "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "run.lock")}
    outputs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                               "demo"], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outputs.append(proc.stdout)
    first, second = outputs
    assert f"s3://{cfg.s3.bucket}/{cfg.s3.prefix}" in first
    counts = []
    for out in outputs:
        lines = out.splitlines()
        header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["article_rows"])
        values = lines[header + 1].split()
        counts.append((int(values[0]), int(values[1])))
    # every sample item once, and the second demo adds nothing: its poll finds every item seen
    assert counts[0] == counts[1] and counts[0][0] == counts[0][1] == 13
    assert "new items 0" in second and "run: nothing to do" in second, second
    assert "leadership_statements" in first and "speaker_name" in first
