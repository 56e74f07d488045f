"""Poison in every field the pipeline parses becomes a `rejects` row (at stage `decode`, where
the wire record's rules catch it), and the run exits 0; odd but valid entries become rows; a
replay adds nothing; partitions are always YYYY-MM-DD. Real Kafka and S3 (the local stack), and
the real `newsbeam run` command."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime, timezone

import pytest

from connectors import run_ledger, s3, tables
from connectors.feeds.item import RULES
from connectors.kafka_source import KafkaSettings, reset_offsets
from stackutil import committed_offsets, committed_rows, feed_item, newsbeam, produce, read_table, run_env
from tests_shared_text import LEADER_STORY

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
    "reject_reason": [5, ["too large"], "", None],
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


# Labelled poison (dates, numbers, nested structures, strings that are not text), with a
# leadership story beside it: one reject per record, whatever stage catches it, and a replay.
GOOD_TEXT = "The ferry service resumed on Monday after the storm, the operator said. " * 3


def _poison(label: str, **changes) -> bytes:
    record = feed_item(label, GOOD_TEXT + label, url=f"https://poison.example/{label}")
    record.update(changes)
    # ensure_ascii keeps lone surrogates as \\ud800 escapes, as any JSON producer may send them
    return json.dumps(record, ensure_ascii=True).encode()


LABELLED = {
    # dates
    "fetched-not-a-date": _poison("fetched-not-a-date", fetched_at="not-a-date"),
    "fetched-year-1": _poison("fetched-year-1", fetched_at="0001-01-01T00:00:00Z"),
    "fetched-year-10000": _poison("fetched-year-10000", fetched_at="10000-01-01T00:00:00Z"),
    "fetched-feb-30": _poison("fetched-feb-30", fetched_at="2025-02-30T10:00:00Z"),
    "fetched-number": _poison("fetched-number", fetched_at=20250128),
    "published-yesterday": _poison("published-yesterday", published="yesterday"),
    "published-garbage": _poison("published-garbage", published="2025-13-45T99:99:99Z"),
    "updated-garbage": _poison("updated-garbage", updated="soon"),
    # numbers and flags
    "version-string": _poison("version-string", schema_version="1"),
    "version-2": _poison("version-2", schema_version=2),
    "version-float": _poison("version-float", schema_version=1.5),
    "version-huge": _poison("version-huge", schema_version=10 ** 40),
    "version-missing": _poison("version-missing", schema_version=None),
    "missing-flag-word": _poison("missing-flag-word", published_missing="yes"),
    "language-number": _poison("language-number", language=5),
    # nested structures
    "authors-string": _poison("authors-string", authors="Jane Doe"),
    "authors-object": _poison("authors-object", authors={"name": "Jane"}),
    "tags-object": _poison("tags-object", tags={"a": [1, 2]}),
    "content-object": _poison("content-object", content_text={"html": "<p>x</p>"}),
    "content-list": _poison("content-list", content_text=["a", "b"]),
    "title-list": _poison("title-list", title=["x"]),
    "record-array": b'[{"schema_version": 1}]',
    "record-number": b"42",
    "deeply-nested": b"[" * 100_000 + b"]" * 100_000,
    "not-utf8": b'{"schema_version": 1, "item_id": "\xff\xfe"}',
    # strings that are not valid Unicode (lone surrogates)
    "surrogate-item-id": _poison("surrogate-item-id", item_id="bad-\ud800-id"),
    "surrogate-url": _poison("surrogate-url", url="https://poison.example/\udfff"),
    "surrogate-title": _poison("surrogate-title", title="Title \ud83d"),
    "surrogate-content": _poison("surrogate-content", content_text="Text \ud800 more text"),
    "surrogate-author": _poison("surrogate-author", authors=["\udc00"]),
    "surrogate-feed": _poison("surrogate-feed", feed_title="Feed \ud800"),
}


def test_labelled_poison_ends_in_rejects_once_with_its_raw_record_and_a_replay_adds_nothing(stack_config):
    cfg = stack_config
    good = [feed_item("good-leader", LEADER_STORY, url="https://good.example/leader"),
            feed_item("good-plain", GOOD_TEXT, url="https://good.example/plain")]
    produce(cfg, good + list(LABELLED.values()), partitions=1)
    env = run_env(cfg)
    proc = subprocess.run(newsbeam("run"), env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rejects" in proc.stdout

    articles = committed_rows(cfg, "articles")
    assert sorted(a["item_id"] for a in articles) == ["good-leader", "good-plain"]
    assert [q for q in committed_rows(cfg, "quotes") if q["is_leadership"]]
    rejects = committed_rows(cfg, "rejects")
    by_offset = Counter(r["kafka_offset"] for r in rejects)
    assert set(by_offset) == set(range(len(good), len(good) + len(LABELLED))), "one reject per poison record"
    assert max(by_offset.values()) == 1
    labels = list(LABELLED)
    for r in rejects:
        label = labels[r["kafka_offset"] - len(good)]
        assert r["stage"] in ("decode", "prepare", "rows", "write", "nlp"), (label, r["stage"])
        assert r["error"] and "\n" not in r["error"], label
        assert r["payload"] == LABELLED[label], label       # the raw record is kept
    # Every object under a table is a data file the run ledger recognises (dt=YYYY-MM-DD).
    ss = s3.S3Settings.from_config(cfg.s3)
    for table in tables.SCHEMAS:
        for obj in s3.list_keys(ss, ss.key(table) + "/"):
            assert run_ledger.parse_file_key(obj["Key"]), obj["Key"]

    # A replay of the same records adds no row and no reject.
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {p: 0 for p in committed_offsets(cfg)})
    again = subprocess.run(newsbeam("run"), env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert sorted(a["item_id"] for a in committed_rows(cfg, "articles")) == ["good-leader", "good-plain"]
    assert Counter(r["kafka_offset"] for r in committed_rows(cfg, "rejects")) == by_offset


@pytest.mark.parametrize("fetched_at", ["0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z"])
def test_year_1_and_year_10000_fetch_dates_are_rejected_once_and_write_no_odd_partition(stack_config, fetched_at):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(update={"nlp_enabled": False})})
    from pipeline.run import execute

    odd = feed_item("odd-date", GOOD_TEXT, fetched_at="2025-01-28T10:00:00Z")
    odd["fetched_at"] = fetched_at
    produce(cfg, [odd, feed_item("fine", GOOD_TEXT + " Fine.")])
    execute(cfg)
    # The next run replays both records (as after a crash before the commit): still once each.
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {p: 0 for p in committed_offsets(cfg)})
    execute(cfg)
    assert [a["item_id"] for a in committed_rows(cfg, "articles")] == ["fine"]
    (reject,) = [r for r in committed_rows(cfg, "rejects")]
    assert reject["error"] and reject["stage"] == "decode" and "fetched_at" in reject["error"]
    ss = s3.S3Settings.from_config(cfg.s3)
    keys = [o["Key"] for t in tables.SCHEMAS for o in s3.list_keys(ss, ss.key(t) + "/")]
    assert keys and all(run_ledger.parse_file_key(k) for k in keys), keys
