"""Send alerts for a batch of leadership statements, at most once per (statement, rule, sink).

Order within a run:
  0. remember the batch's links, so every alert below lists all outlets carrying it so far;
  1. resolve deliveries left `pending` by a crashed run: resend on idempotent sinks (signed
     webhook, Kafka) under the same idempotency key, mark `unknown` on the others (Slack,
     SMTP) because a resend could duplicate;
  2. retry deliveries that `failed` in earlier runs;
  3. send new ones.
Nothing here raises into the pipeline: errors are logged, recorded and counted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone

from connectors.alerts.config import AlertsConfig
from connectors.alerts.ledger import FAILED, PENDING, SENT, UNKNOWN, AlertLedger, Delivery
from connectors.alerts.message import Alert
from connectors.alerts.retry import Outcome, RetryPolicy, send_with_retries
from connectors.alerts.rules import matching_rules
from connectors.alerts.sinks import Sink, build_sinks, close_all
from connectors.alerts.statements import alert_for, group_statements

log = logging.getLogger(__name__)


@dataclass
class DispatchSummary:
    matched: int = 0  # (statement, rule) pairs in this batch that matched a rule
    sent: int = 0  # deliveries that succeeded in this run (new and retried)
    skipped_already_sent: int = 0  # deliveries the ledger holds as sent (or unknown): not sent again
    failed: int = 0  # deliveries that ended this run failed (retried next run)
    retried_from_previous_runs: int = 0  # failed or crashed-pending deliveries attempted again
    unknown: int = 0  # crashed-pending deliveries on non-idempotent sinks, not resent
    # Steps that raised and deliveries that could not even be recorded in the ledger: the batch
    # was not handled completely, so its runs are not marked alerted and come round again.
    incomplete: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def retry_policy(config: AlertsConfig) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=config.max_attempts,
        base_backoff_seconds=config.base_backoff_seconds,
        max_backoff_seconds=config.max_backoff_seconds,
        max_retry_after_seconds=config.max_retry_after_seconds,
    )


def deliver(sink: Sink, alert: Alert, policy: RetryPolicy) -> Outcome:
    """Send with retries; an unexpected exception in a sink becomes a failed outcome."""
    try:
        return send_with_retries(lambda: sink.send(alert), policy)
    except Exception as exc:
        log.exception("alert sink %s raised unexpectedly", sink.name)
        return Outcome(False, 1, f"unexpected {type(exc).__name__}")


class _Run:
    def __init__(self, config: AlertsConfig, ledger: AlertLedger, sinks: dict[str, Sink], at: str) -> None:
        self.config = config
        self.ledger = ledger
        self.sinks = sinks
        self.at = at
        self.policy = retry_policy(config)
        self.summary = DispatchSummary()

    def send(self, alert: Alert, sink_name: str) -> None:
        sink = self.sinks.get(sink_name)
        if sink is None:
            log.error("alert sink %s is not configured; %s not sent", sink_name, alert.idempotency_key)
            self.summary.failed += 1
            self.summary.incomplete += 1
            return
        key = (alert.statement_id, alert.rule, sink_name)
        try:
            self.ledger.begin(alert, sink_name, self.at)
        except Exception:
            # Sending without a recorded intent could duplicate after a crash: skip instead.
            log.exception("alert ledger unavailable; %s via %s not sent", alert.idempotency_key, sink_name)
            self.summary.failed += 1
            self.summary.incomplete += 1
            return
        outcome = deliver(sink, alert, self.policy)
        try:
            if outcome.delivered:
                self.ledger.mark_sent(*key, outcome.attempts, self.at)
            else:
                self.ledger.mark_failed(*key, outcome.attempts, outcome.error or "failed", self.at)
        except Exception:
            log.exception("alert ledger update failed for %s via %s", alert.idempotency_key, sink_name)
        if outcome.delivered:
            self.summary.sent += 1
        else:
            self.summary.failed += 1
            log.warning("alert %s via %s failed after %d attempt(s): %s",
                        alert.idempotency_key, sink_name, outcome.attempts, outcome.error)

    def _still_routed(self, delivery: Delivery) -> bool:
        try:
            return delivery.sink in self.config.rule(delivery.rule).sinks and delivery.sink in self.sinks
        except KeyError:
            return False

    def _refreshed(self, delivery: Delivery) -> Alert:
        return replace(delivery.alert, links=self.ledger.links(delivery.statement_id) or delivery.alert.links)

    def recover_pending(self) -> None:
        for delivery in self.ledger.in_state(PENDING):
            if not self._still_routed(delivery):
                continue
            if self.sinks[delivery.sink].idempotent:
                self.summary.retried_from_previous_runs += 1
                self.send(self._refreshed(delivery), delivery.sink)
            else:
                self.ledger.mark_unknown(
                    delivery.statement_id, delivery.rule, delivery.sink,
                    "interrupted between send and record; not resent (sink cannot dedupe)", self.at,
                )
                self.summary.unknown += 1

    def retry_failed(self) -> None:
        for delivery in self.ledger.in_state(FAILED):
            if self._still_routed(delivery):
                self.summary.retried_from_previous_runs += 1
                self.send(self._refreshed(delivery), delivery.sink)

    def send_new(self, rows: Iterable[Mapping]) -> None:
        for statement in group_statements(rows):
            rules = matching_rules(statement.fields, self.config.rules)
            self.summary.matched += len(rules)
            links = self.ledger.links(statement.statement_id) or statement.links
            for rule_name in rules:
                alert = alert_for(statement, rule_name, links)
                for sink_name in self.config.rule(rule_name).sinks:
                    existing = self.ledger.get(statement.statement_id, rule_name, sink_name)
                    if existing is None:
                        self.send(alert, sink_name)
                    elif existing.state in (SENT, UNKNOWN):
                        self.summary.skipped_already_sent += 1
                    # pending/failed rows were handled by the recovery steps of this run

    def remember_links(self, rows: list[Mapping]) -> None:
        for statement in group_statements(rows):
            self.ledger.remember_links(statement.statement_id, list(statement.links), self.at)


def _utc_iso(now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dispatch(
    statements: list[dict],
    config: AlertsConfig,
    ledger: AlertLedger,
    now: datetime | None = None,
    sinks: dict[str, Sink] | None = None,
) -> DispatchSummary:
    """Alert on a batch of leadership-statement rows (several rows per statement_id allowed).

    `sinks` defaults to the configured ones and is then closed at the end. Never raises."""
    owned = sinks is None
    run = None
    try:
        sinks = build_sinks(config) if owned else sinks
        run = _Run(config, ledger, sinks, _utc_iso(now))
        for step, call in (
            ("remember links", lambda: run.remember_links(statements)),
            ("recover pending", run.recover_pending),
            ("retry failed", run.retry_failed),
            ("send new", lambda: run.send_new(statements)),
        ):
            try:
                call()
            except Exception:
                log.exception("alert dispatch step %r failed; continuing", step)
                run.summary.incomplete += 1
    except Exception:
        log.exception("alert dispatch could not start")
    finally:
        if owned and sinks:
            close_all(sinks)
    summary = run.summary if run else DispatchSummary(incomplete=1)
    log.info("alerts: %s", summary.as_dict())
    return summary
