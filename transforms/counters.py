"""The counters a run reports (RunSummary.counters, the run manifest's `counters`, Prometheus via
pipeline/metrics.py): their names, and how the job counts them.

Counted as data, not as Beam metrics: not every runner keeps Beam metrics (Beam's DaskRunner
reports none), so the job maps what it counts to ``(name, n)`` elements, which
connectors/run_counters.py sums and writes beside the tables for the launcher to read.
"""
from __future__ import annotations

from typing import Iterator

ITEMS_DECODED = "items_decoded"
REJECTS = "rejects"                        # rejects of every stage (before a replay's drop)
DUPLICATES_DROPPED = "duplicates_dropped"
REPLAYED_ROWS = "replayed_rows"            # records whose rows an earlier run wrote (a replay)
NLP_SKIPPED = "nlp_skipped"                # articles kept without NLP (no model for their language)
QUOTES = "quotes"
LEADERSHIP_STATEMENTS = "leadership_statements"

# Every counter a run reports, 0 when nothing was counted.
NAMES = (ITEMS_DECODED, REJECTS, DUPLICATES_DROPPED, REPLAYED_ROWS, NLP_SKIPPED, QUOTES,
         LEADERSHIP_STATEMENTS)


def known(name: str) -> str:
    """``name`` if a run reports it; a ValueError (where the job is built) otherwise."""
    if name not in NAMES:
        raise ValueError(f"unknown run counter {name!r}; known: {', '.join(NAMES)}")
    return name


def extraction_counts(batch: list[dict]) -> Iterator[tuple[str, int]]:
    """One batch of extracted articles -> its quotes and leadership statements."""
    quotes = [q for article in batch for q in article.get("quotes") or []]
    yield QUOTES, len(quotes)
    yield LEADERSHIP_STATEMENTS, sum(1 for q in quotes if q.get("is_leadership"))


def count_each(name: str):
    """A Beam step: each element -> ``(name, 1)`` (Beam is imported only by the job)."""
    import apache_beam as beam

    name = known(name)
    return beam.Map(lambda _: (name, 1))


def count_total(name: str):
    """A Beam step: elements -> one ``(name, how many)``, summed through a grouping first, so the
    Counts step downstream is fed a few partitions instead of every one of a wide input (on the
    DaskRunner a Flatten adds its inputs' partitions up). No output for an empty input: the
    counters start from zeros anyway (connectors/run_counters.py)."""
    import apache_beam as beam

    name = known(name)

    class CountTotal(beam.PTransform):
        def expand(self, pcoll):
            return (pcoll
                    | "Ones" >> beam.Map(lambda _: 1)
                    | "Sum" >> beam.CombineGlobally(sum).without_defaults()
                    | "Named" >> beam.Map(lambda n: (name, n)))

    return CountTotal()


def count_extraction():
    """A Beam step: batches of extracted articles -> (``quotes``, n), (``leadership_statements``, n)."""
    import apache_beam as beam

    return beam.FlatMap(extraction_counts)
