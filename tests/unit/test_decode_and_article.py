"""Kafka record value -> feed item -> article row, without services."""
from __future__ import annotations

import json

import pytest

from transforms.article import article_body, prepare_article
from transforms.decode import DecodeError, decode_item


def _item(**over):
    base = {"schema_version": 1, "item_id": "i1", "url": "https://n.example/a", "title": "T",
            "fetched_at": "2025-01-28T10:00:00Z", "feed_url": "https://n.example/rss"}
    base.update(over)
    return base


def _bytes(obj) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize("value, reason", [
    (None, "tombstone"),
    (b"\xff\xfe", "not UTF-8"),
    (b"{oops", "not JSON"),
    (b"[1, 2]", "JSON list"),
    (_bytes(_item(schema_version=2)), "schema_version 2"),
    (_bytes({k: v for k, v in _item().items() if k != "item_id"}), "'item_id'"),
    (_bytes({k: v for k, v in _item().items() if k != "url"}), "'url'"),
    (_bytes(_item(url=None)), "'url'"),
    (_bytes(_item(feed_url="")), "'feed_url' is empty"),
    (_bytes(_item(authors="Jane")), "'authors' has type str"),
])
def test_bad_values_are_rejected_with_a_reason(value, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_item(value)


def test_good_value_decodes():
    assert decode_item(_bytes(_item(authors=["A"])))["authors"] == ["A"]


def test_entries_without_link_or_title_decode():
    """RSS 2.0 items may lack <link> or <title>, Atom entries a link: the schema allows ''."""
    assert decode_item(_bytes(_item(url="")))["url"] == ""
    assert decode_item(_bytes(_item(title="")))["title"] == ""
    row = prepare_article(decode_item(_bytes(_item(url="", title="", content_text="Body only."))),
                          {"topic": "t", "partition": 0, "offset": 3})
    assert row["url"] == "" and row["title"] == "" and row["text"] == "Body only."


def test_body_prefers_full_content_then_summary():
    assert article_body(_item(content_html="<p>full</p>", summary_text="short")) == ("<p>full</p>", True)
    assert article_body(_item(content_html="  ", summary_text="short")) == ("short", False)
    assert article_body(_item()) == ("", False)


def test_prepare_cleans_html_drops_repeated_caption_and_orders_by_date_then_offset():
    caption = "Leaders meet in Tehran on January 28, 2025"
    item = _item(content_html=f"<p>{caption}</p><p>{caption}</p><p>“We must know,” he said.</p>",
                 published="2025-01-28T09:00:00Z")
    row = prepare_article(item, {"topic": "t", "partition": 1, "offset": 42})
    assert row["text"] == f"{caption}\n\n“We must know,” he said."
    assert row["word_count"] == len(row["text"].split())
    assert row["order_key"] == "2025-01-28T09:00:00Z|00000001|000000000042"
    assert (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"]) == ("t", 1, 42)
    same_text = prepare_article(_item(item_id="i2", content_text=row["text"]), {"topic": "t", "partition": 0, "offset": 1})
    assert same_text["content_hash"] == row["content_hash"]


def test_missing_published_falls_back_to_fetch_time():
    row = prepare_article(_item(published=None), {"topic": "t", "partition": 0, "offset": 0})
    assert row["published"] == "2025-01-28T10:00:00Z"
