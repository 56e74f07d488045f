"""Where configuration values come from: file, secrets directory, `_FILE` variables, environment.

An operator's value arrives as written (a string key gets the string verbatim), and nothing they
write is silently ignored: an unknown key in any section, from any source, is an error."""
from __future__ import annotations

from pathlib import Path

import pytest

from connectors.alerts.config import AlertsConfig
from connectors.feeds.settings import PollSettings
from connectors.errors import ConfigError
from pipeline.config import Config, load_config


def _error(environ=None, path=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ or {})
    return str(info.value)


def _line(message: str, key: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip().startswith(key + ":")]
    assert len(lines) == 1, f"expected one line for {key} in:\n{message}"
    return lines[0]


# ----------------------------------------------------------------------------- verbatim strings
@pytest.mark.parametrize("value", ["abc #def", "0123", "off", "null-ish", "  spaced  ", "yes", "1e3",
                                   "[not, a, list]", "{x: 1}", "~", "'quoted'"])
def test_a_string_key_gets_the_environment_value_verbatim(value):
    env = {"NEWSBEAM_S3__SECRET_ACCESS_KEY": value, "NEWSBEAM_S3__ACCESS_KEY_ID": value,
           "NEWSBEAM_KAFKA__TOPIC": value}
    config = load_config(None, env)
    assert config.s3.secret_access_key.get_secret_value() == value
    assert config.s3.access_key_id == value and config.kafka.topic == value


def test_a_password_that_looks_like_a_number_stays_a_string_in_client_config():
    config = load_config(None, {"NEWSBEAM_KAFKA__CLIENT_CONFIG__SASL_PLAIN_PASSWORD": "0123",
                                "NEWSBEAM_KAFKA__CLIENT_CONFIG__SECURITY_PROTOCOL": "SASL_SSL"})
    assert config.kafka.client_config == {"sasl_plain_password": "0123", "security_protocol": "SASL_SSL"}


def test_numbers_booleans_lists_and_null_are_typed_by_the_model():
    config = load_config(None, {"NEWSBEAM_PIPELINE__SPLIT_SIZE": "0050", "NEWSBEAM_PIPELINE__NLP_ENABLED": "off",
                                "NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN": "null",
                                "NEWSBEAM_PIPELINE__BEAM_ARGS": '["--direct_num_workers=2"]',
                                "NEWSBEAM_FEEDS__ALLOW_PRIVATE_ADDRESSES": "true",
                                "NEWSBEAM_ALERTS__MAX_ATTEMPTS": "7"})
    assert config.pipeline.split_size == 50 and config.pipeline.nlp_enabled is False
    assert config.pipeline.max_records_per_run is None
    assert config.pipeline.beam_args == ["--direct_num_workers=2"]
    assert config.feeds.allow_private_addresses is True and config.alerts.max_attempts == 7


def test_a_list_key_that_is_not_json_is_named_with_its_variable():
    line = _line(_error({"NEWSBEAM_PIPELINE__BEAM_ARGS": "--runner=PrismRunner"}), "pipeline.beam_args")
    assert "expected JSON" in line and "NEWSBEAM_PIPELINE__BEAM_ARGS" in line


# ----------------------------------------------------------------------------- *_FILE and secrets dir
def test_file_variable_reads_the_value_from_a_file_verbatim_but_the_final_newline(tmp_path):
    secret = tmp_path / "s3-secret"
    secret.write_text("abc #def 0123\n")
    config = load_config(None, {"NEWSBEAM_S3__SECRET_ACCESS_KEY_FILE": str(secret)})
    assert config.s3.secret_access_key.get_secret_value() == "abc #def 0123"


def test_a_key_whose_name_ends_in_file_is_that_key_not_an_indirection(tmp_path):
    config = load_config(None, {"NEWSBEAM_FEEDS__FEEDS_FILE": "/etc/newsbeam/feeds.yaml"})
    assert config.feeds.feeds_file == "/etc/newsbeam/feeds.yaml"
    target = tmp_path / "which"
    target.write_text("/srv/feeds.yaml\n")
    config = load_config(None, {"NEWSBEAM_FEEDS__FEEDS_FILE_FILE": str(target)})
    assert config.feeds.feeds_file == "/srv/feeds.yaml"


def test_file_variable_problems_are_named(tmp_path):
    msg = _error({"NEWSBEAM_S3__SECRET_ACCESS_KEY_FILE": str(tmp_path / "absent")})
    assert "cannot read" in _line(msg, "s3.secret_access_key")
    (tmp_path / "x").write_text("a")
    msg = _error({"NEWSBEAM_S3__SECRET_ACCESS_KEY_FILE": str(tmp_path / "x"),
                  "NEWSBEAM_S3__SECRET_ACCESS_KEY": "b"})
    assert "not both" in _line(msg, "s3.secret_access_key")


def _k8s_secret_volume(root: Path, files: dict[str, str]) -> Path:
    """The layout kubelet gives a mounted Secret: files in a timestamped directory, reached
    through the hidden `..data` link, one visible link per key."""
    data = root / "..2026_01_01_00_00_00.000000001"
    data.mkdir(parents=True)
    (root / "..data").symlink_to(data.name)
    for name, value in files.items():
        (data / name).write_text(value)
        (root / name).symlink_to(f"..data/{name}")
    return root


def test_secrets_directory_of_a_mounted_kubernetes_secret(tmp_path):
    d = _k8s_secret_volume(tmp_path / "secrets", {"NEWSBEAM_S3__SECRET_ACCESS_KEY": "s3 #secret\n",
                                                  "NEWSBEAM_S3__ACCESS_KEY_ID": "0123",
                                                  "SLACK_WEBHOOK_URL": "https://hooks.example/x"})
    config = load_config(None, {"NEWSBEAM_SECRETS_DIR": str(d)})
    assert config.s3.secret_access_key.get_secret_value() == "s3 #secret"
    assert config.s3.access_key_id == "0123"


def test_order_defaults_file_secrets_dir_file_variable_environment(tmp_path):
    path = tmp_path / "newsbeam.yaml"
    path.write_text("kafka:\n  topic: from-file\n  group_id: from-file\ns3:\n  bucket: from-file\n"
                    "  region: from-file\n")
    d = tmp_path / "secrets"
    d.mkdir()
    (d / "NEWSBEAM_KAFKA__GROUP_ID").write_text("from-dir")
    (d / "NEWSBEAM_S3__BUCKET").write_text("from-dir")
    (d / "NEWSBEAM_S3__REGION").write_text("from-dir")
    (tmp_path / "region").write_text("from-file-variable")
    config = load_config(path, {"NEWSBEAM_SECRETS_DIR": str(d), "NEWSBEAM_S3__BUCKET": "from-env",
                                "NEWSBEAM_S3__REGION_FILE": str(tmp_path / "region")})
    assert (config.kafka.topic, config.kafka.group_id) == ("from-file", "from-dir")
    assert (config.s3.bucket, config.s3.region) == ("from-env", "from-file-variable")
    assert config.s3.endpoint_url is None  # default


def test_a_missing_secrets_directory_is_an_error(tmp_path):
    assert "not a directory" in _error({"NEWSBEAM_SECRETS_DIR": str(tmp_path / "nope")})


# ----------------------------------------------------------------------------- nothing ignored
@pytest.mark.parametrize("section, good_key", [
    ("kafka", "topic"), ("s3", "bucket"), ("pipeline", "split_size"), ("nlp", "model"),
    ("feeds", "state_path"), ("alerts", "ledger_path")])
def test_a_typo_in_every_section_is_an_error_from_file_and_from_environment(tmp_path, section, good_key):
    path = tmp_path / "c.yaml"
    path.write_text(f"{section}:\n  {good_key}x: 1\n")
    line = _line(_error(path=path), f"{section}.{good_key}x")
    assert "unknown key" in line and good_key in line  # the allowed keys are listed
    name = f"NEWSBEAM_{section.upper()}__{good_key.upper()}X"
    line = _line(_error({name: "1"}), f"{section}.{good_key}x")
    assert "unknown key" in line and f"(from {name})" in line


def test_an_unknown_section_in_the_environment_is_an_error_but_other_variables_are_not_config():
    msg = _error({"NEWSBEAM_KAFAK__TOPIC": "x", "NEWSBEAM_KAFKA_PORT": "9192", "NEWSBEAM_S3_PORT": "1",
                  "NEWSBEAM_CONFIG_DIR": "/x"})
    assert "unknown section" in _line(msg, "kafak.topic")
    assert len(msg.splitlines()) == 2


def test_feeds_and_alerts_are_validated_at_load_with_one_line_per_problem(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("feeds:\n  global_concurrency: 0\n  per_host_concurrency: lots\n"
                    "alerts:\n  sinks: [{type: webhook, name: hook}]\n"
                    "  rules: [{name: r, sinks: [nope]}]\n")
    msg = _error(path=path)
    assert "greater than or equal to 1" in _line(msg, "feeds.global_concurrency")
    assert "valid integer" in _line(msg, "feeds.per_host_concurrency")
    assert "Field required" in _line(msg, "alerts.sinks.0.webhook.url")


def test_alert_rule_naming_an_unknown_sink_fails_at_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("alerts:\n  sinks: [{type: slack, name: s, url: 'https://hooks.example/x'}]\n"
                    "  rules: [{name: r, sinks: [nope]}]\n")
    assert "names unknown sinks" in _line(_error(path=path), "alerts")


def test_sections_are_their_owners_models():
    config = Config()
    assert isinstance(config.feeds, PollSettings) and isinstance(config.alerts, AlertsConfig)


def test_config_never_reads_the_environment_by_itself(monkeypatch):
    monkeypatch.setenv("NEWSBEAM_KAFKA__TOPIC", "from-env")
    assert Config().kafka.topic == "newsbeam.items"
    assert load_config(None).kafka.topic == "from-env"


def test_connectors_never_import_pipeline():
    import ast

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("connectors", "transforms"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                offenders += [f"{path.relative_to(root)}: {n}" for n in names
                              if n == "pipeline" or n.startswith("pipeline.")]
    assert offenders == []
