"""`newsbeam alerts test --rule NAME`, `newsbeam alerts list [--limit N]`; the arguments of
`newsbeam alerts retry` too, which pipeline/cli.py runs itself (under the run lock).

Wiring (pipeline/cli.py): `add_alerts_arguments(subparsers.add_parser("alerts"))`, then
`sys.exit(run_alerts(args, config.alerts))`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from connectors import console
from connectors.alerts.config import AlertsConfig
from connectors.alerts.dispatch import deliver, retry_policy
from connectors.alerts.ledger import Delivery, SqliteLedger
from connectors.alerts.message import Alert, Link
from connectors.alerts.sinks import build_sink
from connectors.errors import UsageError


def add_alerts_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="alerts_command", required=True)
    test = commands.add_parser("test", help="send a sample alert through a rule's sinks (not recorded)")
    test.add_argument("--rule", required=True, help="name of the alert rule whose sinks to exercise")
    listing = commands.add_parser("list", help="recent alerts and their delivery state")
    listing.add_argument("--limit", type=int, default=20, help="number of deliveries to show (default 20)")
    commands.add_parser("retry", help="send again what earlier runs could not deliver (failed, or "
                        "pending after a crash); exit 6 when some still fail")


def sample_alert(rule: str, now: datetime) -> Alert:
    """A clearly-marked fake statement; a fresh id per call so receivers do not dedupe it."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return Alert(
        statement_id=f"newsbeam-test-{stamp}",
        rule=rule,
        speaker="Test Speaker",
        role="Test Role",
        country="ZZ",
        text="This is a test alert from `newsbeam alerts test`; no statement was made.",
        first_seen=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        confidence=1.0,
        links=(Link(url="https://example.org/newsbeam-test", feed_title="newsbeam test", feed_url="https://example.org/feed"),),
    )


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip() for row in (headers, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _shorten(text: str | None, limit: int) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delivery_row(d: Delivery) -> list[str]:
    return [d.updated_at, d.state, str(d.attempts), d.sink, d.rule, _shorten(d.alert.speaker, 24),
            str(len(d.alert.links)), _shorten(d.statement_id, 24), _shorten(d.last_error, 40)]


def _run_test(rule_name: str, config: AlertsConfig) -> int:
    try:
        rule = config.rule(rule_name)
    except KeyError:
        raise UsageError(f"no alert rule named {rule_name!r}; configured: {[r.name for r in config.rules]}")
    alert = sample_alert(rule.name, datetime.now(timezone.utc))
    failures = 0
    for sink_name in rule.sinks:
        sink = build_sink(config.sink(sink_name), config)
        try:
            outcome = deliver(sink, alert, retry_policy(config))
        finally:
            sink.close()
        if outcome.delivered:
            console.result(f"{sink_name}: delivered ({outcome.attempts} attempt(s))", sink=sink_name,
                           delivered=True, attempts=outcome.attempts)
        else:
            failures += 1
            console.result(f"{sink_name}: FAILED after {outcome.attempts} attempt(s): {outcome.error}",
                           sink=sink_name, delivered=False, attempts=outcome.attempts, error=outcome.error)
    return 1 if failures else 0


def _run_list(limit: int, config: AlertsConfig) -> int:
    if not Path(config.ledger_path).exists():
        console.result(f"no alerts recorded yet ({config.ledger_path} does not exist)")
        return 0
    ledger = SqliteLedger(config.ledger_path)
    try:
        deliveries = ledger.recent(limit)
    finally:
        ledger.close()
    headers = ["updated", "state", "tries", "sink", "rule", "speaker", "links", "statement", "error"]
    rows = [delivery_row(d) for d in deliveries]
    console.table(headers, rows, text_lines=format_table(headers, rows).splitlines())
    return 0


def run_alerts(args: argparse.Namespace, alerts_config: AlertsConfig) -> int:
    """Run the `alerts` subcommand (lines through connectors/console.py); returns the exit code."""
    if args.alerts_command == "test":
        return _run_test(args.rule, alerts_config)
    return _run_list(args.limit, alerts_config)
