import pytest
from pydantic import ValidationError

from connectors.alerts.config import AlertsConfig, KafkaSink, SlackSink, WebhookSink

SINKS = [
    {"type": "slack", "name": "team", "url": "https://hooks.example/T000/B000/XXXX"},
    {"type": "webhook", "name": "hook", "url": "http://127.0.0.1:1/", "secret_env": "HOOK_SECRET"},
    {"type": "kafka", "name": "bus", "topic": "alerts", "bootstrap_servers": "127.0.0.1:9092"},
    {"type": "smtp", "name": "mail", "host": "127.0.0.1", "from_addr": "a@x", "to_addrs": ["b@x"], "rate_per_minute": 6},
]


def test_parses_sinks_by_type_and_resolves_rule_sinks():
    cfg = AlertsConfig.model_validate({"rules": [{"name": "all", "sinks": ["team", "hook"]}], "sinks": SINKS})
    assert [type(s).__name__ for s in cfg.sinks] == ["SlackSink", "WebhookSink", "KafkaSink", "SmtpSink"]
    assert cfg.sink("mail").rate_per_minute == 6
    assert cfg.rule("all").sinks == ["team", "hook"]


def test_rule_with_unknown_sink_is_rejected():
    with pytest.raises(ValidationError, match="unknown sinks"):
        AlertsConfig.model_validate({"rules": [{"name": "r", "sinks": ["nope"]}], "sinks": SINKS})


def test_duplicate_sink_names_are_rejected():
    with pytest.raises(ValidationError, match="duplicate sink"):
        AlertsConfig.model_validate({"sinks": [SINKS[0], SINKS[0]]})


def test_repr_hides_urls_and_client_config():
    slack = SlackSink(name="team", url="https://hooks.example/T000/B000/XXXX")
    kafka = KafkaSink(name="bus", topic="t", bootstrap_servers="h:1", client_config={"sasl_plain_password": "pw"})
    assert "XXXX" not in repr(slack)
    assert "pw" not in repr(kafka)


def test_webhook_secret_from_env_or_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    assert WebhookSink(name="h", url="u", secret_env="HOOK_SECRET").secret() == b"s3cret"
    path = tmp_path / "secret"
    path.write_text("from-file\n")
    assert WebhookSink(name="h", url="u", secret_file=str(path)).secret() == b"from-file"
    assert WebhookSink(name="h", url="u").secret() is None
    monkeypatch.delenv("HOOK_SECRET")
    with pytest.raises(ValueError, match="HOOK_SECRET"):
        WebhookSink(name="h", url="u", secret_env="HOOK_SECRET").secret()


def test_webhook_secret_sources_are_exclusive():
    with pytest.raises(ValidationError, match="not both"):
        WebhookSink(name="h", url="u", secret_env="A", secret_file="/b")


def test_kafka_sink_password_comes_from_the_environment(monkeypatch):
    import pytest as _pytest

    from connectors.alerts.config import KafkaSink

    sink = KafkaSink(name="bus", topic="t", bootstrap_servers="b:9096", password_env="BUS_PASSWORD",
                     client_config={"security_protocol": "SASL_SSL", "sasl_plain_username": "alerts"})
    monkeypatch.delenv("BUS_PASSWORD", raising=False)
    with _pytest.raises(ValueError, match="kafka sink 'bus': environment variable BUS_PASSWORD is empty or unset"):
        sink.producer_config()
    monkeypatch.setenv("BUS_PASSWORD", "s3cret")
    assert sink.producer_config() == {"security_protocol": "SASL_SSL", "sasl_plain_username": "alerts",
                                      "sasl_plain_password": "s3cret"}
    assert "sasl_plain_password" not in sink.client_config   # the model itself never holds it
    with _pytest.raises(ValueError, match="password_env or client_config.sasl_plain_password"):
        KafkaSink(name="bus", topic="t", bootstrap_servers="b:9096", password_env="X",
                  client_config={"sasl_plain_password": "inline"})
