"""Managed-Kafka security against a real broker: SASL_SSL with SCRAM-SHA-512, a self-signed CA
made here with keytool, SCRAM users made with Kafka's own tools, ACLs enforced.

`newsbeam kafka init` (as the admin) creates the topics and the ACLs it prints; then the poller,
the run and the Kafka alert sink each authenticate as their own user through configuration alone
(`kafka.client_config`, the sink's `client_config`), and every wrong setting fails with one line.
The broker is started by the fixture and stopped after the module (tests/integration/sasl_broker.py).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import S3_BUCKET, S3_KEY, S3_SECRET
from connectors.errors import KafkaUnavailable
from connectors.feeds.localserver import directory_files, serve, static_handler
from sasl_broker import SaslSslBroker, User

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FEEDS = ROOT / "deploy" / "local" / "sample_feeds"

pytestmark = pytest.mark.skipif(shutil.which("java") is None or shutil.which("keytool") is None,
                                reason="java and keytool (JDK 17+) are needed to run the SASL_SSL broker")


def _password() -> str:
    return uuid.uuid4().hex


@pytest.fixture(scope="module")
def sasl(tmp_path_factory):
    users = [User("poller", _password()), User("pipeline", _password())]
    broker = SaslSslBroker(tmp_path_factory.mktemp("sasl-broker"), users).start()
    try:
        # One more user added to the running cluster, as an operator would (kafka-configs).
        broker.add_user(User("alerter", _password()))
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def names():
    unique = uuid.uuid4().hex[:8]
    return {"items": f"sasl.items.{unique}", "alerts": f"sasl.alerts.{unique}", "group": f"sasl-group-{unique}",
            "prefix": f"test/sasl-{unique}"}


def _config(sasl: SaslSslBroker, names: dict, user: User, tmp: Path) -> dict:
    """A newsbeam configuration whose Kafka credentials are `user`'s, nothing else; the alert
    sink logs in as `alerter` with the password from ALERTS_KAFKA_PASSWORD."""
    alerter = sasl.users["alerter"]
    return {
        "kafka": {"bootstrap_servers": sasl.bootstrap, "topic": names["items"], "group_id": names["group"],
                  "client_config": sasl.client_config(user)},
        "s3": {"bucket": S3_BUCKET, "prefix": names["prefix"], "access_key_id": S3_KEY,
               "secret_access_key": S3_SECRET},
        "pipeline": {"lock_path": str(tmp / "run.lock")},
        "feeds": {"feeds_file": str(tmp / "feeds.yaml"), "state_path": str(tmp / "poll-state.sqlite")},
        "alerts": {
            "ledger_path": str(tmp / "alerts.sqlite"), "max_attempts": 2, "base_backoff_seconds": 0.1,
            "timeout_seconds": 15,
            # The sink's password comes from the environment (ALERTS_KAFKA_PASSWORD), not the file.
            "sinks": [{"type": "kafka", "name": "bus", "topic": names["alerts"], "bootstrap_servers": sasl.bootstrap,
                       "client_config": {k: v for k, v in sasl.client_config(alerter).items()
                                         if k != "sasl_plain_password"},
                       "password_env": "ALERTS_KAFKA_PASSWORD"}],
            "rules": [{"name": "leaders", "sinks": ["bus"]}],
        },
    }


def _newsbeam(config: dict, tmp: Path, *args: str, timeout: float = 600,
              alerts_password: str | None = None) -> subprocess.CompletedProcess:
    path = tmp / f"newsbeam-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(config))
    # Only the config file speaks: no NEWSBEAM_* overrides from the test environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBEAM_")}
    env["NEWSBEAM_S3__ENDPOINT_URL"] = os.environ["NEWSBEAM_S3__ENDPOINT_URL"]
    if alerts_password is not None:
        env["ALERTS_KAFKA_PASSWORD"] = alerts_password
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", str(path), *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=timeout)


def _one_line(proc: subprocess.CompletedProcess) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def _admin(sasl: SaslSslBroker):
    from kafka.admin import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=sasl.bootstrap, **sasl.client_config(sasl.admin))


@pytest.fixture(scope="module")
def initialised(sasl, names, tmp_path_factory):
    """`newsbeam kafka init --apply-acls` as the admin: topics and the three users' ACLs."""
    tmp = tmp_path_factory.mktemp("init")
    cfg = _config(sasl, names, sasl.admin, tmp)
    principals = ["--poller-principal", "User:poller", "--pipeline-principal", "User:pipeline",
                  "--alerts-principal", "User:alerter"]
    first = _newsbeam(cfg, tmp, "kafka", "init", "--apply-acls", *principals)
    assert first.returncode == 0, first.stderr
    second = _newsbeam(cfg, tmp, "kafka", "init", "--apply-acls", *principals, "--format", "none")
    assert second.returncode == 0, second.stderr
    return first.stdout, second.stdout


def test_kafka_init_creates_topics_and_acls_idempotently(sasl, names, initialised):
    first, second = initialised
    assert f"topic {names['items']}: created (6 partitions, replication 1)" in first
    assert f"topic {names['alerts']}: created (3 partitions, replication 1)" in first
    assert f"topic {names['items']}: unchanged (6 partitions, replication 1)" in second
    assert f"topic {names['alerts']}: unchanged" in second
    assert f"--allow-principal User:pipeline --operation Read --operation Describe --group {names['group']}" in first

    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ConfigResource,
                             ConfigResourceType, ResourcePatternFilter, ResourceType)

    admin = _admin(sasl)
    try:
        acls, _ = admin.describe_acls(ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                                                ResourcePatternFilter(ResourceType.ANY, None,
                                                                      ACLResourcePatternType.ANY)))
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, names["items"])])
    finally:
        admin.close()
    granted = {(a.principal, a.resource_pattern.resource_name, a.operation.name) for a in acls}
    assert {("User:poller", names["items"], "WRITE"), ("User:pipeline", names["items"], "READ"),
            ("User:pipeline", names["group"], "READ"), ("User:alerter", names["alerts"], "WRITE")} <= granted
    # Least privilege: nobody but the pipeline may read the items.
    assert {p for p, r, op in granted if r == names["items"] and op == "READ"} == {"User:pipeline"}
    items = configs["topic"][names["items"]]
    assert items["retention.ms"]["value"] == str(14 * 86_400_000)
    assert items["cleanup.policy"]["value"] == "delete"


def test_poll_run_and_alert_sink_authenticate_through_configuration(sasl, names, initialised, s3_endpoint,
                                                                    tmp_path):
    with serve(static_handler(directory_files(SAMPLE_FEEDS))) as base:
        (tmp_path / "feeds.yaml").write_text(yaml.safe_dump(
            {"feeds": [{"url": f"{base}/{p.name}"} for p in sorted(SAMPLE_FEEDS.glob("*.xml"))]}))
        poll = _newsbeam(_config(sasl, names, sasl.users["poller"], tmp_path), tmp_path, "poll", "--once")
    assert poll.returncode == 0, poll.stderr
    assert "failed 0" in poll.stderr and "new items 0" not in poll.stderr, poll.stderr

    run = _newsbeam(_config(sasl, names, sasl.users["pipeline"], tmp_path), tmp_path, "run", "--json",
                    alerts_password=sasl.users["alerter"].password)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout[run.stdout.index("{"):])
    assert summary["status"] == "written" and summary["rows"]["articles"] > 0
    assert summary["alerts"]["sent"] >= 1 and summary["alerts"]["failed"] == 0, summary["alerts"]

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=sasl.bootstrap, enable_auto_commit=False, consumer_timeout_ms=5000,
                             **sasl.client_config(sasl.admin))
    try:
        parts = [TopicPartition(names["alerts"], p) for p in consumer.partitions_for_topic(names["alerts"])]
        consumer.assign(parts)
        consumer.seek_to_beginning()
        alerts = [json.loads(m.value) for m in consumer]
        items = [TopicPartition(names["items"], p) for p in consumer.partitions_for_topic(names["items"])]
        ends = consumer.end_offsets(items)
    finally:
        consumer.close()
    assert len(alerts) == summary["alerts"]["sent"]
    assert all(a["speaker"]["name"] for a in alerts)
    # The run committed the offsets of everything it read, as the pipeline user.
    from connectors.kafka_source import KafkaSettings, committed_offsets

    settings = KafkaSettings(sasl.bootstrap, names["items"], names["group"], sasl.client_config(sasl.users["pipeline"]))
    committed = committed_offsets(settings)
    assert {tp.partition: ends[tp] for tp in items if ends[tp]} == {p: o for p, o in committed.items() if o}


def test_wrong_password_fails_with_one_clear_line(sasl, names, initialised, tmp_path):
    wrong = User("poller", "not-the-password")
    cfg = _config(sasl, names, wrong, tmp_path)
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - url: http://127.0.0.1:9/unused.xml\n")

    poll = _newsbeam(cfg, tmp_path, "poll", "--once")
    assert poll.returncode == KafkaUnavailable.exit_code == 3
    line = _one_line(poll)
    assert "authentication failed" in line and "SCRAM-SHA-512" in line and "'poller'" in line
    assert "not-the-password" not in poll.stderr + poll.stdout

    run = _newsbeam(cfg, tmp_path, "run")
    assert run.returncode == 3
    line = _one_line(run)
    assert line.startswith("newsbeam run: ") and "authentication failed" in line

    init = _newsbeam(cfg, tmp_path, "kafka", "init")
    assert init.returncode == 3 and "authentication failed" in _one_line(init)


def test_wrong_tls_settings_and_missing_acls_are_named(sasl, names, initialised, tmp_path):
    # TLS: a CA that did not sign the broker's certificate.
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(_other_ca(tmp_path))
    cfg = _config(sasl, names, sasl.users["pipeline"], tmp_path)
    cfg["kafka"]["client_config"]["ssl_cafile"] = str(other_ca)
    run = _newsbeam(cfg, tmp_path, "run")
    assert run.returncode == 3
    assert "TLS certificate of the broker not trusted" in _one_line(run)

    # A client that does not speak TLS to a TLS listener.
    cfg = _config(sasl, names, sasl.users["pipeline"], tmp_path)
    cfg["kafka"]["client_config"] = {"security_protocol": "PLAINTEXT"}
    run = _newsbeam(cfg, tmp_path, "run")
    assert run.returncode == 3
    assert "expects TLS but kafka.client_config.security_protocol is PLAINTEXT" in _one_line(run)

    # ACLs: the poller's user may write items but not read them as the pipeline.
    run = _newsbeam(_config(sasl, names, sasl.users["poller"], tmp_path), tmp_path, "run")
    assert run.returncode == 3
    line = _one_line(run)
    assert "denied" in line and "READ and DESCRIBE" in line and names["group"] in line


def test_alert_sink_with_a_wrong_password_records_the_reason(sasl, names, initialised, tmp_path, monkeypatch):
    from connectors.alerts.config import AlertsConfig
    from connectors.alerts.dispatch import dispatch
    from connectors.alerts.ledger import FAILED, SqliteLedger

    cfg = _config(sasl, names, sasl.users["pipeline"], tmp_path)["alerts"]
    monkeypatch.setenv("ALERTS_KAFKA_PASSWORD", "wrong")
    row = {"statement_id": "st-sasl", "speaker_name": "Elena Marsh", "speaker_role": "president",
           "speaker_country": "Valdoria", "text": "We sign.", "confidence": 0.9, "is_leadership": True,
           "item_id": "i-1", "url": "https://news.example/1", "feed_title": "t", "feed_url": "https://news.example/rss",
           "published": "2025-01-28T10:00:00Z", "first_seen": "2025-01-28T10:01:00Z"}
    ledger = SqliteLedger(tmp_path / "alerts.sqlite")
    try:
        summary = dispatch([row], AlertsConfig.model_validate(cfg), ledger)
        delivery = ledger.get("st-sasl", "leaders", "bus")
    finally:
        ledger.close()
    assert summary.failed == 1 and delivery.state == FAILED
    assert "authentication failed" in delivery.last_error and "\n" not in delivery.last_error
    # A configuration error is not retried within the run (the next run retries failed deliveries).
    assert delivery.attempts == 1


def _other_ca(tmp: Path) -> str:
    """A CA certificate that signed nothing the broker holds."""
    store = tmp / "other.p12"
    subprocess.run(["keytool", "-genkeypair", "-alias", "x", "-keyalg", "RSA", "-keysize", "2048", "-validity", "1",
                    "-dname", "CN=someone else", "-ext", "bc:c", "-keystore", str(store), "-storetype", "PKCS12",
                    "-storepass", "password", "-keypass", "password"], check=True, capture_output=True)
    return subprocess.run(["keytool", "-exportcert", "-rfc", "-alias", "x", "-keystore", str(store),
                           "-storepass", "password"], check=True, capture_output=True, text=True).stdout
