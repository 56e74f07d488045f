"""pipeline.logs: JSON lines, text lines, and secrets that never reach the output."""
from __future__ import annotations

import io
import json
import logging

import pytest

from pipeline.config import load_config
from pipeline.logs import REDACTED, configure_logging, secret_values

SECRET = "s3cr3t-Value-9f8e7d"


@pytest.fixture
def capture():
    """configure_logging onto a buffer; restores the root logger afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buf = io.StringIO()

    def setup(fmt="json", level="INFO", secrets=()):
        configure_logging(fmt, level, secrets=secrets, stream=buf)
        return buf

    yield setup
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_json_lines_carry_ts_level_logger_message_and_extras(capture):
    buf = capture("json")
    logging.getLogger("newsbeam.run").info("run %s wrote %d rows", "r-1", 42,
                                           extra={"run_id": "r-1", "rows": {"articles": 42}})
    logging.getLogger("newsbeam.poll").warning("feed parked")
    first, second = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert first["level"] == "INFO" and first["logger"] == "newsbeam.run"
    assert first["message"] == "run r-1 wrote 42 rows"
    assert first["run_id"] == "r-1" and first["rows"] == {"articles": 42}
    assert first["ts"].endswith("Z") and first["ts"][:2] == "20"
    assert second["level"] == "WARNING" and second["message"] == "feed parked"
    assert "run_id" not in second


def test_level_filters_records(capture):
    buf = capture("json", level="WARNING")
    log = logging.getLogger("newsbeam.level")
    log.info("hidden")
    log.error("shown")
    assert [json.loads(x)["message"] for x in buf.getvalue().splitlines()] == ["shown"]


def test_json_exception_is_one_line_with_traceback(capture):
    buf = capture("json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("newsbeam.x").exception("failed")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert "RuntimeError: boom" in record["exc"] and "Traceback" in record["exc"]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_secret_never_appears_in_output(capture, fmt):
    buf = capture(fmt, level="DEBUG", secrets={SECRET})
    log = logging.getLogger("newsbeam.secrets")
    log.info("connecting with key %s", SECRET)
    log.info(f"inline {SECRET} in the message")
    log.debug("extra field", extra={"headers": {"Authorization": f"Bearer {SECRET}"}, "token": SECRET})
    try:
        raise ValueError(f"https://hooks.example/{SECRET}/x refused")
    except ValueError:
        log.exception("delivery failed")
    out = buf.getvalue()
    assert SECRET not in out
    # message, f-string, exception text in both; the two extra fields are shown in JSON only
    assert out.count(REDACTED) == (5 if fmt == "json" else 3)
    assert "connecting with key" in out and "delivery failed" in out


def test_secret_values_from_environment_and_config(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(
        "s3:\n  access_key_id: AKIAEXAMPLEKEY\n  secret_access_key: config-secret-123\n"
        "alerts:\n  sinks:\n"
        "    - {type: webhook, name: hook, url: 'https://hooks.example/T0/B0/slacktoken', secret_env: HOOK_SIGNING}\n"
        "    - {type: smtp, name: mail, host: mx, from_addr: a@x, to_addrs: [b@x], password_env: MAIL_PW}\n")
    environ = {"HOOK_SIGNING": "hook-signing-secret", "MAIL_PW": "mail-password-1",
               "AWS_SECRET_ACCESS_KEY": "aws-secret-456", "GITHUB_TOKEN": "ghp_tokenvalue",
               "HOME": "/home/newsbeam", "SHORT_KEY": "abc"}
    found = secret_values(environ, load_config(cfg_file, {}))
    assert {"config-secret-123", "hook-signing-secret", "mail-password-1",
            "aws-secret-456", "ghp_tokenvalue", "https://hooks.example/T0/B0/slacktoken"} <= found
    assert "/home/newsbeam" not in found
    # a key ID names the key (locally it is "newsbeam", which would turn every line into ***)
    assert "AKIAEXAMPLEKEY" not in found
    # a sink's *_env names a variable: its name is no secret, even when it is not set
    assert "UNSET_SECRET_VARIABLE" not in secret_values({}, {"alerts": {"sinks": [
        {"type": "webhook", "url": "https://h.example/x", "secret_env": "UNSET_SECRET_VARIABLE",
         "secret_file": "/run/secrets/hook"}]}})
    assert "newsbeam" not in secret_values({"NEWSBEAM_S3__ACCESS_KEY_ID": "newsbeam", "AWS_ACCESS_KEY_ID": "newsbeam"})
    assert "abc" not in found  # too short to replace safely


def test_configure_logging_twice_keeps_one_handler(capture):
    buf = capture("json")
    configure_logging("text", "INFO", stream=buf)
    logging.getLogger("newsbeam.twice").info("once")
    assert buf.getvalue().count("once") == 1
    assert not buf.getvalue().lstrip().startswith("{")


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError, match="'text' or 'json'"):
        configure_logging("xml")
