from connectors.alerts.ledger import FAILED, PENDING, SENT, UNKNOWN, SqliteLedger
from connectors.alerts.message import Alert, Link

ALERT = Alert("st-1", "heads", "Jane Doe", "PM", "NZ", "We act.", "2025-01-28T10:00:00Z", 0.9, (Link("https://a/1", "A"),))


def test_delivery_lifecycle_survives_reopen(tmp_path):
    path = tmp_path / "sub" / "alerts.sqlite"
    ledger = SqliteLedger(path)
    ledger.begin(ALERT, "hook", "2025-01-28T10:00:00Z")
    assert ledger.get("st-1", "heads", "hook").state == PENDING
    ledger.mark_failed("st-1", "heads", "hook", 3, "HTTP 500", "2025-01-28T10:00:05Z")
    ledger.close()

    ledger = SqliteLedger(path)
    failed = ledger.in_state(FAILED)
    assert [(d.statement_id, d.attempts, d.last_error, d.alert) for d in failed] == [("st-1", 3, "HTTP 500", ALERT)]
    ledger.begin(ALERT, "hook", "2025-01-28T11:00:00Z")
    ledger.mark_sent("st-1", "heads", "hook", 1, "2025-01-28T11:00:01Z")
    sent = ledger.get("st-1", "heads", "hook")
    assert (sent.state, sent.attempts, sent.last_error, sent.created_at) == (SENT, 4, None, "2025-01-28T10:00:00Z")
    assert ledger.in_state(FAILED) == []
    ledger.close()


def test_unknown_and_recent_order(tmp_path):
    ledger = SqliteLedger(tmp_path / "a.sqlite")
    ledger.begin(ALERT, "slack", "2025-01-28T10:00:00Z")
    ledger.mark_unknown("st-1", "heads", "slack", "interrupted", "2025-01-28T10:01:00Z")
    ledger.begin(ALERT, "hook", "2025-01-28T10:02:00Z")
    assert [(d.sink, d.state) for d in ledger.recent(10)] == [("hook", PENDING), ("slack", UNKNOWN)]
    assert len(ledger.recent(1)) == 1
    ledger.close()


def test_links_accumulate_once_per_url(tmp_path):
    ledger = SqliteLedger(tmp_path / "a.sqlite")
    ledger.remember_links("st-1", [Link("https://a/1", "A"), Link("https://b/1", "B")], "t1")
    ledger.remember_links("st-1", [Link("https://b/1", "B2"), Link("https://c/1", "C")], "t2")
    ledger.remember_links("st-2", [Link("https://z/1", "Z")], "t2")
    assert [(l.url, l.feed_title) for l in ledger.links("st-1")] == [
        ("https://a/1", "A"), ("https://b/1", "B"), ("https://c/1", "C"),
    ]
    assert ledger.links("none") == ()
    ledger.close()
