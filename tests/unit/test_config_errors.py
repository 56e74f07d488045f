"""Configuration mistakes give an operator one line per problem that names the key and the
expected form, through `load_config` and through the real `newsbeam` command; secrets from the
configuration never appear in those messages."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connectors.errors import ConfigError
from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Zq8-not-for-logs-7781"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsbeam.yaml"
    path.write_text(text)
    return path


def _error(path, environ=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ or {})
    return str(info.value)


def _problem_line(message: str, key: str) -> str:
    lines = [line for line in message.splitlines() if line.strip().startswith(key + ":")]
    assert len(lines) == 1, f"expected one line for {key} in:\n{message}"
    return lines[0]


def test_valid_file_and_env_override_load(tmp_path):
    path = _write(tmp_path, "kafka:\n  bootstrap_servers: a:1,b:2\n")
    config = load_config(path, {"NEWSBEAM_KAFKA__TOPIC": "t1", "NEWSBEAM_PIPELINE__SPLIT_SIZE": "50"})
    assert (config.kafka.bootstrap_servers, config.kafka.topic, config.pipeline.split_size) == ("a:1,b:2", "t1", 50)


def test_unknown_key_is_named(tmp_path):
    msg = _error(_write(tmp_path, "kafka:\n  bootstrap_server: 127.0.0.1:9092\n"))
    assert "unknown key" in _problem_line(msg, "kafka.bootstrap_server")


def test_unknown_section_is_named(tmp_path):
    msg = _error(_write(tmp_path, "kafak:\n  topic: x\n"))
    assert "unknown key" in _problem_line(msg, "kafak")


def test_wrong_type_names_key_and_expected_type(tmp_path):
    msg = _error(_write(tmp_path, "pipeline:\n  split_size: lots\n  nlp_enabled: maybe\n"))
    assert "valid integer" in _problem_line(msg, "pipeline.split_size")
    assert "valid boolean" in _problem_line(msg, "pipeline.nlp_enabled")


def test_out_of_range_names_the_bound(tmp_path):
    msg = _error(_write(tmp_path, "pipeline:\n  rows_per_file: 0\n"))
    assert "greater than or equal to 1" in _problem_line(msg, "pipeline.rows_per_file")


@pytest.mark.parametrize("value", ["broker", "broker:port", ":9092", "a:1,b"])
def test_bad_bootstrap_format_shows_the_expected_form(tmp_path, value):
    msg = _error(_write(tmp_path, f"kafka:\n  bootstrap_servers: '{value}'\n"))
    assert "host:port" in _problem_line(msg, "kafka.bootstrap_servers")


def test_env_override_with_bad_value_names_key_and_source():
    msg = _error(None, {"NEWSBEAM_KAFKA__REQUEST_TIMEOUT_MS": "soon"})
    assert "valid integer" in _problem_line(msg, "kafka.request_timeout_ms")
    assert "NEWSBEAM_* environment" in msg.splitlines()[0]


def test_env_override_of_unknown_key_is_rejected():
    msg = _error(None, {"NEWSBEAM_S3__BUKET": "x"})
    assert "unknown key" in _problem_line(msg, "s3.buket")


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert _error(missing) == f"config file not found: {missing}"


def test_missing_file_from_environment_is_named(tmp_path):
    missing = tmp_path / "env.yaml"
    assert str(missing) in _error(None, {"NEWSBEAM_CONFIG": str(missing)})


def test_invalid_yaml_names_file_and_position(tmp_path):
    path = _write(tmp_path, "kafka:\n  topic: [unclosed\n")
    msg = _error(path)
    assert msg.startswith(f"config file {path} is not valid YAML")
    assert "line" in msg


@pytest.mark.parametrize("text", ["- kafka\n- s3\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    assert "top level must be a mapping of sections" in _error(_write(tmp_path, text))


def test_validation_errors_never_echo_a_configured_secret(tmp_path):
    # The secret is present and other keys are wrong: the message must still not contain it.
    path = _write(tmp_path, f"s3:\n  secret_access_key: {SECRET}\n  max_attempts: x\n  bucket: [1]\n")
    msg = _error(path)
    assert SECRET not in msg and "s3.max_attempts" in msg
    # Wrong type for the secret itself: named, not shown.
    msg = _error(_write(tmp_path, f"s3:\n  secret_access_key: [{SECRET}]\n"))
    assert SECRET not in msg and "s3.secret_access_key" in msg


def test_invalid_yaml_never_echoes_a_configured_secret(tmp_path):
    msg = _error(_write(tmp_path, f"s3:\n  secret_access_key: {SECRET}: oops\n"))
    assert SECRET not in msg and "line 2" in msg


def _newsbeam(home: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    # A clean environment: no NEWSBEAM_* of the developer's shell leaks into the check.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _newsbeam_lines(stderr: str) -> list[str]:
    """The CLI's own message: from its `newsbeam:` line on (imports may log warnings before)."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("newsbeam: "))
    return lines[start:]


def test_cli_reports_every_problem_on_its_own_line_and_exits_2(tmp_path):
    path = _write(tmp_path, "kafka:\n  bootstrap_servers: nope\n  bogus: 1\n"
                            f"s3:\n  secret_access_key: {SECRET}\n  max_attempts: many\n")
    proc = _newsbeam(tmp_path, "--config", str(path), "run")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    header, *problems = _newsbeam_lines(proc.stderr)
    assert header == f"newsbeam: invalid configuration ({path}):"
    keys = sorted(p.strip().split(":")[0] for p in problems)
    assert keys == ["kafka.bogus", "kafka.bootstrap_servers", "s3.max_attempts"]
    assert SECRET not in proc.stderr + proc.stdout


def test_cli_env_override_problem_exits_2(tmp_path):
    proc = _newsbeam(tmp_path, "run", env_extra={"NEWSBEAM_PIPELINE__SPLIT_SIZE": "-3",
                                       "NEWSBEAM_S3__SECRET_ACCESS_KEY": SECRET})
    assert proc.returncode == 2, proc.stderr
    header, problem = _newsbeam_lines(proc.stderr)
    assert "NEWSBEAM_* environment" in header
    assert problem.strip().startswith("pipeline.split_size: ") and "greater than or equal to 1" in problem
    assert SECRET not in proc.stderr + proc.stdout


def test_cli_missing_config_file_is_one_line(tmp_path):
    proc = _newsbeam(tmp_path, "--config", str(tmp_path / "absent.yaml"), "poll", "--once")
    assert proc.returncode == 2
    assert _newsbeam_lines(proc.stderr) == [f"newsbeam: config file not found: {tmp_path / 'absent.yaml'}"]
