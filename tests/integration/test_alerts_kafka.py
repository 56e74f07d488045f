"""Kafka sink against the real local Kafka broker (skips when it is not running)."""

from __future__ import annotations

import json

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import dispatch
from connectors.alerts.ledger import SENT, SqliteLedger


def consume_all(bootstrap: str, topic: str) -> list:
    # Manual assignment: no consumer-group join to wait for.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000)
    consumer.assign([TopicPartition(topic, 0)])
    consumer.seek_to_beginning()
    try:
        return list(consumer)  # stops after 3 s without new records
    finally:
        consumer.close()


def test_alert_lands_once_on_a_fresh_topic_keyed_by_statement_and_rule(kafka_bootstrap, unique, tmp_path):
    topic = f"test.alerts.{unique}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    admin.close()
    config = AlertsConfig.model_validate({
        "rules": [{"name": "leaders", "leaders": ["Jane Doe"], "sinks": ["bus"]}],
        "sinks": [{"type": "kafka", "name": "bus", "topic": topic, "bootstrap_servers": kafka_bootstrap}],
        "max_attempts": 3, "base_backoff_seconds": 0.2, "timeout_seconds": 15,
    })
    rows = [
        {"statement_id": "st-k1", "speaker_name": "Jane Doe", "speaker_role": "Prime Minister", "speaker_country": "NZ",
         "text": "We act today.", "confidence": 0.9, "is_leadership": True, "item_id": f"{feed}-1",
         "url": f"https://{feed}.example/1", "feed_title": feed, "feed_url": f"https://{feed}.example/rss",
         "published": "2025-01-28T10:00:00Z", "first_seen": "2025-01-28T10:01:00Z"}
        for feed in ("alpha", "bravo", "charlie")
    ]
    ledger = SqliteLedger(tmp_path / "alerts.sqlite")

    first = dispatch(rows, config, ledger)
    second = dispatch(rows, config, ledger)

    state = ledger.get("st-k1", "leaders", "bus").state
    ledger.close()
    assert (first.sent, second.sent, second.skipped_already_sent, state) == (1, 0, 1, SENT)
    [record] = consume_all(kafka_bootstrap, topic)
    assert record.key == b"st-k1:leaders"
    value = json.loads(record.value)
    assert value["speaker"]["name"] == "Jane Doe" and value["text"] == "We act today."
    assert [link["url"] for link in value["links"]] == [r["url"] for r in rows]
