"""Helpers for integration tests: put feed items into the real Kafka, read tables from the real S3."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq

from connectors import parquet_sink, s3
from pipeline.config import Config


def feed_item(item_id: str, text: str, *, url: str | None = None, title: str = "A title",
              feed: str = "http://feeds.example/a.xml", published: str = "2025-01-28T10:00:00Z",
              fetched_at: str | None = None) -> dict:
    return {
        "schema_version": 1, "item_id": item_id, "url": url or f"https://news.example/{item_id}",
        "title": title, "summary_html": "", "summary_text": text[:100], "content_html": "",
        "content_text": text, "authors": [], "tags": [], "published": published, "updated": None,
        "published_missing": False, "language": "en", "feed_url": feed, "feed_title": feed,
        "fetched_at": fetched_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def produce(config: Config, items: list[dict | bytes], partitions: int = 2) -> None:
    """Items as JSON (dicts) or raw bytes (poison), keyed like the poller keys them."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=config.kafka.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(config.kafka.topic, partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=config.kafka.bootstrap_servers, acks="all")
    for i, it in enumerate(items):
        if isinstance(it, bytes):
            producer.send(config.kafka.topic, key=f"poison-{i}".encode(), value=it)
        else:
            producer.send(config.kafka.topic, key=it["item_id"].encode(), value=json.dumps(it).encode())
    producer.flush()
    producer.close()


def read_table(config: Config, table: str) -> list[dict]:
    """Rows of one table from committed runs only (what a reader following manifests sees)
    plus any files present (what a naive glob sees) - tests compare both where it matters."""
    ss = s3.S3Settings.from_config(config.s3)
    fs = s3.filesystem(ss)
    rows: list[dict] = []
    for f in parquet_sink.data_files(ss):
        if f["table"] == table:
            rows.extend(pq.read_table(f"{ss.bucket}/{f['key']}", filesystem=fs).to_pylist())
    return rows
