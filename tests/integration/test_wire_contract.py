"""The wire record's three views agree: what the poller emits, what the JSON schema file allows
and what the run's decoder accepts.

Input nobody on the team wrote: the 200 real feed files and the 1,768 one-quirk documents of
feedparser's test suite, served from 127.0.0.1 and polled by the real poller (fetch, parse,
normalise). Every entry it emits must validate against connectors/feeds/feed_item.schema.json
and decode unchanged. Then every field of real records is broken in every way we know, and the
schema and the decoder must give the same verdict; the only decoder-only rules are the ones
the schema documents in words (the date window, days that do not exist).
"""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from connectors.feeds.item import RULES, SCHEMA_FILE, FeedItem, parse_timestamp
from connectors.feeds.localserver import serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore
from transforms.decode import DecodeError, decode_item

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

jsonschema = pytest.importorskip("jsonschema")


def _documents() -> dict[str, bytes]:
    feeds, quirks = SHARED / "feeds", SHARED / "feedparser-tests"
    if not feeds.is_dir() or not quirks.is_dir():
        pytest.skip(f"shared feed files not present under {SHARED.resolve()}")
    with open(feeds / "manifest.tsv", encoding="utf-8") as handle:
        docs = {f"/feeds/{row['file']}": (feeds / row["file"]).read_bytes()
                for row in csv.DictReader(handle, delimiter="\t")}
    docs.update({f"/quirks/{p.relative_to(quirks)}": p.read_bytes()
                 for p in sorted(quirks.rglob("*.xml"))})
    return docs


@pytest.fixture(scope="module")
def polled(tmp_path_factory) -> list[FeedItem]:
    docs = _documents()
    assert len(docs) >= 1900
    state_path = tmp_path_factory.mktemp("wire") / "state.sqlite3"
    settings = PollSettings(state_path=str(state_path), global_concurrency=16, per_host_concurrency=16,
                            allow_private_addresses=True)
    items: list[FeedItem] = []
    with serve(static_handler(docs)) as base, StateStore(settings.state_path) as state:
        summary = poll_once([FeedSpec(url=base + path) for path in docs], state, items.extend, settings)
    assert summary.polled == len(docs)
    assert len(items) == summary.new_items > 3000
    return items


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _decodes(record: dict, received_at: datetime) -> bool:
    try:
        decode_item(json.dumps(record).encode(), received_at)
        return True
    except DecodeError:
        return False


def test_everything_the_poller_emits_is_valid_for_the_schema_and_the_decoder(polled, validator):
    # the odd ones are in there: entries without link or title, long contents, dates from the
    # feeds' own clocks and placeholders
    assert any(i.url == "" for i in polled) and any(i.title == "" for i in polled)
    assert any(i.published_missing for i in polled) and any(i.updated for i in polled)
    schema_errors, decode_diffs = [], []
    for item in polled:
        record = item.to_dict()
        errors = [e.message for e in validator.iter_errors(json.loads(item.to_json()))]
        if errors:
            schema_errors.append((item.feed_url, item.item_id, errors[:2]))
        received = parse_timestamp(item.fetched_at)
        try:
            decoded = decode_item(item.to_json().encode("utf-8"), received)
        except DecodeError as exc:
            decode_diffs.append((item.feed_url, item.item_id, str(exc)))
            continue
        if decoded != item:  # the poller applied the same date window: nothing to repair
            decode_diffs.append((item.feed_url, item.item_id, {k: (v, getattr(decoded, k))
                                 for k, v in record.items() if getattr(decoded, k) != v}))
    assert schema_errors == [] and decode_diffs == []


NOW = "2025-01-28T10:00:00Z"
# Per kind of field: values that break it. `None` is tried on every field too.
BAD = {
    "string": [1, 1.5, True, ["x"], {"x": "y"}],
    "timestamp": ["not-a-date", "yesterday", "0001-01-01", "10000-01-01T00:00:00Z", "2025-01-28",
                  "2025-01-28T10:00:00", "2025-01-28T10:00:00+00:00", "2025-01-28T10:00:00.5Z",
                  "2025-13-01T00:00:00Z", "2025-01-28T24:00:00Z", " 2025-01-28T10:00:00Z", NOW + "\n", 1738058400,
                  {"$date": NOW}],
    "strings": ["a", 1, [1], [None], [["nested"]], [{"x": 1}], {"0": "a"}],
    "boolean": ["true", 0, 1, "no", []],
    "version": [2, 0, "1", 1.5, True],
}
# Values the schema allows but the decoder refuses, each for a documented reason.
DECODER_ONLY = [
    ("fetched_at", "0001-01-01T00:00:00Z", "before the window"),
    ("fetched_at", "2999-01-01T00:00:00Z", "after the window"),
    ("fetched_at", "2025-02-30T10:00:00Z", "no such day"),
    ("title", "half a pair \ud800", "not text"),
    ("authors", ["\udc00"], "not text"),
]


def _mutations():
    for name, rule in RULES.items():
        for value in BAD[rule.kind] + [None]:
            yield name, value
        yield f"-{name}", None  # the field missing
    for value in ("", "   "):
        yield "item_id", value
    yield "+extra", 1
    for name, value, _why in DECODER_ONLY:
        yield name, value
    # allowed everywhere: the window treats these as missing, it does not reject
    for name in ("published", "updated"):
        for value in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z"):
            yield name, value
    for name in ("url", "title", "summary_html", "content_text", "feed_title"):
        yield name, ""


def _mutate(record: dict, name: str, value) -> dict:
    out = dict(record)
    if name.startswith("-"):
        out.pop(name[1:], None)  # an optional field (reject_reason) is already absent
    elif name.startswith("+"):
        out[name[1:]] = value
    else:
        out[name] = value
    return out


def test_schema_and_decoder_agree_on_every_broken_field(polled, validator):
    """Schema and decoder agree on every mutation of real records (one record per feed format)."""
    samples = {}
    for item in polled:
        samples.setdefault(item.feed_url.rsplit("/", 2)[-2], item)  # one per quirk folder / feeds
    received = datetime(2025, 1, 28, 12, tzinfo=timezone.utc)
    disagreements = []
    for item in samples.values():
        base = {**item.to_dict(), "fetched_at": NOW, "published": NOW}
        assert validator.is_valid(base) and _decodes(base, received)
        for name, value in _mutations():
            record = _mutate(base, name, value)
            schema_ok, decoder_ok = validator.is_valid(record), _decodes(record, received)
            decoder_only = any(name == n and value == v for n, v, _why in DECODER_ONLY)
            if schema_ok != decoder_ok and not (not decoder_ok and decoder_only):
                disagreements.append((name, value, "schema" if schema_ok else "decoder", "accepts"))
    assert disagreements == []
    assert len(samples) >= 10


def test_the_decoder_only_rules_are_in_the_schema_description():
    description = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["description"]
    assert "sane window" in description and "1990-01-01" in description
    assert json.loads(SCHEMA_FILE.read_text())["properties"]["fetched_at"]["format"] == "date-time"
