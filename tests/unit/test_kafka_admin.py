"""connectors.kafka_admin, the pure parts: topic settings and the ACLs of each component."""
from __future__ import annotations

import json
import shlex

import pytest

from connectors import kafka_admin as ka


def test_items_topic_settings_follow_the_documented_defaults():
    spec = ka.items_topic("newsbeam.items")
    assert (spec.partitions, spec.retention_days) == (6, 14)
    assert spec.replication_for(brokers=6) == 3 and spec.replication_for(brokers=2) == 2
    assert spec.replication_for(brokers=1) == 1
    assert spec.configs(3) == {"cleanup.policy": "delete", "retention.ms": str(14 * 86_400_000),
                               "min.insync.replicas": "2"}
    # One broker: min.insync.replicas can only be 1, or no write with acks=all would ever succeed.
    assert spec.configs(1)["min.insync.replicas"] == "1"
    assert ka.items_topic("t", replication_factor=5).replication_for(brokers=1) == 5


def test_config_changes_lists_only_what_differs():
    wanted = {"retention.ms": "100", "cleanup.policy": "delete", "min.insync.replicas": "2"}
    current = {"retention.ms": "100", "cleanup.policy": "compact"}
    assert ka.config_changes(wanted, current) == {"cleanup.policy": ("compact", "delete"),
                                                  "min.insync.replicas": (None, "2")}
    assert ka.config_changes(wanted, wanted) == {}


def test_outcome_line_names_every_change():
    out = ka.TopicOutcome("t", "updated", 6, 3, {"retention.ms": ("1", "2")}, ["note"])
    assert out.line() == "topic t: updated (6 partitions, replication 3); set retention.ms=2 (was 1); note"


def _by(grants, component):
    return {(g.resource_type, g.resource_name, op) for g in grants if g.component == component for op in g.operations}


def test_each_component_gets_what_it_does_and_nothing_more():
    grants = ka.component_grants("items", "grp", ["alerts-a", "alerts-b"],
                                 {"poller": "User:p", "pipeline": "User:r", "alerts": "User:a"})
    assert _by(grants, "poller") == {("TOPIC", "items", "WRITE"), ("TOPIC", "items", "DESCRIBE"),
                                     ("CLUSTER", "kafka-cluster", "IDEMPOTENT_WRITE")}
    assert _by(grants, "pipeline") == {("TOPIC", "items", "READ"), ("TOPIC", "items", "DESCRIBE"),
                                       ("GROUP", "grp", "READ"), ("GROUP", "grp", "DESCRIBE")}
    assert _by(grants, "alerts") == {("TOPIC", "alerts-a", "WRITE"), ("TOPIC", "alerts-a", "DESCRIBE"),
                                     ("TOPIC", "alerts-b", "WRITE"), ("TOPIC", "alerts-b", "DESCRIBE"),
                                     ("CLUSTER", "kafka-cluster", "IDEMPOTENT_WRITE")}
    assert {g.principal for g in grants} == {"User:p", "User:r", "User:a"}
    # Without alert sinks there is no alerts principal to grant anything to.
    assert not _by(ka.component_grants("items", "grp"), "alerts")


def test_kafka_acls_commands_are_valid_kafka_acls_invocations():
    lines = ka.render_kafka_acls(ka.component_grants("items", "grp", ["al"]), bootstrap="b:9096")
    assert len(lines) == 6
    for line in lines:
        argv = shlex.split(line, comments=True)
        assert argv[:6] == ["kafka-acls.sh", "--bootstrap-server", "b:9096", "--command-config",
                            "admin.properties", "--add"]
        assert argv.count("--allow-principal") == 1
        assert sum(a in ("--topic", "--group", "--cluster") for a in argv) == 1
        ops = [argv[i + 1] for i, a in enumerate(argv) if a == "--operation"]
        assert ops and set(ops) <= {"Read", "Write", "Describe", "IdempotentWrite"}
    assert ("--allow-principal User:newsbeam-pipeline --operation Read --operation Describe --group grp"
            in lines[3])


def test_confluent_commands_use_service_accounts():
    grants = ka.component_grants("items", "grp", principals={"poller": "User:sa-123"})
    lines = ka.render_confluent(grants)
    assert lines[0].startswith("confluent kafka acl create --allow --service-account sa-123 "
                               "--operations write,describe --topic items")
    assert "--operations idempotent-write --cluster-scope" in lines[1]
    assert "--principal User:newsbeam-pipeline --operations read,describe --consumer-group grp" in lines[3]


def test_msk_iam_policies_name_the_right_arns():
    arn = "arn:aws:kafka:eu-west-1:111122223333:cluster/news/abcd-1234"
    policies = json.loads(ka.render(ka.component_grants("items", "grp", ["al"]), "msk-iam", msk_cluster_arn=arn))
    assert set(policies) == {"poller", "pipeline", "alerts"}

    def allowed(component):
        return {(a, s["Resource"]) for s in policies[component]["Statement"] for a in s["Action"]}

    topic = "arn:aws:kafka:eu-west-1:111122223333:topic/news/abcd-1234/items"
    group = "arn:aws:kafka:eu-west-1:111122223333:group/news/abcd-1234/grp"
    assert allowed("poller") == {("kafka-cluster:Connect", arn), ("kafka-cluster:WriteData", topic),
                                 ("kafka-cluster:DescribeTopic", topic),
                                 ("kafka-cluster:WriteDataIdempotently", arn)}
    assert allowed("pipeline") == {("kafka-cluster:Connect", arn), ("kafka-cluster:ReadData", topic),
                                   ("kafka-cluster:DescribeTopic", topic), ("kafka-cluster:AlterGroup", group),
                                   ("kafka-cluster:DescribeGroup", group)}
    assert ("kafka-cluster:WriteData", "arn:aws:kafka:eu-west-1:111122223333:topic/news/abcd-1234/al") \
        in allowed("alerts")


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="kafka-acls, confluent, msk-iam"):
        ka.render([], "yaml")
