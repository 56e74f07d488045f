"""The job's counters, summed and written as one object beside the tables.

The names are transforms/counters.py's; the object (`_counters/<run_id>.json`) and its reading
and clean-up are the run ledger's (connectors/run_ledger.py). Counted as data because not every
runner keeps Beam metrics: Beam's DaskRunner reports none.
"""
from __future__ import annotations

import apache_beam as beam

from connectors import run_ledger, s3
from transforms import counters


class _WriteFn(beam.DoFn):
    def __init__(self, settings: s3.S3Settings, run_id: str):
        self._settings, self._run_id = settings, run_id

    def process(self, element):
        _, counts = element
        key = run_ledger.write_counters(self._settings, self._run_id, dict(sorted(counts)))
        yield "_counters", key, len(counts)


class WriteCounters(beam.PTransform):
    """PCollection[(name, n)] -> the summed counters written to S3, every name of
    ``transforms.counters.NAMES`` (0 when not counted); outputs ("_counters", key, number of
    counters). A name not in NAMES fails the step."""

    def __init__(self, settings: s3.S3Settings, run_id: str):
        super().__init__()
        self._settings, self._run_id = settings, run_id

    def expand(self, counts):
        zeros = counts.pipeline | "Zeros" >> beam.Create([(name, 0) for name in counters.NAMES])
        return ((counts | "Known" >> beam.Map(_known), zeros)
                | "All" >> beam.Flatten()
                | "Sum" >> beam.CombinePerKey(sum)
                # one group holding every counter, so one object is written
                | "OneGroup" >> beam.Map(lambda kv: (None, kv))
                | "Gather" >> beam.GroupByKey()
                | "Write" >> beam.ParDo(_WriteFn(self._settings, self._run_id)))


def _known(count: tuple[str, int]) -> tuple[str, int]:
    counters.known(count[0])
    return count
