"""Operating the run: backfill with --since, overlapping runs, NLP tables, alerts after a run."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.alerts.config import AlertsConfig
from connectors.errors import RunLocked
from pipeline.run import RunLock, execute, replay
from stackutil import committed_offsets, feed_item, produce, read_table
from tests_shared_text import LEADER_STORY

OTHER = ("Shares in the carmaker rose after it reported record deliveries for the quarter, "
         "beating the forecasts of most analysts. ") * 4


def _light(cfg):
    return cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(update={"nlp_enabled": False})})


def test_backfill_since_date_via_cli_adds_no_rows(stack_config, tmp_path):
    cfg = _light(stack_config)
    produce(cfg, [feed_item(f"b-{i}", OTHER + f" Story {i}, figure {i * 3}.") for i in range(4)])
    execute(cfg)
    produce(cfg, [feed_item("b-new", OTHER + " A later story with other numbers 991.")])
    before = sorted(r["item_id"] for r in read_table(cfg, "articles"))

    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%d")
    env = {**os.environ, **{
        "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
        "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
        "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_PIPELINE__NLP_ENABLED": "false",
        "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock")}}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                           "run", "--since", yesterday, "--metrics-textfile", str(tmp_path / "run.prom")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "replay: rewound partitions" in proc.stdout
    from prometheus_client.parser import text_string_to_metric_families

    metrics = {s.name: s.value for f in text_string_to_metric_families((tmp_path / "run.prom").read_text())
               for s in f.samples}
    assert metrics["newsbeam_run_records_total"] == 5        # 4 replayed + 1 new
    # the replayed ones were written by the first run: skipped as such, not duplicates of themselves
    assert metrics["newsbeam_run_replayed_total"] == 4
    assert metrics["newsbeam_run_duplicates_total"] == 0
    assert metrics["newsbeam_consumer_lag_records"] == 0
    after = sorted(r["item_id"] for r in read_table(cfg, "articles"))
    assert after == sorted(before + ["b-new"])
    assert len(after) == len(set(after))


def test_replay_never_moves_offsets_forward(stack_config):
    cfg = _light(stack_config)
    produce(cfg, [feed_item("f-1", OTHER)], partitions=1)
    assert replay(cfg, offsets={0: 1}) == {0: 1}  # nothing committed yet: may move
    assert replay(cfg, offsets={0: 5}) == {}       # past the committed offset: refused


def test_overlapping_run_exits_and_names_the_holder(stack_config):
    with RunLock(stack_config.pipeline.lock_path):
        with pytest.raises(RunLocked, match=f"another run holds .*pid {os.getpid()}"):
            execute(_light(stack_config))


def test_quotes_and_entities_tables_match_extract(stack_config):
    """The pipeline fills quotes/entities with the same code `newsbeam extract` runs."""
    from transforms.extract import extract_documents
    from transforms.nlp import load_nlp

    produce(stack_config, [feed_item("leader-1", LEADER_STORY, published="2025-01-28T10:00:00Z")])
    execute(stack_config)
    article = read_table(stack_config, "articles")[0]
    quotes = sorted(read_table(stack_config, "quotes"), key=lambda q: q["quote_index"])
    expected = next(extract_documents([("leader-1", article["text"], "2025-01-28")],
                                      load_nlp(stack_config.nlp.model)))
    assert [(q["start_char"], q["end_char"], q["speaker_name"], q["statement_id"]) for q in quotes] == \
        [(q.start_char, q.end_char, q.speaker_name, q.statement_id) for q in expected.quotes]
    assert all(article["text"][q["start_char"]:q["end_char"]] == q["text"] for q in quotes)
    assert article["quote_count"] == len(quotes) > 0
    assert article["leadership_count"] == sum(q["is_leadership"] for q in quotes) > 0
    entities = read_table(stack_config, "entities")
    assert sorted(e["canonical"] for e in entities) == sorted(e.canonical for e in expected.entities)


class _Receiver:
    def __init__(self):
        self.bodies: list[dict] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_one_statement_in_three_feeds_alerts_once_per_rule(stack_config, tmp_path):
    receiver = _Receiver()
    try:
        alerts = {"ledger_path": str(tmp_path / "alerts.sqlite"),
                  "sinks": [{"type": "webhook", "name": "hook", "url": receiver.url}],
                  "rules": [{"name": "all-leaders", "sinks": ["hook"]},
                            {"name": "presidents", "roles": ["president"], "sinks": ["hook"]}]}
        cfg = stack_config.model_copy(update={"alerts": AlertsConfig.model_validate(alerts)})
        produce(cfg, [feed_item(f"outlet-{i}", LEADER_STORY, url=f"https://outlet{i}.example/story",
                                feed=f"https://outlet{i}.example/rss",
                                published=f"2025-01-28T1{i}:00:00Z") for i in range(3)])
        summary = execute(cfg)
        assert summary.alerts and summary.alerts["sent"] >= 2
        quotes = read_table(cfg, "quotes")
        leadership = {q["statement_id"] for q in quotes if q["is_leadership"]}
        presidents = {q["statement_id"] for q in quotes if q["is_leadership"] and q["speaker_role"] == "president"}
        assert len(receiver.bodies) == len(leadership) + len(presidents)
        # all three outlets' links travel with each alert, with the speaker and role
        for body in receiver.bodies:
            assert sorted(link["url"] for link in body["links"]) == [
                f"https://outlet{i}.example/story" for i in range(3)]
            assert body["speaker"]["name"] and body["speaker"]["role"]
        assert sorted(b["rule"] for b in receiver.bodies) == sorted(
            ["all-leaders"] * len(leadership) + ["presidents"] * len(presidents))

        produce(cfg, [feed_item("outlet-late", LEADER_STORY, url="https://outlet9.example/story",
                                feed="https://outlet9.example/rss")])
        execute(cfg)
        assert len(receiver.bodies) == len(leadership) + len(presidents)
    finally:
        receiver.server.shutdown()
