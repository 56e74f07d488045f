"""Processed articles, failed records and dropped duplicates -> rows of the Parquet tables
(columns: connectors/tables.py), and the `rejects` row of anything that cannot become rows
(stages `decode`, `prepare`, `poll`, `nlp`, `rows`, `write`). Plain functions; the Beam graph
(pipeline/job.py) maps them."""
from __future__ import annotations

import json
from typing import Iterator

from apache_beam.pvalue import TaggedOutput

from connectors import tables

REJECTS = "rejects"

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


def checked_rows(article: dict, run_id: str) -> list[tuple[str, dict]]:
    """`to_table_rows`, raising when the article's row cannot be written: a value Arrow cannot
    take, or no `dt=` partition (the other rows copy its ids and dates)."""
    rows = list(to_table_rows(article, run_id))
    table, row = rows[0]
    tables.partition_date(row)
    tables.rows_to_arrow(table, [row])
    return rows


def article_rows(article: dict, run_id: str) -> Iterator:
    """One article -> its rows as one list (they become Arrow together: one chunk per file, not
    an element per row through the writer's shuffle), or one `rejects` row at stage `rows`
    (tagged REJECTS) with the raw record, when they cannot be written: never a failed run,
    never half an article."""
    yield from batch_rows([article], run_id)


def batch_rows(batch: list[dict], run_id: str) -> Iterator:
    """The rows of one NLP batch as one list (they become Arrow together, in the worker that
    made them), and a tagged `rows` reject for each article whose rows cannot be written."""
    good: list[tuple[str, dict]] = []
    for article in batch:
        try:
            good.extend(checked_rows(article, run_id))
        except Exception as exc:
            yield TaggedOutput(REJECTS, _rows_reject(article, exc))
    if good:
        yield good


def _rows_reject(article: dict, exc: BaseException) -> dict:
    item_id = article.get("item_id")
    return reject_row(article.get("_record") or {}, "rows", error_line(exc),
                      item_id if isinstance(item_id, str) else None)


def _text(value) -> str | None:
    """A string every later step can carry: lone surrogates (the poison itself, quoted in an
    error message) become backslash escapes."""
    if not isinstance(value, str):
        return None
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def error_line(exc: BaseException) -> str:
    """An exception as the one-line reason of a reject."""
    return _text((f"{type(exc).__name__}: {exc}".splitlines() or [type(exc).__name__])[0][:2000])


def reject_row(record: dict, stage: str, error: str, item_id: str | None = None,
               fetched_at: str | None = None) -> dict:
    """A Kafka record that could not be processed -> a `rejects` row keeping its raw payload."""
    key = record.get("key")
    return {"stage": stage, "error": _text(error), "kafka_topic": record.get("topic"),
            "kafka_partition": record.get("partition"), "kafka_offset": record.get("offset"),
            "kafka_key": key.decode("utf-8", "replace") if isinstance(key, bytes) else _text(key),
            "payload": record.get("value"), "item_id": _text(item_id), "fetched_at": fetched_at}


def write_reject(table: str, row: dict, reason: str, run_id: str | None = None) -> dict:
    """A `rejects` row (stage `write`) for a row of ``table`` the writer could not take: the row
    itself, as JSON, is the payload. Only values that surely convert are copied over."""
    def whole(v):
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    payload = json.dumps(row, default=repr, ensure_ascii=True, sort_keys=True).encode()
    return {"stage": "write", "error": f"{table} row: {_text(reason)}"[:2000],
            "kafka_topic": _text(row.get("kafka_topic")), "kafka_partition": whole(row.get("kafka_partition")),
            "kafka_offset": whole(row.get("kafka_offset")), "kafka_key": None, "payload": payload,
            "item_id": _text(row.get("item_id")), "fetched_at": None,
            "run_id": _text(row.get("run_id")) or run_id}


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
