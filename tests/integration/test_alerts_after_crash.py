"""A run killed after its manifest and before its offset commit, while its alerts went out
(10 of 30 delivered), then new records: every one of the 30 statements is delivered exactly
once, by the next run, although that run has another run id and finds the earlier records
already written (replayed, not processed again). Real Kafka, real S3, a real HTTP receiver, a
real SIGKILL."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from connectors.alerts.config import AlertsConfig
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, manifests, newsbeam, produce, run_env

LEADERS = [("Iran", "President Masoud Pezeshkian", "Pezeshkian"),
           ("France", "President Emmanuel Macron", "Macron"),
           ("Japan", "Prime Minister Shigeru Ishiba", "Ishiba")]
PROJECTS = ["hospitals", "schools", "bridges", "rail lines", "power plants", "ports", "airports",
            "dams", "universities", "clinics"]


def leader_story(i: int) -> str:
    country, title, surname = LEADERS[i % 3]
    project = PROJECTS[i // 3]
    return (f"{title} of {country} spoke to reporters on Tuesday about {project}.\n\n"
            f"\"We will build {i + 3} new {project} in the {['north', 'south', 'east'][i % 3]} "
            f"before the end of the year,\" {surname} said.\n\n"
            f"Officials said the {project} plan number {i} would cost billions.")


class Receiver:
    """Webhook receiver: acknowledges the first `ack_first` alerts, then holds the next request
    open (the run is killed while waiting for it) and acknowledges everything after a reset."""

    def __init__(self, ack_first: int):
        self.acked: list[dict] = []
        self.received = 0
        self.ack_first = ack_first
        self.holding = threading.Event()
        self.release = threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.received += 1
                if len(outer.acked) >= outer.ack_first and not outer.release.is_set():
                    outer.holding.set()
                    outer.release.wait(60)  # never answered: the sender dies first
                    return
                outer.acked.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_killed_between_manifest_and_commit_while_alerting_then_new_records_alerts_all_30_once(stack_config, tmp_path):
    receiver = Receiver(ack_first=10)
    alerts = {"ledger_path": str(tmp_path / "alerts.sqlite"),
              "sinks": [{"type": "webhook", "name": "hook", "url": receiver.url}],
              "rules": [{"name": "all-leaders", "sinks": ["hook"]}],
              "timeout_seconds": 60, "max_attempts": 1}
    cfg = stack_config.model_copy(update={"alerts": AlertsConfig.model_validate(alerts)})
    config_file = tmp_path / "alerts.yaml"
    config_file.write_text(yaml.safe_dump({"alerts": alerts}))
    try:
        produce(cfg, [feed_item(f"leader-{i:02d}", leader_story(i), url=f"https://outlet.example/{i}")
                      for i in range(30)])
        env = run_env(cfg, PIPELINE__MAX_RECORDS_PER_RUN="null")
        cmd = newsbeam("run")
        cmd[cmd.index("--config") + 1] = str(config_file)  # alerts only; the rest from the environment
        env.update({"NEWSBEAM_S3__BUCKET": cfg.s3.bucket, "NEWSBEAM_S3__ACCESS_KEY_ID": cfg.s3.access_key_id,
                    "NEWSBEAM_S3__SECRET_ACCESS_KEY": cfg.s3.secret_access_key.get_secret_value()})
        run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
        if not receiver.holding.wait(600):
            run.kill()
            raise AssertionError(f"the run never reached its 11th alert: {run.communicate()[1][-2000:]}")
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=30)
        assert len(receiver.acked) == 10
        first_runs = manifests(cfg)
        assert len(first_runs) == 1, "killed after the manifest"
        assert all(v is None for v in committed_offsets(cfg).values()), "and before the commit"

        receiver.release.set()
        produce(cfg, [feed_item(f"plain-{i}", "Markets were calm on Wednesday as traders waited for data. " * 4
                                + f"Note {i}.") for i in range(5)])
        summary = execute(cfg)
        assert summary.status == "written" and summary.run_id not in first_runs
        assert summary.counters.get("replayed_rows") == 30   # the earlier records: already committed rows
        statements = Counter((b["statement_id"], b["rule"]) for b in receiver.acked)
        assert len(statements) == 30 and set(statements.values()) == {1}, statements
        assert summary.alerts["runs"] == 2

        # A later run with nothing new to alert sends nothing more.
        produce(cfg, [feed_item("plain-late", "A quiet day in the markets, traders said. " * 4)])
        execute(cfg)
        assert len(receiver.acked) == 30
    finally:
        receiver.release.set()
        receiver.server.shutdown()
