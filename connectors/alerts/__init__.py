"""Alerts on new leadership statements: rules, sinks, a delivery ledger, exactly-once dispatch.

See docs/alerts.md. Entry points: `dispatch(...)` after each pipeline run, and the
`newsbeam alerts` CLI in `connectors.alerts.cli`.
"""

from connectors.alerts.config import AlertRule, AlertsConfig
from connectors.alerts.dispatch import DispatchSummary, dispatch
from connectors.alerts.ledger import SqliteLedger
from connectors.alerts.sinks import verify_signature

__all__ = ["AlertRule", "AlertsConfig", "DispatchSummary", "SqliteLedger", "dispatch", "verify_signature"]
