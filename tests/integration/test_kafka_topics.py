"""connectors.kafka_admin against the local Kafka: topics created and kept at the documented
settings idempotently, existing data and partitions never touched."""
from __future__ import annotations

import pytest

from connectors import kafka_admin as ka


@pytest.fixture
def admin(kafka_bootstrap):
    client = ka.admin_client(kafka_bootstrap, {})
    yield client
    client.close()


def _settings(admin, topic: str) -> dict[str, str]:
    from kafka.admin import ConfigResource, ConfigResourceType

    found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    return {k: v["value"] for k, v in found["topic"][topic].items()}


def test_topic_is_created_then_left_unchanged(admin, unique):
    spec = ka.items_topic(f"test.init.{unique}", retention_days=3)
    dry = ka.ensure_topic(admin, spec, dry_run=True)
    assert dry.action == "would create" and dry.changed["retention.ms"] == (None, str(3 * ka.DAY_MS))
    assert f"test.init.{unique}" not in admin.list_topics()

    created = ka.ensure_topic(admin, spec)
    assert (created.action, created.partitions, created.replication) == ("created", 6, 1)
    settings = _settings(admin, spec.name)
    assert settings["retention.ms"] == str(3 * ka.DAY_MS) and settings["cleanup.policy"] == "delete"
    assert ka.ensure_topic(admin, spec).line() == f"topic {spec.name}: unchanged (6 partitions, replication 1)"


def test_existing_topic_gets_the_documented_settings_and_keeps_its_partitions(admin, unique):
    from kafka.admin import ConfigResource, ConfigResourceType

    name = f"test.init.old.{unique}"
    admin.create_topics({name: {"num_partitions": 2, "replication_factor": 1,
                                "configs": {"retention.ms": "3600000", "segment.ms": "7200000"}}})
    spec = ka.items_topic(name)
    outcome = ka.ensure_topic(admin, spec)
    assert outcome.action == "updated" and outcome.partitions == 2
    assert outcome.changed == {"retention.ms": ("3600000", str(14 * ka.DAY_MS))}
    assert "has 2 partitions where 6 are documented: left as is" in outcome.line()
    settings = _settings(admin, name)
    # Only what newsbeam documents changed; the operator's other override stayed.
    assert settings["retention.ms"] == str(14 * ka.DAY_MS) and settings["segment.ms"] == "7200000"
    assert ka.ensure_topic(admin, spec).action == "unchanged"
    admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs={"cleanup.policy": "compact"})])
    assert ka.ensure_topic(admin, spec, dry_run=True).changed == {"cleanup.policy": ("compact", "delete")}
    assert _settings(admin, name)["cleanup.policy"] == "compact"   # dry run changed nothing


def test_replication_beyond_the_cluster_is_refused(admin, unique):
    with pytest.raises(ka.KafkaAdminError, match="replication factor 3 needs 3 brokers, the cluster has 1"):
        ka.ensure_topic(admin, ka.items_topic(f"test.init.rf.{unique}", replication_factor=3))


def test_unreachable_cluster_is_one_line():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ka.KafkaAdminError, match=f"Kafka broker unreachable at 127.0.0.1:{port}"):
        ka.admin_client(f"127.0.0.1:{port}", {"bootstrap_timeout_ms": 2000}, request_timeout_ms=2000)
