"""Feed item (+ where it came from in Kafka) -> the `articles` row, before dedup and NLP."""
from __future__ import annotations

from connectors.feeds.item import FeedItem
from transforms.text import clean_text, content_hash, html_to_text


def article_body(item: FeedItem) -> tuple[str, bool]:
    """The richest text the item carries: full content first, then the summary. (text, is_html)"""
    for value, is_html in ((item.content_html, True), (item.content_text, False),
                           (item.summary_html, True), (item.summary_text, False)):
        if value.strip():
            return value, is_html
    return "", False


def order_key(item: FeedItem, partition: int, offset: int) -> str:
    """Sorts the earlier copy first: publication time, then Kafka position as the tie-break."""
    return f"{item.published}|{partition:08d}|{offset:012d}"


def prepare_article(item: FeedItem, record: dict) -> dict:
    body, is_html = article_body(item)
    text = clean_text(body, is_html=is_html)
    summary = item.summary_text or (html_to_text(item.summary_html) if item.summary_html else "")
    return {
        "item_id": item.item_id,
        # "" when the entry has no link or title: kept as is (dedup treats "" as no identity).
        "url": item.url,
        "title": item.title,
        "summary": summary,
        "text": text,
        "content_hash": content_hash(text) if text else content_hash(item.title or item.item_id),
        "word_count": len(text.split()),
        "authors": list(item.authors),
        "tags": list(item.tags),
        "language": item.language,
        "published": item.published,
        "published_missing": item.published_missing,
        "updated": item.updated,
        "fetched_at": item.fetched_at,
        "feed_url": item.feed_url,
        "feed_title": item.feed_title,
        "kafka_topic": record["topic"],
        "kafka_partition": record["partition"],
        "kafka_offset": record["offset"],
        "order_key": order_key(item, record["partition"], record["offset"]),
    }
