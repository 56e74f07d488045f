"""The 200 real feed files of ../shared/data/feeds end to end: served from 127.0.0.1, polled into
the real Kafka broker, run into the real S3. Every entry feedparser finds (JSON Feed: every item)
is an `articles` row, a `rejects` row with a reason, or a `duplicates` row naming the row it
duplicates; a second poll and run add nothing."""
from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from connectors.feeds.localserver import serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore
from connectors.kafka_producer import ItemProducer
from pipeline.run import execute
from stackutil import read_table

FEEDS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds"


def entries_found(body: bytes) -> int:
    """What a feed holds, by the reference parsers: JSON Feed items, else feedparser's entries."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        return len(json.loads(body.decode("utf-8-sig")).get("items") or [])
    return len(feedparser.parse(body).entries)


@pytest.fixture(scope="module")
def feed_files() -> dict[str, bytes]:
    if not FEEDS_DIR.is_dir():
        pytest.skip(f"shared feed files not present at {FEEDS_DIR.resolve()}")
    with open(FEEDS_DIR / "manifest.tsv", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle, delimiter="\t"))
    # the local path keeps the original URL's path, so relative links resolve as they would
    return {f"/{row['file']}{urlsplit(row['url']).path or '/'}": (FEEDS_DIR / row["file"]).read_bytes()
            for row in manifest}


def test_200_real_feeds_every_entry_accounted_for_and_a_rerun_adds_nothing(stack_config, feed_files, tmp_path):
    # The run checks the data path; quotes have their own tests (and would take minutes here).
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False, "max_records_per_run": None})})
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"), global_concurrency=8,
                            per_host_concurrency=8)  # one server stands in for 200 hosts
    with serve(static_handler(feed_files)) as base, StateStore(settings.state_path) as state, \
            ItemProducer(cfg.kafka.bootstrap_servers, cfg.kafka.topic, {}) as producer:
        specs = [FeedSpec(url=base + path) for path in feed_files]
        first = poll_once(specs, state, producer, settings)
        run = execute(cfg)
        # full 200s again (validators dropped): only the seen-set keeps entries from coming back
        for spec in specs:
            feed_state = state.get(spec.url)
            feed_state.etag = feed_state.last_modified = None
            state.save(feed_state)
        second = poll_once(specs, state, producer, settings, now=datetime.now(timezone.utc) + timedelta(days=2))
        rerun = execute(cfg)

    articles, rejects, duplicates = (read_table(cfg, t) for t in ("articles", "rejects", "duplicates"))
    accounted: Counter = Counter(r["feed_url"] for r in articles + duplicates)
    accounted.update(json.loads(r["payload"])["feed_url"] for r in rejects)
    expected = {base + path: entries_found(body) for path, body in feed_files.items()}
    mismatches = {url[len(base):]: (n, accounted.get(url, 0)) for url, n in expected.items()
                  if accounted.get(url, 0) != n}
    assert not mismatches, mismatches
    assert sum(accounted.values()) == run.records == first.new_items
    assert sum(expected.values()) > 4000

    assert all(r["error"] and r["stage"] for r in rejects)
    known = {r["item_id"] for r in articles}
    assert all(d["duplicate_of"] in known and d["reason"] for d in duplicates)
    assert len(known) == len(articles)

    assert second.new_items == 0 and rerun.status == "nothing to do"
