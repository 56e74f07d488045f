"""Webhook and Slack sinks against a real HTTP receiver on 127.0.0.1 (no transport mocks)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.alerts.cli import add_alerts_arguments, run_alerts
from connectors.errors import UsageError
from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import dispatch
from connectors.alerts.ledger import FAILED, PENDING, SENT, UNKNOWN, SqliteLedger
from connectors.alerts.sinks import verify_signature

SECRET = "webhook-test-secret"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when the request arrived

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """HTTP server answering each POST with the next scripted (status, headers), then 200."""

    def __init__(self, script=(), port: int = 0) -> None:
        self.script = list(script)
        self.requests: list[Received] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body, time.monotonic()))
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    started = []

    def start(script=(), port=0):
        started.append(Receiver(script, port))
        return started[-1]

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def ledger(tmp_path):
    opened = SqliteLedger(tmp_path / "alerts.sqlite")
    yield opened
    opened.close()


def make_config(base: str, tmp_path, **overrides) -> AlertsConfig:
    return AlertsConfig.model_validate({
        "rules": [
            {"name": "heads-of-government", "roles": ["prime minister", "president"], "sinks": ["hook"]},
            {"name": "trade", "keywords": ["tariffs"], "min_confidence": 0.5, "sinks": ["chat"]},
        ],
        "sinks": [
            {"type": "webhook", "name": "hook", "url": f"{base}/hook", "secret_env": "NEWSBEAM_TEST_HOOK_SECRET"},
            {"type": "slack", "name": "chat", "url": f"{base}/slack"},
        ],
        "ledger_path": str(tmp_path / "alerts.sqlite"),
        "max_attempts": 3,
        "base_backoff_seconds": 0.05,
        "timeout_seconds": 5,
        **overrides,
    })


def rows(*feeds, statement_id="st-0001", text="We will answer these tariffs within days."):
    return [
        {
            "statement_id": statement_id, "speaker_name": "Jane Doe", "speaker_role": "Prime Minister",
            "speaker_country": "NZ", "text": text, "confidence": 0.9, "is_leadership": True,
            "item_id": f"{feed}-{statement_id}", "url": f"https://{feed}.example/news/{statement_id}",
            "feed_title": feed.title(), "feed_url": f"https://{feed}.example/rss", "published": "2025-01-28T10:00:00Z",
            "first_seen": "2025-01-28T10:02:00Z",
        }
        for feed in feeds
    ]


@pytest.fixture(autouse=True)
def hook_secret(monkeypatch):
    monkeypatch.setenv("NEWSBEAM_TEST_HOOK_SECRET", SECRET)


def test_three_outlets_give_one_alert_per_rule_and_a_rerun_gives_none(receiver, ledger, tmp_path):
    server = receiver()
    config = make_config(server.base, tmp_path)
    batch = rows("alpha", "bravo", "charlie")
    urls = {r["url"] for r in batch}

    summary = dispatch(batch, config, ledger)

    assert (summary.matched, summary.sent, summary.failed) == (2, 2, 0)
    [hook], [slack] = server.on("/hook"), server.on("/slack")
    assert {link["url"] for link in hook.json()["links"]} == urls
    assert hook.headers["Idempotency-Key"] == "st-0001:heads-of-government"
    assert hook.json()["outlets"] == ["Alpha", "Bravo", "Charlie"]
    assert all(url in slack.body.decode() for url in urls)
    assert "Jane Doe" in slack.json()["text"]

    rerun = dispatch(batch, config, ledger)
    assert (rerun.sent, rerun.skipped_already_sent) == (0, 2)
    assert len(server.requests) == 2


def test_500_then_200_ends_with_one_delivered_alert(receiver, ledger, tmp_path):
    server = receiver(script=[(500, {})])
    summary = dispatch(rows("alpha"), make_config(server.base, tmp_path), ledger)

    hooks = server.on("/hook")
    assert len(hooks) == 2 and hooks[0].headers["Idempotency-Key"] == hooks[1].headers["Idempotency-Key"]
    assert summary.sent == 2 and summary.failed == 0
    delivery = ledger.get("st-0001", "heads-of-government", "hook")
    assert (delivery.state, delivery.attempts) == (SENT, 2)


def test_429_retry_after_is_honoured(receiver, ledger, tmp_path):
    server = receiver(script=[(429, {"Retry-After": "1"})])
    config = make_config(server.base, tmp_path, base_backoff_seconds=0.0)
    summary = dispatch(rows("alpha"), config, ledger)

    first, second = server.on("/hook")
    assert second.at - first.at >= 0.9
    assert summary.sent == 2


def test_sink_rate_limit_spaces_deliveries(receiver, ledger, tmp_path):
    server = receiver()
    config = make_config(server.base, tmp_path)
    hook = {**config.sink("hook").model_dump(), "rate_per_minute": 60}
    limited = AlertsConfig.model_validate({**config.model_dump(), "sinks": [hook, config.sink("chat").model_dump()]})

    summary = dispatch(rows("alpha", statement_id="st-1") + rows("alpha", statement_id="st-2"), limited, ledger)

    first, second = server.on("/hook")
    assert summary.sent == 4 and second.at - first.at >= 0.9


def test_signed_webhook_verifies_only_with_the_right_secret(receiver, ledger, tmp_path):
    server = receiver()
    dispatch(rows("alpha"), make_config(server.base, tmp_path), ledger)

    [hook] = server.on("/hook")
    signature = hook.headers["X-Newsbeam-Signature"]
    assert verify_signature(hook.body, signature, SECRET.encode())
    assert not verify_signature(hook.body, signature, b"not-the-secret")
    assert abs(int(hook.headers["X-Newsbeam-Timestamp"]) - time.time()) < 300
    # Slack hooks carry no signature: the URL itself is the credential.
    [slack] = server.on("/slack")
    assert "X-Newsbeam-Signature" not in slack.headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_receiver_down_records_failure_and_next_run_delivers_once(receiver, ledger, tmp_path):
    port = free_port()
    config = make_config(f"http://127.0.0.1:{port}", tmp_path, max_attempts=2)

    summary = dispatch(rows("alpha", "bravo"), config, ledger)

    assert (summary.sent, summary.failed) == (0, 2)
    failed = ledger.get("st-0001", "heads-of-government", "hook")
    assert (failed.state, failed.attempts) == (FAILED, 2)
    assert "connection failed" in failed.last_error and str(port) not in failed.last_error

    server = receiver(port=port)
    later = dispatch(rows("charlie"), config, ledger)
    assert (later.retried_from_previous_runs, later.sent, later.failed) == (2, 2, 0)
    [hook] = server.on("/hook")
    assert len(hook.json()["links"]) == 3  # the outlets of both runs
    assert len(server.on("/slack")) == 1

    assert dispatch([], config, ledger).sent == 0
    assert len(server.requests) == 2


def test_pending_after_crash_resends_webhook_with_same_key_but_not_slack(receiver, ledger, tmp_path):
    server = receiver()
    config = make_config(server.base, tmp_path)
    dispatch(rows("alpha"), config, ledger)
    key = server.on("/hook")[0].headers["Idempotency-Key"]
    # A crash after the send but before the ledger said "sent" leaves the intent pending.
    for rule, sink in (("heads-of-government", "hook"), ("trade", "chat")):
        ledger.begin(ledger.get("st-0001", rule, sink).alert, sink, "2025-01-28T10:03:00Z")
    assert len(ledger.in_state(PENDING)) == 2

    summary = dispatch([], config, ledger)

    assert (summary.retried_from_previous_runs, summary.sent, summary.unknown) == (1, 1, 1)
    hooks = server.on("/hook")
    assert [h.headers["Idempotency-Key"] for h in hooks] == [key, key]
    assert len(server.on("/slack")) == 1
    assert ledger.get("st-0001", "trade", "chat").state == UNKNOWN
    assert ledger.get("st-0001", "heads-of-government", "hook").state == SENT


def cli(argv, config):
    parser = argparse.ArgumentParser(prog="newsbeam alerts")
    add_alerts_arguments(parser)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the lines go through connectors/console.py to stdout
        code = run_alerts(parser.parse_args(argv), config)
    return code, out.getvalue()


def test_cli_test_sends_sample_without_recording_and_list_shows_states(receiver, tmp_path):
    server = receiver()
    config = make_config(server.base, tmp_path)

    code, out = cli(["test", "--rule", "heads-of-government"], config)
    assert code == 0 and "hook: delivered" in out
    [sample] = server.on("/hook")
    assert sample.json()["rule"] == "heads-of-government"
    assert verify_signature(sample.body, sample.headers["X-Newsbeam-Signature"], SECRET.encode())
    assert cli(["list"], config)[1].startswith("no alerts recorded yet")

    ledger = SqliteLedger(config.ledger_path)
    dispatch(rows("alpha", "bravo"), config, ledger)
    ledger.close()
    code, table = cli(["list", "--limit", "5"], config)
    lines = table.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["updated", "state", "tries"]
    assert sorted(line.split()[1] for line in lines[2:]) == ["sent", "sent"]

    with pytest.raises(UsageError, match="no alert rule named 'nope'") as err:  # the CLI prints it, exit 2
        cli(["test", "--rule", "nope"], config)
    assert err.value.exit_code == 2
