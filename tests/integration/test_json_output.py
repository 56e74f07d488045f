"""`--log-format json` on real runs: every line on stdout and stderr is a JSON object, also those of
Beam's SDK worker processes and of runs drained in fresh processes; `run --json` prints one
object per run and one on failure."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stackutil import feed_item, produce

ROOT = Path(__file__).resolve().parents[2]
TEXT = 'The minister said "we will act now." Officials agreed with the plan on {n}.'


def _env(cfg, tmp_path, **extra) -> dict:
    return {**os.environ, "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
            "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock"), **extra}


def _run(cfg, tmp_path, *args, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                           "--log-format", "json", "run", *args], cwd=ROOT, capture_output=True, text=True,
                          env=_env(cfg, tmp_path, **extra), timeout=900)


def _json_lines(text: str) -> list[dict]:
    records = [json.loads(line) for line in text.split("\n")[:-1]]  # any other line fails here
    assert all(isinstance(r, dict) for r in records)
    return records


def test_every_line_of_a_multi_process_run_is_json(stack_config, tmp_path):
    produce(stack_config, [feed_item(f"j-{n}", TEXT.format(n=n)) for n in range(6)] + [b"not json"])
    proc = _run(stack_config, tmp_path, "--json", "--direct_num_workers=2", "--direct_running_mode=multi_processing",
                "-v")  # -v: the client libraries and the workers' own INFO lines too
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = _json_lines(proc.stderr)
    assert {"ts", "level", "logger", "message"} <= set(err[0])
    assert any(r["logger"].startswith("apache_beam") for r in err)          # Beam's own records
    assert any(r.get("source") == "stderr" for r in err), "the SDK workers wrote nothing?"
    [summary] = [r for r in err if r["logger"] == "newsbeam.run" and "run" in r]
    assert summary["run"]["rows"] == {"articles": 6, "quotes": 6, "rejects": 1}
    [answer] = _json_lines(proc.stdout)  # --json: the object, not a log record
    assert answer["status"] == "written" and answer["rows"] == summary["run"]["rows"]


def test_a_drained_backlog_and_a_failure_are_json_too(stack_config, tmp_path):
    produce(stack_config, [feed_item(f"d-{n}", TEXT.format(n=n)) for n in range(5)])
    proc = _run(stack_config, tmp_path, "--json", NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN="2",
                NEWSBEAM_PIPELINE__NLP_ENABLED="false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    _json_lines(proc.stderr)
    runs = _json_lines(proc.stdout)
    assert [r["status"] for r in runs] == ["written"] * len(runs) and len(runs) >= 2  # rounded up per partition
    assert sum(r["records"] for r in runs) == 5

    produce(stack_config, [feed_item("late", TEXT.format(n=99))])
    proc = _run(stack_config, tmp_path, "--json", NEWSBEAM_S3__BUCKET="no-such-bucket-for-json")
    assert proc.returncode == 4, proc.stderr[-3000:]
    [answer] = _json_lines(proc.stdout)
    assert (answer["status"], answer["error"], answer["exit_code"]) == ("failed", "S3BucketMissing", 4)
    [error] = [r for r in _json_lines(proc.stderr) if r["level"] == "ERROR"]
    assert error["error"] == "S3BucketMissing" and error["message"].startswith("newsbeam run: S3 bucket")
