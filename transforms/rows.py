"""Processed articles, failed records and dropped duplicates -> rows of the Parquet tables
(columns: connectors/tables.py). Plain functions; the Beam graph (pipeline/job.py) maps them."""
from __future__ import annotations

from typing import Iterator

# Working fields an article carries through the run that are not columns of `articles`.
_WORKING_FIELDS = ("_record", "order_key", "quotes", "entities", "drop_reason")


def to_table_rows(article: dict, run_id: str) -> Iterator[tuple[str, dict]]:
    """One processed article -> ("articles", row), ("quotes", row)..., ("entities", row)..."""
    quotes = article.get("quotes") or []
    base = {k: v for k, v in article.items() if k not in _WORKING_FIELDS}
    yield "articles", {**base, "quote_count": len(quotes),
                       "leadership_count": sum(1 for q in quotes if q.get("is_leadership")),
                       "run_id": run_id}
    for i, q in enumerate(quotes):
        yield "quotes", {**q, "item_id": article["item_id"], "story_id": article.get("story_id"),
                         "quote_index": i, "url": article["url"], "feed_url": article["feed_url"],
                         "feed_title": article["feed_title"],
                         "published": article["published"], "fetched_at": article["fetched_at"],
                         "run_id": run_id}
    for e in article.get("entities") or []:
        yield "entities", {**e, "item_id": article["item_id"], "fetched_at": article["fetched_at"],
                           "run_id": run_id}


def batch_rows(batch: list[dict], run_id: str) -> list[tuple[str, dict]]:
    """The rows of one NLP batch, together: they become Arrow in the worker that made them."""
    return [table_row for article in batch for table_row in to_table_rows(article, run_id)]


def error_line(exc: BaseException) -> str:
    """An exception as the one-line reason of a reject."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]


def reject_row(record: dict, stage: str, error: str, item_id: str | None = None,
               fetched_at: str | None = None) -> dict:
    """A Kafka record that could not be processed -> a `rejects` row keeping its raw payload."""
    key = record.get("key")
    return {"stage": stage, "error": error, "kafka_topic": record.get("topic"),
            "kafka_partition": record.get("partition"), "kafka_offset": record.get("offset"),
            "kafka_key": key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
            "payload": record.get("value"), "item_id": item_id, "fetched_at": fetched_at}


def reject_key(row: dict) -> tuple:
    """What makes a reject the same reject on a replay: its Kafka position and stage."""
    return (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"], row["stage"])


def record_key(row: dict) -> tuple:
    """A Kafka record's position: a replay must not write its `duplicates` row twice."""
    return (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"])


def duplicate_row(item: dict) -> dict:
    """A record dropped by dedup -> its `duplicates` row, naming the row it duplicates."""
    return {"item_id": item["item_id"], "duplicate_of": item["duplicate_of"], "reason": item["drop_reason"],
            "url": item.get("url"), "title": item.get("title"), "content_hash": item.get("content_hash"),
            "feed_url": item.get("feed_url"), "kafka_topic": item.get("kafka_topic"),
            "kafka_partition": item.get("kafka_partition"), "kafka_offset": item.get("kafka_offset"),
            "fetched_at": item.get("fetched_at")}
