"""Managed Kafka set-up: the topics newsbeam needs, created idempotently, and the ACLs each
component needs (`newsbeam kafka init` / `newsbeam kafka acls`).

Managed clusters (MSK, Confluent Cloud, Aiven...) do not auto-create topics, so the items topic
must exist before the first poll, with settings chosen on purpose: retention long enough for a
backfill after an outage, `min.insync.replicas` that makes the producers' `acks=all` mean
something. Pure parts (specs, grants, renderings) are plain functions; `ensure_topic` and
`apply_acls` are the only calls that talk to a broker.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from connectors.errors import KafkaUnavailable
from connectors.kafka_diagnose import connect_failure

DAY_MS = 86_400_000

# The documented settings of the items topic (docs/operations.md, "Kafka topic and ACLs").
ITEMS_PARTITIONS = 6
ITEMS_RETENTION_DAYS = 14
# Alert topics: consumers dedupe on the key (statement:rule); a week is plenty to catch up.
ALERTS_PARTITIONS = 3
ALERTS_RETENTION_DAYS = 7
MAX_REPLICATION = 3

POLLER, PIPELINE, ALERTS = "poller", "pipeline", "alerts"
DEFAULT_PRINCIPALS = {POLLER: "User:newsbeam-poller", PIPELINE: "User:newsbeam-pipeline",
                      ALERTS: "User:newsbeam-alerts"}


class KafkaAdminError(KafkaUnavailable):
    """`kafka init` could not do its work (Kafka unreachable, refused or unable); the message is
    one line naming what to fix."""


# ----------------------------------------------------------------------------- topics (pure)
@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_days: float
    replication_factor: int | None = None   # None: min(3, brokers in the cluster)

    def replication_for(self, brokers: int) -> int:
        return self.replication_factor or max(1, min(MAX_REPLICATION, brokers))

    def configs(self, replication: int) -> dict[str, str]:
        """Topic-level settings; `min.insync.replicas` 2 (1 on a one-broker cluster) so an
        `acks=all` write survives the loss of one broker."""
        return {"cleanup.policy": "delete",
                "retention.ms": str(int(self.retention_days * DAY_MS)),
                "min.insync.replicas": str(min(2, replication))}


def items_topic(name: str, partitions: int = ITEMS_PARTITIONS, retention_days: float = ITEMS_RETENTION_DAYS,
                replication_factor: int | None = None) -> TopicSpec:
    return TopicSpec(name, partitions, retention_days, replication_factor)


def alerts_topic(name: str, replication_factor: int | None = None) -> TopicSpec:
    return TopicSpec(name, ALERTS_PARTITIONS, ALERTS_RETENTION_DAYS, replication_factor)


@dataclass
class TopicOutcome:
    name: str
    action: str                       # created | unchanged | updated | would create | would update
    partitions: int = 0
    replication: int = 0
    changed: dict[str, tuple[str | None, str]] = field(default_factory=dict)   # key: (was, now)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"topic {self.name}: {self.action} ({self.partitions} partitions, replication {self.replication})"
        if self.changed:
            text += "; set " + ", ".join(f"{k}={new} (was {old})" for k, (old, new) in sorted(self.changed.items()))
        return text + "".join(f"; {n}" for n in self.notes)


def config_changes(spec_configs: dict[str, str], current: dict[str, str | None]) -> dict[str, tuple[str | None, str]]:
    """Keys whose value on the broker differs from the spec: {key: (current, wanted)}."""
    return {k: (current.get(k), v) for k, v in spec_configs.items() if current.get(k) != v}


# ----------------------------------------------------------------------------- topics (broker)
def admin_client(bootstrap_servers: str, client_config: dict[str, Any] | None, request_timeout_ms: int = 10000):
    """A KafkaAdminClient, or KafkaAdminError with the reason it could not connect."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    config = {"request_timeout_ms": request_timeout_ms, "bootstrap_timeout_ms": request_timeout_ms,
              **(client_config or {})}
    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap_servers.split(","), **config)
    except KafkaError as exc:
        raise KafkaAdminError(connect_failure(bootstrap_servers, client_config, exc).line) from None


def _denied(exc: Exception, what: str) -> KafkaAdminError:
    return KafkaAdminError(
        f"Kafka denied {what}: {type(exc).__name__}; run `newsbeam kafka init` with an admin principal "
        "(CREATE on the cluster, DESCRIBE_CONFIGS and ALTER_CONFIGS on the topics), or create the topic "
        "with your provider's console using the settings `newsbeam kafka init --dry-run` prints")


def ensure_topic(admin, spec: TopicSpec, dry_run: bool = False) -> TopicOutcome:
    """Create the topic with the spec's settings, or bring an existing one's settings to them.
    Never removes partitions or data; a topic with fewer partitions is left as it is (the run
    splits its reads by offsets, so it works with any count) and the outcome says so."""
    from kafka.admin import ConfigResource, ConfigResourceType
    from kafka.errors import AuthorizationError, KafkaError, TopicAlreadyExistsError

    try:
        brokers = len(admin.describe_cluster().get("brokers") or []) or 1
        [described] = admin.describe_topics([spec.name])
    except AuthorizationError as exc:
        raise _denied(exc, f"describing topic {spec.name}") from None
    except KafkaError as exc:
        raise KafkaAdminError(f"Kafka admin request failed: {type(exc).__name__}: {exc}") from None
    exists = described.get("error_code", 0) == 0 and described.get("partitions")
    if not exists:
        replication = spec.replication_for(brokers)
        outcome = TopicOutcome(spec.name, "would create" if dry_run else "created", spec.partitions, replication)
        if replication > brokers:
            raise KafkaAdminError(f"topic {spec.name}: replication factor {replication} needs {replication} "
                                  f"brokers, the cluster has {brokers} (--replication-factor)")
        if dry_run:
            outcome.changed = {k: (None, v) for k, v in spec.configs(replication).items()}
            return outcome
        result = admin.create_topics({spec.name: {"num_partitions": spec.partitions,
                                                  "replication_factor": replication,
                                                  "configs": spec.configs(replication)}},
                                     raise_errors=False)
        error = _topic_error(result)
        if error is None:
            return outcome
        error_type, message = error
        # Created meanwhile by someone else: then it is checked below like any existing topic.
        if not issubclass(error_type, TopicAlreadyExistsError):
            if issubclass(error_type, AuthorizationError):
                raise KafkaAdminError(f"Kafka denied creating topic {spec.name} ({error_type.__name__}): the "
                                      "principal running `kafka init` needs CREATE on the cluster or the topic")
            raise KafkaAdminError(f"topic {spec.name} not created: {error_type.__name__}: {message}")
        described = _described_with_partitions(admin, spec.name)
    partitions = len(described["partitions"])
    replication = len(described["partitions"][0].get("replica_nodes") or []) or 1
    wanted = spec.configs(replication)
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, spec.name, configs={k: None for k in wanted})
        found = admin.describe_configs([resource], config_filter="all")
    except AuthorizationError as exc:
        raise _denied(exc, f"reading the settings of topic {spec.name}") from None
    current = {k: (v or {}).get("value") for k, v in (found.get("topic", {}).get(spec.name) or {}).items()}
    if not current:  # the broker answers an unauthorized describe with no entries at all
        raise KafkaAdminError(f"Kafka returned no settings of topic {spec.name}: the principal running "
                              "`kafka init` needs DESCRIBE_CONFIGS and ALTER_CONFIGS on it")
    changes = config_changes(wanted, current)
    outcome = TopicOutcome(spec.name, "unchanged", partitions, replication, changes)
    if partitions < spec.partitions:
        outcome.notes.append(f"has {partitions} partitions where {spec.partitions} are documented: left as is "
                             "(the run reads any number)")
    if changes:
        outcome.action = "would update" if dry_run else "updated"
        if not dry_run:
            try:
                result = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name,
                                                             configs={k: new for k, (_, new) in changes.items()})])
            except AuthorizationError as exc:
                raise _denied(exc, f"changing the settings of topic {spec.name}") from None
            except (KafkaError, ValueError) as exc:  # ValueError: the client's own check of the keys
                raise KafkaAdminError(f"topic {spec.name}: settings not changed: {type(exc).__name__}: {exc}") from None
            status = (result.get("topic") or {}).get(spec.name)
            if status not in (None, "OK"):
                raise KafkaAdminError(f"topic {spec.name}: settings not changed: {status}")
    return outcome


def _described_with_partitions(admin, name: str, timeout: float = 30.0) -> dict:
    """A topic created a moment ago may be listed before its partitions are: wait for them."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        [described] = admin.describe_topics([name])
        if described.get("partitions") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if not described.get("partitions"):
        raise KafkaAdminError(f"topic {name} exists but the brokers list no partitions for it after {timeout:.0f}s")
    return described


def _topic_error(result: dict) -> tuple[type, str] | None:
    """(error class, broker message) of a CreateTopics answer, or None when it succeeded."""
    from kafka.errors import for_code

    for topic in result.get("topics", []):
        code = topic.get("error_code", 0)
        if code:
            return for_code(code), topic.get("error_message") or ""
    return None


# ----------------------------------------------------------------------------- ACLs (pure)
@dataclass(frozen=True, order=True)
class Grant:
    """ALLOW `operations` on one resource to one principal, as Kafka ACLs express it."""

    component: str
    principal: str
    resource_type: str        # TOPIC | GROUP | CLUSTER
    resource_name: str        # "kafka-cluster" for CLUSTER
    operations: tuple[str, ...]
    why: str = ""


def component_grants(items: str, group_id: str, alert_topics: Iterable[str] = (),
                     principals: dict[str, str] | None = None) -> list[Grant]:
    """What each component does and therefore needs:
    - poller: produces items (idempotent producer: WRITE, and IDEMPOTENT_WRITE on brokers < 3.0);
    - pipeline: reads items, reads and commits its group's offsets, looks up offsets by time;
    - alerts: the Kafka alert sink produces to its topic(s)."""
    p = {**DEFAULT_PRINCIPALS, **(principals or {})}
    grants = [
        Grant(POLLER, p[POLLER], "TOPIC", items, ("WRITE", "DESCRIBE"), "produce feed items"),
        Grant(POLLER, p[POLLER], "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE",),
              "idempotent producer (needed on brokers before Kafka 3.0)"),
        Grant(PIPELINE, p[PIPELINE], "TOPIC", items, ("READ", "DESCRIBE"), "read records, list offsets"),
        Grant(PIPELINE, p[PIPELINE], "GROUP", group_id, ("READ", "DESCRIBE"),
              "fetch and commit the run's offsets"),
    ]
    alert_topics = sorted(set(alert_topics))
    for topic in alert_topics:
        grants.append(Grant(ALERTS, p[ALERTS], "TOPIC", topic, ("WRITE", "DESCRIBE"), "produce alerts"))
    if alert_topics:
        grants.append(Grant(ALERTS, p[ALERTS], "CLUSTER", "kafka-cluster", ("IDEMPOTENT_WRITE",),
                            "idempotent producer (needed on brokers before Kafka 3.0)"))
    return grants


def _words(ops: Iterable[str]) -> list[str]:
    return ["".join(w.capitalize() for w in op.split("_")) for op in ops]


def render_kafka_acls(grants: list[Grant], bootstrap: str = "BROKER:9092",
                      command_config: str = "admin.properties") -> list[str]:
    """`kafka-acls.sh` commands (Apache Kafka's own tool; also works against MSK with SCRAM/TLS)."""
    out = []
    for g in grants:
        target = {"TOPIC": f"--topic {g.resource_name}", "GROUP": f"--group {g.resource_name}",
                  "CLUSTER": "--cluster"}[g.resource_type]
        ops = " ".join(f"--operation {w}" for w in _words(g.operations))
        out.append(f"kafka-acls.sh --bootstrap-server {bootstrap} --command-config {command_config} --add "
                   f"--allow-principal {g.principal} {ops} {target}   # {g.component}: {g.why}")
    return out


def render_confluent(grants: list[Grant]) -> list[str]:
    """`confluent kafka acl create` commands; principals `User:sa-xxxxx` are service accounts."""
    out = []
    for g in grants:
        who = g.principal.split(":", 1)[-1]
        flag = f"--service-account {who}" if who.startswith("sa-") else f"--principal {g.principal}"
        target = {"TOPIC": f"--topic {g.resource_name}", "GROUP": f"--consumer-group {g.resource_name}",
                  "CLUSTER": "--cluster-scope"}[g.resource_type]
        ops = ",".join(op.lower().replace("_", "-") for op in g.operations)
        out.append(f"confluent kafka acl create --allow {flag} --operations {ops} {target}   # {g.component}: {g.why}")
    return out


# MSK IAM actions per Kafka operation on a resource type (AWS "IAM access control for MSK").
_MSK_ACTIONS = {
    ("TOPIC", "WRITE"): ["kafka-cluster:WriteData"],
    ("TOPIC", "READ"): ["kafka-cluster:ReadData"],
    ("TOPIC", "DESCRIBE"): ["kafka-cluster:DescribeTopic"],
    ("GROUP", "READ"): ["kafka-cluster:AlterGroup"],
    ("GROUP", "DESCRIBE"): ["kafka-cluster:DescribeGroup"],
    ("CLUSTER", "IDEMPOTENT_WRITE"): ["kafka-cluster:WriteDataIdempotently"],
}


def msk_arn(cluster_arn: str, resource_type: str, name: str) -> str:
    """arn:aws:kafka:R:A:cluster/NAME/UUID -> the topic/group ARN MSK IAM policies use."""
    if resource_type == "CLUSTER":
        return cluster_arn
    kind = {"TOPIC": "topic", "GROUP": "group"}[resource_type]
    return cluster_arn.replace(":cluster/", f":{kind}/", 1) + f"/{name}"


def render_msk_iam(grants: list[Grant], cluster_arn: str) -> dict[str, dict]:
    """One IAM policy document per component, for the role of its pods (IRSA / Pod Identity)."""
    policies: dict[str, dict] = {}
    for g in grants:
        doc = policies.setdefault(g.component, {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kafka-cluster:Connect"], "Resource": cluster_arn}]})
        actions = sorted({a for op in g.operations for a in _MSK_ACTIONS[(g.resource_type, op)]})
        doc["Statement"].append({"Effect": "Allow", "Action": actions,
                                 "Resource": msk_arn(cluster_arn, g.resource_type, g.resource_name)})
    return policies


def render(grants: list[Grant], fmt: str, *, bootstrap: str = "BROKER:9092",
           msk_cluster_arn: str | None = None) -> str:
    if fmt == "kafka-acls":
        return "\n".join(render_kafka_acls(grants, bootstrap))
    if fmt == "confluent":
        return "\n".join(render_confluent(grants))
    if fmt == "msk-iam":
        arn = msk_cluster_arn or "arn:aws:kafka:REGION:ACCOUNT:cluster/CLUSTER-NAME/CLUSTER-UUID"
        return json.dumps(render_msk_iam(grants, arn), indent=2)
    raise ValueError(f"unknown ACL format {fmt!r} (kafka-acls, confluent, msk-iam)")


# ----------------------------------------------------------------------------- ACLs (broker)
def apply_acls(admin, grants: list[Grant]) -> int:
    """Create the grants as literal ALLOW ACLs from any host; existing ones are left alone
    (Kafka treats re-creating an ACL as a no-op). Returns the number of ACL bindings sent."""
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ResourcePattern, ResourceType
    from kafka.errors import AuthorizationError, KafkaError

    acls = [ACL(g.principal, "*", ACLOperation[op], ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType[g.resource_type], g.resource_name))
            for g in grants for op in g.operations]
    try:
        result = admin.create_acls(acls)
    except AuthorizationError as exc:
        raise _denied(exc, "creating ACLs (needs ALTER on the cluster)") from None
    except KafkaError as exc:
        raise KafkaAdminError(f"ACLs not created: {type(exc).__name__}: {exc}") from None
    failed = result.get("failed") or []
    if failed:
        names = sorted({getattr(e, "__name__", str(e)) for e in failed})
        raise KafkaAdminError(f"{len(failed)} of {len(acls)} ACLs not created: {', '.join(names)}")
    return len(acls)
