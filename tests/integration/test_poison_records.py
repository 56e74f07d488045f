"""Poison in every field the pipeline parses becomes a `rejects` row at stage `decode`, and the
run exits 0; odd but valid entries become rows. Real Kafka and S3 (the local stack), and the real
`newsbeam run` command."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone

from connectors import s3
from connectors.feeds.item import RULES
from stackutil import committed_offsets, feed_item, produce, read_table

TEXT = ("The port authority said on Monday that container traffic rose for the third month in a row, "
        "helped by a recovery in exports of machinery and chemicals. ")

NOW = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
# field -> broken values: every field the later stages read, dates, lists, nested structures
POISON = {
    "fetched_at": ["not-a-date", "yesterday", "0001-01-01", "0001-01-01T00:00:00Z",
                   "10000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", None, 5],
    "published": ["not-a-date", "yesterday", "0001-01-01", "10000-01-01T00:00:00Z", 20250128, None],
    "updated": ["not-a-date", "yesterday", "10000-01-01T00:00:00Z", {"date": NOW}],
    "authors": ["Jane Doe", [1], [["nested"]], [{"name": "x"}], None, ["half a pair \udfff"]],
    "tags": ["news", [None], [{"deep": [1, 2]}]],
    "published_missing": ["no", 0, None],
    "item_id": ["", 42, None, ["x"]],
    "url": [None, 7, {"href": "https://x.example"}],
    "title": [None, {"nested": "junk"}, ["t"], "a\ud800b"],
    "summary_html": [None, ["<p>x</p>"]], "summary_text": [1], "content_html": [{"x": 1}],
    "content_text": [None, 3.5],
    "language": [5, ["en"]],
    "feed_url": ["", None], "feed_title": [None, 1],
    "schema_version": [2, "1", 1.5, None, True],
}


def test_every_parsed_field_has_poison_here():
    assert set(POISON) == set(RULES)


def test_poison_in_every_field_ends_in_rejects_and_the_run_exits_0(stack_config, tmp_path):
    cfg = stack_config
    good = [feed_item(f"good-{i}", TEXT + f" Report {i} gives the figure {i * 31}.") for i in range(3)]
    odd = [  # valid: kept as rows
        {**feed_item("no-link-no-title", TEXT + " An entry without link or title.", title=""), "url": ""},
        feed_item("year-one", TEXT + " Its feed claims it was published in year one.",
                  published="0001-01-01T00:00:00Z"),
        feed_item("far-future", TEXT + " Its feed claims a date in 9999.", published="9999-12-31T00:00:00Z"),
    ]
    poison, expected = [], []
    for field, values in POISON.items():
        for value in values:
            record = feed_item(f"poison-{field}-{len(poison)}", TEXT + f" Poison {len(poison)}.")
            record[field] = value
            poison.append(record)
            expected.append(field)
    raw = [b"{truncated", b"\xff\xfe", b"[1, 2]", b"null", b"[" * 5000 + b"]" * 5000]
    produce(cfg, good + odd + poison + raw)

    env = {**os.environ,
           "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
           "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
           "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
           "NEWSBEAM_PIPELINE__NLP_ENABLED": "false",
           "NEWSBEAM_PIPELINE__LOCK_PATH": str(tmp_path / "lock")}
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--config",
                           "deploy/local/newsbeam.local.yaml"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr

    articles = {r["item_id"]: r for r in read_table(cfg, "articles")}
    assert sorted(articles) == sorted(["good-0", "good-1", "good-2", "no-link-no-title", "year-one", "far-future"])
    assert (articles["no-link-no-title"]["url"], articles["no-link-no-title"]["title"]) == ("", "")
    for item_id in ("year-one", "far-future"):
        row = articles[item_id]
        assert row["published_missing"] is True and row["published"] == row["fetched_at"]

    rejects = read_table(cfg, "rejects")
    assert len(rejects) == len(poison) + len(raw)
    assert all(r["stage"] == "decode" and r["payload"] and "\n" not in r["error"] for r in rejects)
    by_key = {r["kafka_key"]: r for r in rejects}
    for record, field in zip(poison, expected):
        key = record["item_id"] if isinstance(record["item_id"], str) and record["item_id"] else None
        if key is None:
            continue  # keyed by its item id: the ones without a usable id are checked by count
        error = by_key[key]["error"]
        assert field in error, (field, record[field], error)
        assert json.loads(by_key[key]["payload"]) == record  # byte for byte, parseable again

    # every record accounted for, offsets committed, partitions always YYYY-MM-DD
    assert sum(committed_offsets(cfg).values()) == len(good + odd + poison + raw)
    ss = s3.S3Settings.from_config(cfg.s3)
    keys = [o["Key"] for o in s3.list_keys(ss, ss.key(""))]
    partitions = {m.group(1) for k in keys for m in [re.search(r"/dt=([^/]*)/", k)] if m}
    assert partitions and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", p) for p in partitions), partitions
