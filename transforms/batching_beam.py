"""Beam wrapper around ``transforms.batching``: elements -> batches within both budgets."""
from __future__ import annotations

from typing import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.batching import budget_batches, check_budgets, group_of


class _CutFn(beam.DoFn):
    """(group, elements) -> batches of them in key order, each within both budgets."""

    def __init__(self, max_count: int, max_size: int, size: Callable, key: Callable):
        self._max_count, self._max_size, self._size, self._key = max_count, max_size, size, key
        # What the batches came out as (Beam metrics, where the runner has them: count, mean, min,
        # max of each; nothing depends on them).
        self._counts = Metrics.distribution(self.__class__, "batch_size")
        self._sizes = Metrics.distribution(self.__class__, "batch_total_size")

    def process(self, element):
        _, members = element
        for batch in budget_batches(sorted(members, key=self._key), self._max_count,
                                    self._max_size, self._size):
            self._counts.update(len(batch))
            self._sizes.update(sum(map(self._size, batch)))
            yield batch


class BatchByBudget(beam.PTransform):
    """element -> list of elements, at most ``max_count`` of them and ``max_size`` summed ``size``.

    Elements go to one of ``groups`` groups by a stable hash of ``key(element)`` (a str), and
    each group is cut into batches in key order. A GroupByKey, not a buffer emitted at the end of
    a bundle: some runners drop what a DoFn emits there (Beam's DaskRunner does), and the grouping
    also spreads the batches evenly over the workers. Same input, same batches, on every runner.
    Pick ``groups`` so a group holds a few batches: more groups spread the work wider, fewer
    leave fewer short batches at the ends of groups. ``group_key`` (default ``key``) picks the
    group instead, when elements with one group key belong together (and ``key`` orders them).

    For the global window only (a bounded run): other windowing is refused when the pipeline is
    built.
    """

    def __init__(self, max_count: int, max_size: int, size: Callable = len, key: Callable = str,
                 groups: int = 1, group_key: Callable | None = None):
        super().__init__()
        check_budgets(max_count, max_size)  # where the pipeline is built, not in a worker
        if groups < 1:
            raise ValueError("groups must be at least 1")
        self._max_count, self._max_size, self._size = max_count, max_size, size
        self._key, self._groups, self._group_key = key, groups, group_key or key

    def expand(self, pcoll):
        if not pcoll.windowing.is_default():
            raise ValueError("BatchByBudget batches the global window only; "
                             f"got {pcoll.windowing.windowfn!r}")
        group_key, groups = self._group_key, self._groups
        return (pcoll
                | "ToGroup" >> beam.Map(lambda e: (group_of(group_key(e), groups), e))
                | "Group" >> beam.GroupByKey()
                | "Cut" >> beam.ParDo(_CutFn(self._max_count, self._max_size, self._size, self._key)))
