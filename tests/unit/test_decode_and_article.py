"""Kafka record value -> feed item -> article row, without services.

The decoder applies FeedItem's rules (connectors/feeds/item.py): every field later stages parse
is checked here, so poison becomes a reason, never an exception further down."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from connectors.feeds.item import FeedItem
from connectors.tables import partition_date, to_arrow
from transforms.article import article_body, prepare_article
from transforms.decode import DecodeError, decode_item, received_time
from transforms.rows import to_table_rows

RECEIVED = datetime(2025, 1, 28, 10, 5, tzinfo=timezone.utc)


def _item(**over):
    base = {"schema_version": 1, "item_id": "i1", "url": "https://n.example/a", "title": "T",
            "summary_html": "", "summary_text": "", "content_html": "", "content_text": "",
            "authors": [], "tags": [], "published": "2025-01-28T09:00:00Z", "updated": None,
            "published_missing": False, "language": "en", "feed_url": "https://n.example/rss",
            "feed_title": "N", "fetched_at": "2025-01-28T10:00:00Z"}
    base.update(over)
    return base


def _bytes(obj) -> bytes:
    return json.dumps(obj).encode()


def _decode(**over) -> FeedItem:
    return decode_item(_bytes(_item(**over)), RECEIVED)


@pytest.mark.parametrize("value, reason", [
    (None, "tombstone"),
    (b"\xff\xfe", "not UTF-8"),
    (b"{oops", "not JSON"),
    (b"[1, 2]", "JSON array"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (_bytes(_item(schema_version=2)), "schema_version 2"),
    (_bytes(_item(schema_version=1.0)), "schema_version 1.0"),
    (_bytes(_item(schema_version=True)), "schema_version true"),
    (_bytes({k: v for k, v in _item().items() if k != "item_id"}), "missing field(s) 'item_id'"),
    (_bytes(_item(extra=1)), "unknown field(s) 'extra'"),
    (_bytes(_item(item_id="")), "'item_id' is empty"),
    (_bytes(_item(feed_url="")), "'feed_url' is empty"),
    (_bytes(_item(authors="Jane")), "'authors' is a string, expected an array of strings"),
    (_bytes(_item(tags=["a", {"nested": "junk"}])), "'tags' item 1 is a object"),
    (_bytes(_item(authors=[["x"]])), "'authors' item 0 is a array"),
    (_bytes(_item(title={"a": 1})), "'title' is a object"),
    (_bytes(_item(title=None)), "'title' is null"),
    (_bytes(_item(language=5)), "'language' is a number"),
    (_bytes(_item(published_missing="no")), "'published_missing' is a string"),
    (_bytes(_item(url=None)), "'url' is null"),
    (_bytes(_item(title="a\ud800b")), "'title' holds an unpaired surrogate"),
    (_bytes(_item(authors=["ok", "\udfff"])), "'authors' item 1 holds an unpaired surrogate"),
])
def test_bad_values_are_rejected_with_a_reason(value, reason):
    with pytest.raises(DecodeError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_item(value, RECEIVED)


@pytest.mark.parametrize("field", ["fetched_at", "published", "updated"])
@pytest.mark.parametrize("value", ["not-a-date", "yesterday", "0001-01-01", "10000-01-01T00:00:00Z",
                                   "2025-01-28 10:00:00", "2025-01-28T10:00:00+01:00",
                                   "2025-02-30T10:00:00Z", "2025-01-28T10:00:00Z\n", 20250128,
                                   ["2025-01-28T10:00:00Z"]])
def test_a_timestamp_not_in_the_wire_form_is_rejected_naming_the_field(field, value):
    with pytest.raises(DecodeError, match=f"'{field}'"):
        _decode(**{field: value})


def test_every_problem_of_a_record_is_named_in_one_line():
    with pytest.raises(DecodeError) as info:
        _decode(item_id="", authors=[1], fetched_at="not-a-date")
    message = str(info.value)
    assert "\n" not in message
    assert all(f"'{f}'" in message for f in ("item_id", "authors", "fetched_at"))


def test_entries_without_link_or_title_are_valid():
    """RSS items without <link> or <title>, Atom entries without a link (issue 14, item 1)."""
    item = _decode(url="", title="")
    row = prepare_article(item, {"topic": "t", "partition": 0, "offset": 3})
    assert (row["url"], row["title"]) == ("", "")
    # the row goes to Arrow as it is: empty strings stay empty strings, not nulls
    table = to_arrow("articles", [dict(next(to_table_rows(row, "r"))[1])])
    assert table.column("url").to_pylist() == [""] and table.column("title").to_pylist() == [""]


def test_good_value_decodes_to_a_feed_item():
    item = _decode(authors=["A"], updated="2025-01-28T09:30:00Z")
    assert isinstance(item, FeedItem)
    assert (item.authors, item.updated, item.published_missing) == (["A"], "2025-01-28T09:30:00Z", False)


# ----------------------------------------------------------------------------- the sane window
def test_fetched_at_outside_the_window_is_a_reject():
    with pytest.raises(DecodeError, match="'fetched_at' is '0001-01-01T00:00:00Z', outside the sane window"):
        _decode(fetched_at="0001-01-01T00:00:00Z", published="0001-01-01T00:00:00Z")
    with pytest.raises(DecodeError, match="outside the sane window"):
        _decode(fetched_at="1989-12-31T23:59:59Z")
    # more than a day after the record reached Kafka: the poller's clock is wrong
    with pytest.raises(DecodeError, match="poller's clock"):
        _decode(fetched_at="2025-01-29T10:06:00Z")
    assert _decode(fetched_at="2025-01-29T10:04:00Z").fetched_at == "2025-01-29T10:04:00Z"


def test_window_reference_is_the_kafka_timestamp_so_a_replay_decides_the_same():
    late = datetime(2031, 1, 1, tzinfo=timezone.utc)
    record = _bytes(_item(fetched_at="2030-06-01T00:00:00Z", published="2030-06-01T00:00:00Z"))
    with pytest.raises(DecodeError):
        decode_item(record, RECEIVED)
    assert decode_item(record, late).fetched_at == "2030-06-01T00:00:00Z"
    assert received_time(int(RECEIVED.timestamp() * 1000)) == RECEIVED
    assert received_time(-1) is None and received_time(None) is None


@pytest.mark.parametrize("published", ["0001-01-01T00:00:00Z", "1989-12-31T00:00:00Z",
                                       "9999-12-31T23:59:59Z", "2025-01-29T10:00:01Z"])
def test_published_outside_the_window_is_treated_as_missing(published):
    item = _decode(published=published)
    assert (item.published, item.published_missing) == ("2025-01-28T10:00:00Z", True)


def test_published_outside_the_window_falls_back_to_a_sane_updated():
    item = _decode(published="0001-01-01T00:00:00Z", updated="2025-01-27T08:00:00Z")
    assert (item.published, item.updated, item.published_missing) == (
        "2025-01-27T08:00:00Z", "2025-01-27T08:00:00Z", False)


def test_updated_outside_the_window_is_dropped():
    item = _decode(updated="9999-01-01T00:00:00Z")
    assert item.updated is None and item.published == "2025-01-28T09:00:00Z"


def test_dates_in_the_window_and_a_day_ahead_are_kept():
    item = _decode(published="1990-01-01T00:00:00Z", updated="2025-01-29T10:00:00Z")
    assert (item.published, item.updated, item.published_missing) == (
        "1990-01-01T00:00:00Z", "2025-01-29T10:00:00Z", False)


def test_partition_is_always_four_digit_year():
    assert partition_date({"fetched_at": "0001-01-01T00:00:00Z"}) == "0001-01-01"
    assert partition_date({"fetched_at": _decode().fetched_at}) == "2025-01-28"


# ----------------------------------------------------------------------------- article rows
def test_body_prefers_full_content_then_summary():
    item = _decode()
    assert article_body(replace(item, content_html="<p>full</p>", summary_text="short")) == ("<p>full</p>", True)
    assert article_body(replace(item, content_html="  ", summary_text="short")) == ("short", False)
    assert article_body(item) == ("", False)


def test_prepare_cleans_html_drops_repeated_caption_and_orders_by_date_then_offset():
    caption = "Leaders meet in Tehran on January 28, 2025"
    item = _decode(content_html=f"<p>{caption}</p><p>{caption}</p><p>“We must know,” he said.</p>")
    row = prepare_article(item, {"topic": "t", "partition": 1, "offset": 42})
    assert row["text"] == f"{caption}\n\n“We must know,” he said."
    assert row["word_count"] == len(row["text"].split())
    assert row["order_key"] == "2025-01-28T09:00:00Z|00000001|000000000042"
    assert (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"]) == ("t", 1, 42)
    same_text = prepare_article(_decode(item_id="i2", content_text=row["text"]), {"topic": "t", "partition": 0, "offset": 1})
    assert same_text["content_hash"] == row["content_hash"]


def test_missing_published_is_the_fetch_time():
    row = prepare_article(_decode(published="2025-01-28T10:00:00Z", published_missing=True),
                          {"topic": "t", "partition": 0, "offset": 0})
    assert (row["published"], row["published_missing"]) == ("2025-01-28T10:00:00Z", True)
