"""Sample feeds from a local server -> poller -> a real Kafka broker -> consumed back."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from connectors.feeds.item import FeedItem
from connectors.feeds.localserver import directory_files, serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore
from connectors.kafka_producer import ItemProducer, KafkaUnavailable

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FEEDS = ROOT / "deploy" / "local" / "sample_feeds"
SCHEMA = json.loads((ROOT / "connectors" / "feeds" / "feed_item.schema.json").read_text(encoding="utf-8"))
_JSON_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "null": type(None), "object": dict}


def schema_errors(record: dict, schema: dict = SCHEMA) -> list[str]:
    """jsonschema when installed; otherwise the subset our schema uses (type, required,
    additionalProperties, const, pattern, minLength, items)."""
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(record)]
    import re

    errors = [f"missing {k}" for k in schema["required"] if k not in record]
    if schema.get("additionalProperties") is False:
        errors += [f"unexpected {k}" for k in record if k not in schema["properties"]]
    for key, rule in schema["properties"].items():
        if key not in record:
            continue
        value, types = record[key], rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if not any(isinstance(value, _JSON_TYPES[t]) and not (t == "integer" and isinstance(value, bool))
                   for t in types):
            errors.append(f"{key}: {value!r} is not {types}")
            continue
        if "const" in rule and value != rule["const"]:
            errors.append(f"{key}: {value!r} != {rule['const']!r}")
        if isinstance(value, str) and "pattern" in rule and not re.search(rule["pattern"], value):
            errors.append(f"{key}: {value!r} does not match {rule['pattern']}")
        if isinstance(value, str) and len(value) < rule.get("minLength", 0):
            errors.append(f"{key}: shorter than {rule['minLength']}")
        if isinstance(value, list) and "items" in rule:
            errors += [f"{key}: {v!r} not a string" for v in value if not isinstance(v, str)]
    return errors


def consume_all(bootstrap: str, topic: str, expected: int) -> list:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000,
                             group_id=f"test-poll-{uuid.uuid4().hex[:8]}")
    records = []
    try:
        for _ in range(12):  # bounded: at most ~60 s of 5 s polls
            records += list(consumer)
            if len(records) >= expected:
                break
    finally:
        consumer.close()
    return records


def test_sample_feeds_reach_kafka_once(kafka_bootstrap, tmp_path):
    topic = f"test.poll.{uuid.uuid4().hex[:10]}"
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"))
    files = directory_files(SAMPLE_FEEDS)
    feed_paths = [p for p in files if p.endswith(".xml")]
    with serve(static_handler(files)) as base, StateStore(settings.state_path) as state, \
            ItemProducer(kafka_bootstrap, topic, {}) as producer:
        specs = [FeedSpec(url=base + p) for p in feed_paths]
        first = poll_once(specs, state, producer, settings)
        # second poll: drop the stored validators so the files come back as full 200s;
        # the seen-set alone must keep their items from being produced again
        for spec in specs:
            feed_state = state.get(spec.url)
            feed_state.etag = feed_state.last_modified = None
            state.save(feed_state)
        second = poll_once(specs, state, producer, settings,
                           now=datetime.now(timezone.utc) + timedelta(hours=1))

    assert first.count("ok") == len(feed_paths) and first.new_items >= 12
    assert second.count("ok") == len(feed_paths) and second.new_items == 0

    records = consume_all(kafka_bootstrap, topic, first.new_items)
    assert len(records) == first.new_items
    values = [json.loads(r.value) for r in records]
    for record, value in zip(records, values):
        assert not schema_errors(value), schema_errors(value)
        assert record.key.decode("utf-8") == value["item_id"]
        FeedItem.from_dict(value)
    assert len({v["item_id"] for v in values}) == len(values)
    treaty = [v for v in values if "Silverrun" in v["content_text"]]
    assert len(treaty) == 3 and len({v["url"] for v in treaty}) == 3  # one story, three feeds


def test_unreachable_broker_gives_one_line_error_naming_the_address():
    with pytest.raises(KafkaUnavailable) as info:
        ItemProducer("127.0.0.1:1", "never.used", {"bootstrap_timeout_ms": 1500})
    message = str(info.value)
    assert "127.0.0.1:1" in message and "\n" not in message


def test_oversized_item_is_sent_without_html_or_as_a_dead_letter_stub(kafka_bootstrap):
    from dataclasses import replace

    small = FeedItem(item_id="small", url="", title="t", summary_html="", summary_text="", content_html="",
                     content_text="", authors=[], tags=[], published="2025-01-28T10:00:00Z", updated=None,
                     published_missing=False, language=None, feed_url="f", feed_title="F",
                     fetched_at="2025-01-28T10:00:00Z")
    # sanitised HTML twice the size of its text: too large with it, small enough without
    html_heavy = replace(small, item_id="html-heavy", content_text="word " * 10_000,
                         content_html="<p>" + "<b>word</b> " * 10_000 + "</p>")
    huge = replace(small, item_id="huge", content_text="x" * 300_000)
    topic = f"test.poll.{uuid.uuid4().hex[:10]}"
    with ItemProducer(kafka_bootstrap, topic, {"max_request_size": 100_000, "compression_type": None}) as producer:
        outcomes = producer([small, html_heavy, huge])
    assert [(type(o).__name__, o.item_id) for o in outcomes] == [("DeadLettered", "huge")]
    records = consume_all(kafka_bootstrap, topic, 3)
    assert sorted(r.key for r in records) == [b"html-heavy", b"huge", b"small"]
    sent = next(json.loads(r.value) for r in records if r.key == b"html-heavy")
    assert sent["content_html"] == "" and sent["content_text"] == html_heavy.content_text
    stub = FeedItem.from_json(next(r.value for r in records if r.key == b"huge"))
    assert stub.content_text == "" and stub.item_id == "huge" and stub.reject_reason == outcomes[0].reason
    assert stub.reject_reason.startswith("too large for Kafka: 300,")
    assert "max_request_size 100,000" in stub.reject_reason and "content_text 300,000 chars" in stub.reject_reason
    assert not schema_errors(json.loads(next(r.value for r in records if r.key == b"huge")))


def test_unsent_items_are_counted_by_the_poller(tmp_path):
    from connectors.feeds.poller import Unsent

    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
            b"<item><guid>a</guid><title>A</title><description>x</description></item>"
            b"<item><guid>b</guid><title>B</title><description>y</description></item></channel></rss>")
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"))

    def sink(items):  # delivers the first, can never deliver the second
        return [Unsent(items[1].item_id, "record too large for Kafka")]

    with serve(static_handler({"/f.xml": feed})) as base, StateStore(settings.state_path) as state:
        summary = poll_once([FeedSpec(url=base + "/f.xml")], state, sink, settings)
        assert state.get(base + "/f.xml").last_parse_error == "1 item(s) not sent: record too large for Kafka"
    assert summary.new_items == 1 and summary.unsent == 1
    assert summary.line().endswith(" · NOT SENT 1 (see the log)")
