"""Beam wrapper around ``transforms.batching``: elements -> batches within both budgets."""
from __future__ import annotations

from typing import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.batching import Batcher, check_budgets


class _BatchFn(beam.DoFn):
    def __init__(self, max_count: int, max_size: int, size: Callable):
        self._max_count, self._max_size, self._size = max_count, max_size, size
        # What the batches came out as (Beam metrics: count, mean, min, max of each).
        self._counts = Metrics.distribution(self.__class__, "batch_size")
        self._sizes = Metrics.distribution(self.__class__, "batch_total_size")

    def start_bundle(self):
        self._batcher = Batcher(self._max_count, self._max_size, self._size)

    def _emit(self, batch: list) -> list:
        self._counts.update(len(batch))
        self._sizes.update(sum(map(self._size, batch)))
        return batch

    def process(self, element):
        full = self._batcher.add(element)
        if full:
            yield self._emit(full)

    def finish_bundle(self):
        last = self._batcher.flush()
        if last:
            yield beam.transforms.window.GlobalWindows.windowed_value(self._emit(last))


class BatchByBudget(beam.PTransform):
    """element -> list of elements, at most ``max_count`` of them and ``max_size`` summed ``size``.

    Batches never span bundles. For the global window only (a bounded run): batching across
    windows would mix them, so other windowing is refused when the pipeline is built.
    """

    def __init__(self, max_count: int, max_size: int, size: Callable = len):
        super().__init__()
        check_budgets(max_count, max_size)  # where the pipeline is built, not in a worker
        self._max_count, self._max_size, self._size = max_count, max_size, size

    def expand(self, pcoll):
        if not pcoll.windowing.is_default():
            raise ValueError("BatchByBudget batches the global window only; "
                             f"got {pcoll.windowing.windowfn!r}")
        return pcoll | beam.ParDo(_BatchFn(self._max_count, self._max_size, self._size))
