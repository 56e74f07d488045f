"""The Beam metrics namespace and the counter names a run reports (RunSummary.counters, the
run manifest's `counters`, Prometheus via pipeline/metrics.py)."""
from __future__ import annotations

NAMESPACE = "newsbeam"

ITEMS_DECODED = "items_decoded"
REJECTS = "rejects"
DUPLICATES_DROPPED = "duplicates_dropped"
REPLAYED_ROWS = "replayed_rows"            # records whose rows an earlier run wrote (a replay)
NLP_SKIPPED = "nlp_skipped"                # articles kept without NLP (no model for their language)
QUOTES = "quotes"
LEADERSHIP_STATEMENTS = "leadership_statements"


def counter(name: str):
    from apache_beam.metrics import Metrics

    return Metrics.counter(NAMESPACE, name)
