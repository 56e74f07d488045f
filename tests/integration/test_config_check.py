"""`newsbeam config check` against the real local stack: one line per check, the exit status of
the first failure's class, nothing left behind."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from connectors import s3
from stackutil import feed_item, produce

ROOT = Path(__file__).resolve().parents[2]


def _check(cfg, tmp_path: Path, edit=lambda c: c, env_extra=None) -> subprocess.CompletedProcess:
    config = yaml.safe_load((ROOT / "deploy/local/newsbeam.local.yaml").read_text())
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://news.example/rss\n")
    config["feeds"] = {"feeds_file": str(feeds), "state_path": str(tmp_path / "state.sqlite")}
    config["alerts"] = {"ledger_path": str(tmp_path / "alerts.sqlite")}
    path = tmp_path / "newsbeam.yaml"
    path.write_text(yaml.safe_dump(edit(config)))
    env = {**os.environ, "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "config", "check", "--config", str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def _lines(proc) -> dict[str, str]:
    out = {}
    for line in proc.stdout.splitlines():
        status, name = line.split()[:2]
        out[name] = status
    return out


def test_all_checks_pass_on_a_working_stack_and_leave_nothing_behind(stack_config, tmp_path):
    produce(stack_config, [feed_item("x", "Some text.")])  # creates the topic
    proc = _check(stack_config, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _lines(proc) == {"config": "ok", "kafka.bootstrap": "ok", "kafka.topic": "ok", "kafka.group": "ok",
                            "s3.bucket": "ok", "s3.write": "ok", "iceberg.catalog": "ok", "alerts": "ok",
                            "nlp.model": "ok", "beam.options": "ok", "feeds.list": "ok"}
    assert "has 2 partition(s)" in proc.stdout and "1 feed(s)" in proc.stdout
    ss = s3.S3Settings.from_config(stack_config.s3)
    assert s3.list_keys(ss, ss.key("_check") + "/") == []


def test_iceberg_catalog_is_probed_and_an_unreachable_one_fails_with_its_code(stack_config, tmp_path):
    produce(stack_config, [feed_item("x", "Some text.")])
    sqlite = tmp_path / "iceberg.sqlite3"
    proc = _check(stack_config, tmp_path, env_extra={"NEWSBEAM_ICEBERG__CATALOG": "sql",
                                                     "NEWSBEAM_ICEBERG__SQLITE_PATH": str(sqlite)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no tables yet" in proc.stdout and not sqlite.exists()   # a probe creates nothing
    proc = _check(stack_config, tmp_path, env_extra={"NEWSBEAM_ICEBERG__CATALOG": "rest",
                                                     "NEWSBEAM_ICEBERG__URI": "http://127.0.0.1:1/api/catalog"})
    assert proc.returncode == 8, proc.stdout + proc.stderr
    assert _lines(proc)["iceberg.catalog"] == "FAIL" and "REST catalog http://127.0.0.1:1" in proc.stdout
    assert _lines(proc)["s3.write"] == "ok"


def test_missing_topic_fails_with_the_kafka_code(stack_config, tmp_path):
    proc = _check(stack_config, tmp_path)  # this test's topic was never created
    assert proc.returncode == 3, proc.stdout
    assert _lines(proc)["kafka.topic"] == "FAIL" and "does not exist" in proc.stdout
    assert _lines(proc)["s3.write"] == "ok"  # the other checks still run


def test_unreachable_kafka_skips_what_depends_on_it(stack_config, tmp_path):
    proc = _check(stack_config, tmp_path, env_extra={"NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1"})
    lines = _lines(proc)
    assert proc.returncode == 3
    assert (lines["kafka.bootstrap"], lines["kafka.topic"], lines["kafka.group"]) == ("FAIL", "skip", "skip")


def test_s3_and_alert_problems_are_reported_and_the_first_class_decides(stack_config, tmp_path):
    produce(stack_config, [feed_item("x", "Some text.")])

    def edit(c):
        c["s3"]["bucket"] = "no-such-bucket-" + stack_config.kafka.group_id[-10:]
        c["alerts"].update(sinks=[{"type": "webhook", "name": "hook", "url": "https://hooks.example/x",
                                   "secret_env": "NEWSBEAM_TEST_UNSET_SECRET"}],
                           rules=[{"name": "all", "sinks": ["hook"]}])
        c["pipeline"]["beam_args"] = ["--direct_num_workers=2", "--no_such_option=1"]
        return c

    proc = _check(stack_config, tmp_path, edit)
    lines = _lines(proc)
    assert (lines["s3.bucket"], lines["s3.write"]) == ("FAIL", "skip")
    assert lines["alerts"] == "FAIL" and "NEWSBEAM_TEST_UNSET_SECRET is empty or unset" in proc.stdout
    assert lines["beam.options"] == "FAIL" and "--no_such_option=1" in proc.stdout
    assert proc.returncode == 4  # S3 failed first


def test_an_invalid_configuration_stops_before_any_probe(stack_config, tmp_path):
    proc = _check(stack_config, tmp_path, lambda c: {**c, "feeds": {**c["feeds"], "bogus": 1}})
    assert proc.returncode == 2 and proc.stdout == ""
    assert "feeds.bogus: unknown key" in proc.stderr
