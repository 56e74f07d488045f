"""Alerting driven by committed runs: the ledger's record of alerted runs, priming, retries."""

from connectors.alerts.backlog import alert_committed_runs, runs_to_alert
from connectors.alerts.ledger import BEFORE_ALERTING, SqliteLedger

from test_alert_dispatch_logic import RecordingSink, config, row

AT = "2025-01-28T12:00:00Z"


def rows_by_run(**runs):
    """run id -> its leadership rows, each statement once per run."""
    return {run: [row(f"https://{run}/{s}", statement_id=s) for s in statements]
            for run, statements in runs.items()}


def hook_only():
    return {"hook": RecordingSink("hook", True), "chat": RecordingSink("chat", False)}


def test_runs_to_alert_is_the_sorted_difference():
    assert runs_to_alert(["b", "a", "c", "a"], {"b"}) == ["a", "c"]


def test_first_use_adopts_history_then_alerts_every_later_committed_run(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    rows = rows_by_run(old=["s-old"], r1=["s1", "s2"], r2=["s3"])
    # Alerting starts while r1 is being finished: "old" predates alerting, r1 does not.
    summary, runs = alert_committed_runs(config(), ledger, ["old", "r1"], rows.__getitem__, AT,
                                         keep=["r1"], sinks=(s := hook_only()))
    assert runs == ["r1"]
    assert sorted(a.statement_id for a in s["hook"].sent if a.rule == "pm") == ["s1", "s2"]
    assert ledger.alerted_runs() == {"old", "r1"}

    # r2 committed (e.g. by a run that then died); the next call alerts r2 only.
    summary, runs = alert_committed_runs(config(), ledger, ["old", "r1", "r2"], rows.__getitem__, AT,
                                         sinks=(s2 := hook_only()))
    assert runs == ["r2"] and {a.statement_id for a in s2["hook"].sent} == {"s3"}
    # Nothing left: no dispatch of anything.
    summary, runs = alert_committed_runs(config(), ledger, ["old", "r1", "r2"], rows.__getitem__, AT,
                                         sinks=(s3 := hook_only()))
    assert runs == [] and s3["hook"].sent == [] and summary.matched == 0


def test_a_run_dispatched_again_sends_only_what_was_missing(tmp_path):
    """Killed while alerting: part was sent and recorded, the run was not marked alerted."""
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    ledger.prime([], AT)
    rows = rows_by_run(r1=[f"s{i}" for i in range(6)])
    from connectors.alerts.dispatch import dispatch

    dispatch(rows["r1"][:2], config(), ledger, sinks=hook_only())  # the 2 that got out before the kill
    summary, runs = alert_committed_runs(config(), ledger, ["r1"], rows.__getitem__, AT,
                                         sinks=(s := hook_only()))
    assert runs == ["r1"]
    assert sorted(a.statement_id for a in s["hook"].sent if a.rule == "pm") == ["s2", "s3", "s4", "s5"]
    assert summary.skipped_already_sent == 2 * 3  # 2 statements x (pm hook, pm chat, steel hook)


def test_incomplete_dispatch_leaves_the_runs_due(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    ledger.prime([], AT)
    rows = rows_by_run(r1=["s1"])
    partial = {"hook": RecordingSink("hook", True)}  # sink "chat" missing: no ledger record for it
    summary, runs = alert_committed_runs(config(), ledger, ["r1"], rows.__getitem__, AT, sinks=partial)
    assert summary.incomplete and ledger.alerted_runs() == set()
    summary, runs = alert_committed_runs(config(), ledger, ["r1"], rows.__getitem__, AT, sinks=hook_only())
    assert not summary.incomplete and ledger.alerted_runs() == {"r1"}


def test_priming_happens_once(tmp_path):
    ledger = SqliteLedger(tmp_path / "l.sqlite")
    assert not ledger.primed()
    ledger.prime(["a"], AT)
    ledger.prime(["b"], AT)
    assert ledger.primed() and ledger.alerted_runs() == {"a"}
    how = ledger._db.execute("SELECT how FROM alerted_runs WHERE run_id = 'a'").fetchone()[0]
    assert how == BEFORE_ALERTING
