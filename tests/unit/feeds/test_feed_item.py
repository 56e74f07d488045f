import json
import re
from dataclasses import fields, replace
from pathlib import Path

import pytest

from connectors.feeds.item import FeedItem

ROOT = Path(__file__).resolve().parents[3]


def sample() -> FeedItem:
    return FeedItem(item_id="g1", url="https://example.org/a", title="T", summary_html="<p>S</p>",
                    summary_text="S", content_html="", content_text="", authors=["A"], tags=["x"],
                    published="2025-01-28T10:00:00Z", updated=None, published_missing=False,
                    language="en", feed_url="https://example.org/feed", feed_title="F",
                    fetched_at="2025-01-28T10:05:00Z")


def test_checked_in_schema_is_the_generated_one():
    """feed_item.schema.json is generated from FeedItem: run `python -m connectors.feeds.item --write`."""
    from connectors.feeds.item import SCHEMA_FILE, schema_text

    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), \
        "connectors/feeds/feed_item.schema.json is out of date: python -m connectors.feeds.item --write"


def test_schema_fields_are_the_dataclass_fields():
    schema = json.loads((ROOT / "connectors" / "feeds" / "feed_item.schema.json").read_text())
    names = [f.name for f in fields(FeedItem)]
    assert names == list(schema["properties"])
    assert schema["required"] == [n for n in names if n != "reject_reason"]  # only on dead-letter stubs
    assert schema["properties"]["schema_version"]["const"] == sample().schema_version == 1
    assert schema["additionalProperties"] is False


def test_reject_reason_is_absent_from_ordinary_records_and_kept_on_a_stub():
    from dataclasses import replace

    from connectors.feeds.item import InvalidFeedItem

    ordinary = sample().to_dict()
    assert "reject_reason" not in ordinary and FeedItem.from_dict(ordinary).reject_reason is None
    stub = replace(sample(), content_text="", reject_reason="too large for Kafka")
    assert FeedItem.from_json(stub.to_json()) == stub
    for bad in (None, "", 5):
        with pytest.raises(InvalidFeedItem, match="reject_reason"):
            FeedItem.from_dict({**ordinary, "reject_reason": bad})


def test_the_decoder_keeps_no_list_of_fields_of_its_own():
    source = (ROOT / "transforms" / "decode.py").read_text(encoding="utf-8")
    for name in ("summary_html", "content_text", "feed_title", "authors"):
        assert name not in source


def test_json_round_trip_keeps_unicode():
    item = replace(sample(), title="“Quoted” – Zürich")
    text = item.to_json()
    assert "“Quoted” – Zürich" in text
    assert FeedItem.from_json(text) == item


@pytest.mark.parametrize("change", [
    {"extra": 1}, {"published_missing": "no"}, {"authors": [1]}, {"schema_version": 2},
    {"schema_version": True}, {"updated": 5},
])
def test_from_dict_rejects_bad_records(change):
    record = {**sample().to_dict(), **change}
    with pytest.raises(ValueError):
        FeedItem.from_dict(record)


def test_from_dict_rejects_missing_field():
    record = sample().to_dict()
    del record["language"]
    with pytest.raises(ValueError, match="language"):
        FeedItem.from_dict(record)
