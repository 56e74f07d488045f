"""All 200 real feed files in ../shared/data/feeds, served from 127.0.0.1 and polled once.

Expected item counts come from an independent counter (regex over `<item>`/`<entry>` elements,
JSON Feed `items`); the few files where the poller's count differs were reviewed by hand and
are listed in REVIEWED with the reason and the exact outcome we expect instead.
"""
from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.feeds.item import FeedItem
from connectors.feeds.localserver import serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore

FEEDS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feeds"
ENTRY_TAG = re.compile(rb"<(?:[A-Za-z][\w.-]*:)?(?:item|entry)[\s/>]")
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# file -> (outcome kind, items produced, why it differs from the independent count)
REVIEWED = {
    "7ef13a42fa7e177a": ("failed", 0, "broken XML declaration `<?xml?xml ... ??>` before the root and "
                         "undeclared `rss:` prefixes on every element: feedparser finds no feed; "
                         "reported as 'not a feed' with the SAX error"),
}
# Entries a document repeats (a podcast feed listing two episodes twice, Al-Monitor repeating
# stories up to four times) are all produced: the run records the repeats in `duplicates`, naming
# the row they repeat (tests/integration/test_feed_identity_e2e.py runs these files end to end).


def independent_count(body: bytes) -> int:
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"{":
        return len(json.loads(body.decode("utf-8-sig")).get("items") or [])
    return len(ENTRY_TAG.findall(body))


@pytest.fixture(scope="module")
def feed_files() -> dict[str, tuple[str, bytes]]:
    """Local path -> (file name, bytes); the path keeps the original URL's path for relative links."""
    if not FEEDS_DIR.is_dir():
        pytest.skip(f"shared feed files not present at {FEEDS_DIR.resolve()}")
    with open(FEEDS_DIR / "manifest.tsv", encoding="utf-8") as handle:
        manifest = list(csv.DictReader(handle, delimiter="\t"))
    assert len(manifest) == 200
    return {f"/{row['file']}{urlsplit(row['url']).path or '/'}": (row["file"], (FEEDS_DIR / row["file"]).read_bytes())
            for row in manifest}


def test_every_real_feed_yields_its_items_or_a_clear_reason(feed_files, tmp_path):
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"),
                            global_concurrency=8, per_host_concurrency=8)  # one server stands in for 200 hosts
    produced: dict[str, list[FeedItem]] = {}

    def sink(items: list[FeedItem]) -> None:  # a collector; the Kafka path has its own test
        produced.setdefault(items[0].feed_url, []).extend(items)

    with serve(static_handler({path: body for path, (_, body) in feed_files.items()})) as base, \
            StateStore(settings.state_path) as state:
        specs = [FeedSpec(url=base + path) for path in feed_files]
        first = poll_once(specs, state, sink, settings)
        second = poll_once(specs, state, sink, settings, now=datetime.now(timezone.utc) + timedelta(days=2))

    assert first.polled == 200
    by_file = {feed_files[o.feed_url[len(base):]][0]: o for o in first.outcomes}
    mismatches = []
    for path, (name, body) in feed_files.items():
        outcome, items = by_file[name], produced.get(base + path, [])
        if name in REVIEWED:
            kind, count, _reason = REVIEWED[name]
            assert (outcome.kind, len(items)) == (kind, count), name
            if kind == "failed":
                assert outcome.error and "not a feed" in outcome.error
            continue
        expected = independent_count(body)
        if outcome.kind != "ok" or len(items) != expected:
            mismatches.append((name, outcome.kind, expected, len(items), outcome.error))
    assert not mismatches, mismatches

    all_items = [item for items in produced.values() for item in items]
    assert len(all_items) == first.new_items
    for item in all_items:
        assert FeedItem.from_json(item.to_json()) == item
        assert ISO_Z.match(item.published) and ISO_Z.match(item.fetched_at)
        assert item.item_id and "<script" not in item.content_html.lower()
        assert item.url == "" or item.url.startswith(("http://", "https://")), item.url
    # only two files carry link-less entries (one of them 1,046 of them): ids fall back to hashes
    assert sum(1 for i in all_items if not i.url) == 1047
    assert not any("utm_" in i.url for i in all_items)

    # unchanged files: every feed that succeeded answers 304 and nothing is produced again
    ok_feeds = sum(1 for o in first.outcomes if o.kind == "ok")
    assert second.count("not_modified") == ok_feeds and second.new_items == 0
