"""Feed item (+ where it came from in Kafka) -> the `articles` row, before dedup and NLP."""
from __future__ import annotations

from transforms.text import clean_text, content_hash, html_to_text


def article_body(item: dict) -> tuple[str, bool]:
    """The richest text the item carries: full content first, then the summary. (text, is_html)"""
    for field, is_html in (("content_html", True), ("content_text", False),
                           ("summary_html", True), ("summary_text", False)):
        if (item.get(field) or "").strip():
            return item[field], is_html
    return "", False


def order_key(item: dict, partition: int, offset: int) -> str:
    """Sorts the earlier copy first: publication time, then Kafka position as the tie-break."""
    return f"{item.get('published') or item['fetched_at']}|{partition:08d}|{offset:012d}"


def prepare_article(item: dict, record: dict) -> dict:
    body, is_html = article_body(item)
    text = clean_text(body, is_html=is_html)
    summary = item.get("summary_text") or (html_to_text(item["summary_html"]) if item.get("summary_html") else "")
    return {
        "item_id": item["item_id"],
        "url": item["url"],
        "title": item.get("title") or "",
        "summary": summary,
        "text": text,
        "content_hash": content_hash(text) if text else content_hash(item.get("title") or item["item_id"]),
        "word_count": len(text.split()),
        "authors": [str(a) for a in item.get("authors") or []],
        "tags": [str(t) for t in item.get("tags") or []],
        "language": item.get("language"),
        "published": item.get("published") or item["fetched_at"],
        "published_missing": bool(item.get("published_missing")),
        "updated": item.get("updated"),
        "fetched_at": item["fetched_at"],
        "feed_url": item["feed_url"],
        "feed_title": item.get("feed_title") or "",
        "kafka_topic": record["topic"],
        "kafka_partition": record["partition"],
        "kafka_offset": record["offset"],
        "order_key": order_key(item, record["partition"], record["offset"]),
    }
