"""A run whose alerting fails: the rows are written and the offsets committed as always, but the
command exits 6 (AlertsFailed), a metric counts the failures, and the alerts are delivered later
by `newsbeam alerts retry` or by the next run. Real Kafka and S3, a real HTTP receiver."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from connectors.errors import AlertsFailed
from stackutil import committed_offsets, feed_item, produce, read_table
from tests_shared_text import LEADER_STORY

ROOT = Path(__file__).resolve().parents[2]


class _Receiver:
    """Answers 503 while `down`, else 200 and keeps the body."""

    def __init__(self):
        self.down = True
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.down:
                    self.send_response(503)
                else:
                    outer.bodies.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def _newsbeam(cfg, config_file: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ,
           "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args, "--config", str(config_file)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


def _metrics(path: Path) -> dict[str, float]:
    return {s.name: s.value for f in text_string_to_metric_families(path.read_text()) for s in f.samples}


def test_failed_alerts_exit_6_with_a_metric_and_are_retried(stack_config, tmp_path):
    receiver = _Receiver()
    try:
        config = yaml.safe_load((ROOT / "deploy/local/newsbeam.local.yaml").read_text())
        config["pipeline"] = {"lock_path": str(tmp_path / "lock"), "max_records_per_run": None}
        config["alerts"] = {"ledger_path": str(tmp_path / "alerts.sqlite"), "max_attempts": 1,
                            "sinks": [{"type": "webhook", "name": "hook", "url": receiver.url}],
                            "rules": [{"name": "all-leaders", "sinks": ["hook"]}]}
        config_file = tmp_path / "newsbeam.yaml"
        config_file.write_text(yaml.safe_dump(config))
        produce(stack_config, [feed_item("leader-1", LEADER_STORY, published="2025-01-28T10:00:00Z")])

        prom = tmp_path / "run.prom"
        run = _newsbeam(stack_config, config_file, "run", "--metrics-textfile", str(prom))
        assert run.returncode == AlertsFailed.exit_code == 6, run.stderr
        assert "alert delivery(ies) failed; rows are written and offsets committed" in run.stderr
        assert "newsbeam alerts retry" in run.stderr
        # the data is durable and the records done, as for any successful run
        assert [r["item_id"] for r in read_table(stack_config, "articles")] == ["leader-1"]
        leadership = {q["statement_id"] for q in read_table(stack_config, "quotes") if q["is_leadership"]}
        assert leadership
        assert sum(o or 0 for o in committed_offsets(stack_config).values()) == 1
        metrics = _metrics(prom)
        assert metrics["newsbeam_run_alert_failures"] == len(leadership)
        assert metrics["newsbeam_run_records_total"] == 1

        # still down: the retry command fails the same way
        retry = _newsbeam(stack_config, config_file, "alerts", "retry")
        assert retry.returncode == 6 and receiver.bodies == []

        # the receiver is back: the next run (nothing new to read) delivers them
        receiver.down = False
        prom.unlink()
        again = _newsbeam(stack_config, config_file, "run", "--metrics-textfile", str(prom))
        assert again.returncode == 0, again.stderr
        assert "nothing to do" in again.stdout
        assert sorted(b["statement_id"] for b in receiver.bodies) == sorted(leadership)
        assert _metrics(prom)["newsbeam_run_alert_failures"] == 0

        # and nothing is sent twice
        retry = _newsbeam(stack_config, config_file, "alerts", "retry")
        assert retry.returncode == 0 and "retried_from_previous_runs 0" in retry.stdout
        assert len(receiver.bodies) == len(leadership)
    finally:
        receiver.server.shutdown()


def test_alerts_retry_delivers_what_a_run_could_not(stack_config, tmp_path):
    receiver = _Receiver()
    try:
        config = yaml.safe_load((ROOT / "deploy/local/newsbeam.local.yaml").read_text())
        config["pipeline"] = {"lock_path": str(tmp_path / "lock"), "max_records_per_run": None}
        config["alerts"] = {"ledger_path": str(tmp_path / "alerts.sqlite"), "max_attempts": 1,
                            "sinks": [{"type": "webhook", "name": "hook", "url": receiver.url}],
                            "rules": [{"name": "all-leaders", "sinks": ["hook"]}]}
        config_file = tmp_path / "newsbeam.yaml"
        config_file.write_text(yaml.safe_dump(config))
        produce(stack_config, [feed_item("leader-2", LEADER_STORY, published="2025-01-28T10:00:00Z")])
        assert _newsbeam(stack_config, config_file, "run").returncode == 6
        receiver.down = False
        retry = _newsbeam(stack_config, config_file, "alerts", "retry")
        assert retry.returncode == 0, retry.stderr + retry.stdout
        assert receiver.bodies and "failed 0" in retry.stdout
        listing = _newsbeam(stack_config, config_file, "alerts", "list")
        assert "sent" in listing.stdout and "failed" not in listing.stdout.split("\n", 2)[-1]
    finally:
        receiver.server.shutdown()
