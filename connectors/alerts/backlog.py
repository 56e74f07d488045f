"""Alerts follow the committed runs: every committed run not yet alerted is alerted, by
whichever run (or `newsbeam alerts retry`) comes next.

A run used to alert from "its own files". A run killed after its manifest, while alerts were
going out, was then followed by a run with new records: a new run id, the earlier records
dropped as duplicates of the committed rows, and their statements never alerted. Driving alerts
from durable state closes that: the manifests on S3 say which runs are committed, the alert
ledger says which of them were alerted, and the difference is dispatched (the ledger already
sends each statement and rule once, so a run dispatched twice sends nothing twice).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import DispatchSummary, dispatch
from connectors.alerts.ledger import AlertLedger

log = logging.getLogger(__name__)


def runs_to_alert(committed: Iterable[str], alerted: set[str]) -> list[str]:
    """Committed runs the ledger has not recorded as alerted, in a stable order."""
    return sorted(set(committed) - alerted)


def prime(ledger: AlertLedger, committed: Iterable[str], at: str, keep: Iterable[str] = ()) -> None:
    """The first time alerting runs against a ledger, the runs already committed are recorded
    as alerted before alerting began (except ``keep``: runs this process is finishing)."""
    if not ledger.primed():
        keep = set(keep)
        ledger.prime(sorted(r for r in committed if r not in keep), at)


def alert_committed_runs(config: AlertsConfig, ledger: AlertLedger, committed: Iterable[str],
                         rows_of_run: Callable[[str], list[Mapping]], at: str, *,
                         keep: Iterable[str] = (), sinks=None) -> tuple[DispatchSummary, list[str]]:
    """Dispatch the leadership statements of every committed run not yet alerted, then mark
    those runs alerted - only when the dispatch handled every statement (each has a ledger
    record: sent, failed for a retry, or unknown); otherwise they come round again.

    ``rows_of_run(run_id)``: the run's leadership quote rows (from its manifest's files).
    Returns the dispatch summary and the runs it covered."""
    committed = list(committed)
    prime(ledger, committed, at, keep)
    runs = runs_to_alert(committed, ledger.alerted_runs())
    rows = [row for run_id in runs for row in rows_of_run(run_id)]
    summary = dispatch(rows, config, ledger, sinks=sinks)
    if summary.incomplete:
        log.warning("alerts: %d step(s) incomplete; runs %s stay due for alerting", summary.incomplete, runs)
    elif runs:
        ledger.mark_runs_alerted(runs, at)
    return summary, runs
