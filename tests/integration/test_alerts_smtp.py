"""SMTP sink against a real aiosmtpd server on 127.0.0.1 (no transport mocks)."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import dispatch
from connectors.alerts.ledger import FAILED, SqliteLedger
from connectors.alerts.message import message_id

USER, PASSWORD = "newsbeam", "smtp-test-password"

# Plain-text AUTH is fine here: the server only listens on 127.0.0.1 for the test.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticate,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    yield controller.port, inbox
    controller.stop()


def make_config(port, tmp_path, password_env="NEWSBEAM_TEST_SMTP_PASSWORD"):
    return AlertsConfig.model_validate({
        "rules": [
            {"name": "presidents", "roles": ["president"], "sinks": ["mail"]},
            {"name": "trade", "keywords": ["tariffs"], "sinks": ["mail"]},
        ],
        "sinks": [{
            "type": "smtp", "name": "mail", "host": "127.0.0.1", "port": port, "starttls": False,
            "username": USER, "password_env": password_env,
            "from_addr": "alerts@newsbeam.test", "to_addrs": ["desk@newsbeam.test", "chief@newsbeam.test"],
        }],
        "max_attempts": 2, "base_backoff_seconds": 0.05, "timeout_seconds": 5,
    })


def rows(statement_id, text, *feeds):
    return [
        {"statement_id": statement_id, "speaker_name": "Ana Pereira", "speaker_role": "President of Portugal",
         "speaker_country": "PT", "text": text, "confidence": 0.8, "is_leadership": True,
         "item_id": f"{feed}-{statement_id}", "url": f"https://{feed}.example/{statement_id}", "feed_title": feed,
         "feed_url": f"https://{feed}.example/rss", "published": "2025-01-28T10:00:00Z", "first_seen": "2025-01-28T10:01:00Z"}
        for feed in feeds
    ]


def test_one_email_per_statement_per_rule(smtp_server, tmp_path, monkeypatch):
    port, inbox = smtp_server
    monkeypatch.setenv("NEWSBEAM_TEST_SMTP_PASSWORD", PASSWORD)
    config = make_config(port, tmp_path)
    ledger = SqliteLedger(tmp_path / "alerts.sqlite")
    batch = rows("st-a", "Tariffs on wine are unacceptable.", "alpha", "bravo", "charlie") + rows("st-b", "We stand together.", "alpha")

    summary = dispatch(batch, config, ledger)
    again = dispatch(batch, config, ledger)
    ledger.close()

    assert (summary.sent, summary.failed, again.sent, again.skipped_already_sent) == (3, 0, 0, 3)
    by_key = {msg["X-Newsbeam-Idempotency-Key"]: (sender, rcpts, msg) for sender, rcpts, msg in inbox.messages}
    assert sorted(by_key) == ["st-a:presidents", "st-a:trade", "st-b:presidents"]
    sender, rcpts, msg = by_key["st-a:trade"]
    assert sender == "alerts@newsbeam.test" and rcpts == ["desk@newsbeam.test", "chief@newsbeam.test"]
    assert "Ana Pereira" in msg["Subject"] and "President of Portugal" in msg["Subject"]
    assert msg["Message-ID"] == message_id("st-a:trade")
    body = msg.get_content()
    assert "Tariffs on wine are unacceptable." in body
    assert all(f"https://{feed}.example/st-a" in body for feed in ("alpha", "bravo", "charlie"))


def test_wrong_password_is_recorded_as_failed_without_leaking_it(smtp_server, tmp_path, monkeypatch):
    port, inbox = smtp_server
    monkeypatch.setenv("NEWSBEAM_TEST_SMTP_PASSWORD", "wrong-password")
    ledger = SqliteLedger(tmp_path / "alerts.sqlite")

    summary = dispatch(rows("st-a", "We stand together.", "alpha"), make_config(port, tmp_path), ledger)

    delivery = ledger.get("st-a", "presidents", "mail")
    ledger.close()
    assert (summary.sent, summary.failed, inbox.messages) == (0, 1, [])
    # 535 is permanent: no retries within the run, the next run tries again.
    assert (delivery.state, delivery.attempts, delivery.last_error) == (FAILED, 1, "smtp: 535")
