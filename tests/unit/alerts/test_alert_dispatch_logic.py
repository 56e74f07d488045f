"""Dispatch bookkeeping with in-process sinks; real transports are covered in tests/integration."""

from datetime import datetime, timezone

from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import dispatch
from connectors.alerts.ledger import FAILED, SENT, UNKNOWN, SqliteLedger
from connectors.alerts.retry import DeliveryError
from connectors.alerts.sinks import Sink

NOW = datetime(2025, 1, 28, 12, 0, tzinfo=timezone.utc)


class RecordingSink(Sink):
    def __init__(self, name, idempotent, fail_with=None):
        super().__init__(name, None, 1.0)
        self.idempotent = idempotent
        self.fail_with = fail_with
        self.sent = []

    def _send(self, alert):
        if self.fail_with:
            raise self.fail_with
        self.sent.append(alert)


def config(**kw):
    return AlertsConfig.model_validate({
        "rules": [
            {"name": "pm", "roles": ["prime minister"], "sinks": ["hook", "chat"]},
            {"name": "steel", "keywords": ["steel"], "sinks": ["hook"]},
        ],
        "sinks": [
            {"type": "webhook", "name": "hook", "url": "http://127.0.0.1:9/"},
            {"type": "slack", "name": "chat", "url": "http://127.0.0.1:9/"},
        ],
        "max_attempts": 2, "base_backoff_seconds": 0.0, **kw,
    })


def row(url, statement_id="st-1", text="Steel tariffs hurt us.", role="Prime Minister"):
    return {"statement_id": statement_id, "speaker_name": "Jane Doe", "speaker_role": role, "speaker_country": "NZ",
            "text": text, "confidence": 0.9, "is_leadership": True, "item_id": url, "url": url,
            "feed_title": url.split("/")[2], "feed_url": "", "published": "", "first_seen": "2025-01-28T11:59:00Z"}


def sinks(**fail):
    return {"hook": RecordingSink("hook", True, fail.get("hook")), "chat": RecordingSink("chat", False, fail.get("chat"))}


def test_one_delivery_per_rule_and_sink_then_skips(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    s = sinks()
    summary = dispatch([row("https://a/1"), row("https://b/1")], config(), ledger, NOW, s)
    assert (summary.matched, summary.sent, summary.failed) == (2, 3, 0)
    assert sorted(a.rule for a in s["hook"].sent) == ["pm", "steel"] and [a.rule for a in s["chat"].sent] == ["pm"]
    assert all(len(a.links) == 2 for a in s["hook"].sent)

    again = dispatch([row("https://c/1")], config(), ledger, NOW, s)
    assert (again.sent, again.skipped_already_sent) == (0, 3)
    assert [l.url for l in ledger.links("st-1")] == ["https://a/1", "https://b/1", "https://c/1"]


def test_non_retryable_failure_is_recorded_and_retried_next_run_with_all_links(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    broken = sinks(hook=DeliveryError("HTTP 404", retryable=False))
    first = dispatch([row("https://a/1", role="Minister")], config(), ledger, NOW, broken)
    assert (first.sent, first.failed) == (0, 1)
    failed = ledger.get("st-1", "steel", "hook")
    assert (failed.state, failed.attempts, failed.last_error) == (FAILED, 1, "HTTP 404")

    fixed = sinks()
    second = dispatch([row("https://b/1", role="Minister")], config(), ledger, NOW, fixed)
    assert (second.retried_from_previous_runs, second.sent, second.failed) == (1, 1, 0)
    assert [l.url for l in fixed["hook"].sent[0].links] == ["https://a/1", "https://b/1"]
    assert ledger.get("st-1", "steel", "hook").state == SENT


def test_pending_after_crash_resent_only_on_idempotent_sinks(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    s = sinks()
    dispatch([row("https://a/1", text="Hello.")], config(), ledger, NOW, s)
    alert = s["hook"].sent[0]
    ledger.begin(alert, "hook", "t")  # as if the process died after sending, before marking
    ledger.begin(alert, "chat", "t")
    after = sinks()
    summary = dispatch([], config(), ledger, NOW, after)
    assert (summary.retried_from_previous_runs, summary.sent, summary.unknown) == (1, 1, 1)
    assert [a.idempotency_key for a in after["hook"].sent] == [alert.idempotency_key]
    assert after["chat"].sent == []
    assert ledger.get("st-1", "pm", "chat").state == UNKNOWN


def test_rows_for_removed_rules_stay_untouched(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    dispatch([row("https://a/1", role="Minister")], config(), ledger, NOW, sinks(hook=DeliveryError("x", retryable=False)))
    only_pm = config(rules=[{"name": "pm", "roles": ["prime minister"], "sinks": ["hook"]}])
    s = sinks()
    summary = dispatch([], only_pm, ledger, NOW, s)
    assert summary.retried_from_previous_runs == 0 and s["hook"].sent == []
    assert ledger.get("st-1", "steel", "hook").state == FAILED


def test_unexpected_sink_and_ledger_errors_do_not_raise(tmp_path):
    class Exploding(RecordingSink):
        def _send(self, alert):
            raise RuntimeError("bug")

    ledger = SqliteLedger(tmp_path / "l.sqlite")
    summary = dispatch([row("https://a/1")], config(), ledger, NOW, {"hook": Exploding("hook", True), "chat": Exploding("chat", False)})
    assert (summary.sent, summary.failed) == (0, 3)
    assert ledger.get("st-1", "pm", "hook").last_error == "unexpected RuntimeError"

    ledger.close()  # every ledger call now raises sqlite3.ProgrammingError
    assert dispatch([row("https://b/1", statement_id="st-2")], config(), ledger, NOW, sinks()).sent == 0
