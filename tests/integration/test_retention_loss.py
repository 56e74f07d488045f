"""Records Kafka's retention deletes before a run reads them are counted, logged, and shown in
the run's manifest, its Prometheus metrics and `newsbeam status` (real broker, real topic with a
tiny retention.ms; the local stack checks retention every 2 s)."""
from __future__ import annotations

import json
import logging
import time

from connectors import s3
from connectors.kafka_source import KafkaSettings, plan_backlog
from pipeline import metrics, status
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, produce

TEXT = "The port authority said on Monday that ships would wait longer this week. "


def _topic_configs(config, **configs):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=config.kafka.bootstrap_servers)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, config.kafka.topic,
                                            configs={k.replace("_", "."): str(v) for k, v in configs.items()})])
    finally:
        admin.close()


def _log_start(config) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=config.kafka.bootstrap_servers)
    try:
        tp = TopicPartition(config.kafka.topic, 0)
        return consumer.beginning_offsets([tp])[tp]
    finally:
        consumer.close()


def test_records_deleted_by_retention_before_a_run_are_counted_everywhere(stack_config, tmp_path, caplog):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    items = [feed_item(f"r-{i}", TEXT + f"Report {i}, number {i * 31}.") for i in range(8)]
    produce(cfg, items[:3], partitions=1)
    first = execute(cfg)
    assert first.status == "written" and not first.retention_lost
    assert committed_offsets(cfg) == {0: 3}

    # Four more records arrive, then the topic's retention is cut to 100 ms: the broker deletes
    # them before any run has read them. Retention goes back to a day before a last record comes.
    produce(cfg, items[3:7], partitions=1)
    _topic_configs(cfg, segment_ms=100, retention_ms=100)
    deadline = time.monotonic() + 90
    while _log_start(cfg) <= 3 and time.monotonic() < deadline:
        time.sleep(0.5)
    _topic_configs(cfg, retention_ms=86_400_000)
    time.sleep(3)  # one more retention check, under the new setting
    log_start = _log_start(cfg)
    assert log_start > 3, "the broker did not apply retention within 90 s"
    lost = log_start - 3
    produce(cfg, items[7:], partitions=1)

    backlog = plan_backlog(KafkaSettings.from_config(cfg.kafka))
    assert backlog.lost_by_partition() == {0: lost}
    report = status.collect(cfg)
    assert report["kafka"]["retention_lost"] == {0: lost}
    assert f"LOST to retention before reading (partition: records): {{0: {lost}}}" in status.render(report)

    with caplog.at_level(logging.WARNING, logger="connectors.kafka_source"):
        second = execute(cfg)
    assert second.retention_lost == {0: lost}
    assert f"{lost} records deleted by Kafka retention" in caplog.text
    assert f"LOST {lost} records to Kafka retention" in second.line()

    ss = s3.S3Settings.from_config(cfg.s3)
    manifest = json.loads(s3.client(ss).get_object(Bucket=ss.bucket, Key=second.manifest)["Body"].read())
    assert manifest["retention_lost"] == [{"topic": cfg.kafka.topic, "partition": 0, "committed": 3,
                                           "log_start": log_start, "records": lost}]
    prom = tmp_path / "newsbeam.prom"
    metrics.write_textfile(second, prom)
    text = prom.read_text()
    assert f'newsbeam_run_retention_lost_records{{partition="0"}} {float(lost)}' in text
    assert f"newsbeam_run_retention_lost_records_total {float(lost)}" in text
    # status shows what the last run found, after the loss itself is behind the group
    after = status.collect(cfg)
    assert after["kafka"]["retention_lost"] == {}
    assert after["s3"]["last_run"]["retention_lost"][0]["records"] == lost
    assert f"last run found records lost to retention: partition 0 {lost}" in status.render(after)
