"""The containers run with a read-only root file system (deploy/k8s, the Airflow pods): only the
state volume and /tmp are writable. Here the same is made with a mount namespace: / remounted
read-only, a tmpfs on /tmp, one writable state folder; then `newsbeam poll --once` and a
multi-process `newsbeam run` (NLP, alerts to Kafka) must work there, against the real stack.
Needs `unshare -m` (root or CAP_SYS_ADMIN), as CI has; skips saying so elsewhere."""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import S3_BUCKET, S3_KEY, S3_SECRET
from connectors.feeds.localserver import directory_files, serve, static_handler

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "deploy" / "local" / "sample_feeds"


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _can_unshare(), reason="needs `unshare -m` (root) to make / read-only")


def _in_readonly_root(state: Path, argv: list[str]) -> subprocess.CompletedProcess:
    """argv with / read-only except `state` and a fresh tmpfs /tmp (what the pods get)."""
    tmp = Path("/tmp")
    if ROOT.is_relative_to(tmp):
        # a checkout under /tmp (a CI clone) would vanish under a tmpfs there: the pod's empty
        # /tmp goes beside the state instead, and /tmp itself is made read-only with the rest
        tmp = state / "tmp"
        tmp.mkdir(exist_ok=True)
    script = f"""
set -e
mount --make-rprivate /
mount --bind {shlex.quote(str(state))} {shlex.quote(str(state))}
mount -t tmpfs -o size=1g tmpfs {shlex.quote(str(tmp))}
mount -o remount,bind,ro /
if mountpoint -q /tmp && [ {shlex.quote(str(tmp))} != /tmp ]; then mount -o remount,bind,ro /tmp; fi
if touch {shlex.quote(str(ROOT / '.readonly-probe'))} 2>/dev/null; then echo "root is writable"; exit 99; fi
cd /
exec env HOME={shlex.quote(str(state))} TMPDIR={shlex.quote(str(tmp))} {' '.join(map(shlex.quote, argv))}
"""
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=900)


def test_poll_and_run_need_only_the_state_volume_and_tmp(kafka_bootstrap, s3_endpoint, unique):
    # Outside /tmp (it gets a tmpfs of its own inside); under the git-ignored .stack/.
    state = ROOT / ".stack" / f"readonly-{unique}"
    state.mkdir(parents=True)
    try:
        config = {
            "kafka": {"bootstrap_servers": kafka_bootstrap, "topic": f"test.ro.{unique}", "group_id": f"ro-{unique}"},
            "s3": {"bucket": S3_BUCKET, "prefix": f"test/ro-{unique}", "endpoint_url": s3_endpoint,
                   "access_key_id": S3_KEY, "secret_access_key": S3_SECRET},
            "pipeline": {"lock_path": str(state / "run.lock")},
            "feeds": {"feeds_file": str(state / "feeds.yaml"), "state_path": str(state / "poll-state.sqlite")},
            "alerts": {"ledger_path": str(state / "alerts.sqlite"),
                       "sinks": [{"type": "kafka", "name": "bus", "topic": f"test.ro.alerts.{unique}",
                                  "bootstrap_servers": kafka_bootstrap}],
                       "rules": [{"name": "leaders", "sinks": ["bus"]}]},
        }
        (state / "newsbeam.yaml").write_text(yaml.safe_dump(config))
        newsbeam = [sys.executable, "-m", "pipeline.cli", "--config", str(state / "newsbeam.yaml")]
        with serve(static_handler(directory_files(SAMPLES))) as base:
            (state / "feeds.yaml").write_text(yaml.safe_dump(
                {"feeds": [{"url": f"{base}/{p.name}"} for p in sorted(SAMPLES.glob("*.xml"))]}))
            poll = _in_readonly_root(state, [*newsbeam, "poll", "--once"])
        assert poll.returncode == 0, poll.stdout + poll.stderr
        assert "new items 0" not in poll.stderr and "failed 0" in poll.stderr, poll.stderr

        run = _in_readonly_root(state, [*newsbeam, "run", "--json", "--direct_num_workers=2",
                                        "--direct_running_mode=multi_processing"])
        assert run.returncode == 0, run.stdout + run.stderr[-3000:]
        summary = json.loads(run.stdout[run.stdout.index("{"):])
        assert summary["status"] == "written" and summary["rows"]["quotes"] > 0
        assert summary["alerts"]["sent"] >= 1 and summary["alerts"]["failed"] == 0
        # Everything newsbeam keeps is in the state folder.
        assert {"poll-state.sqlite", "alerts.sqlite", "run.lock"} <= {p.name for p in state.iterdir()}
        assert not (ROOT / ".readonly-probe").exists()
    finally:
        shutil.rmtree(state, ignore_errors=True)
