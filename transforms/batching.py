"""Batches bounded by two budgets: a count of elements and a total size (characters of text).

spaCy's working memory for a batch grows with the characters in it (~3 KB per character with
en_core_web_sm: 64 average BBC articles, 142k characters, took ~410 MB; the 64 longest, 441k
characters, ~1.3 GB). A batch of a fixed count therefore needs as much memory as the longest
texts that happen to land together, and the more batches a run makes, the worse its worst batch:
peak memory would creep up with the size of the input. Capping the characters too bounds it.
"""
from __future__ import annotations

from typing import Callable, Generic, Iterable, Iterator, TypeVar

import apache_beam as beam
from apache_beam.metrics import Metrics

T = TypeVar("T")


class Batcher(Generic[T]):
    """Accumulates elements; ``add`` returns the finished batch when the next element would not fit.

    An element bigger than ``max_size`` on its own still goes through, as a batch of one.
    """

    def __init__(self, max_count: int, max_size: int, size: Callable[[T], int]):
        if max_count < 1 or max_size < 1:
            raise ValueError("max_count and max_size must be at least 1")
        self._max_count, self._max_size, self._size = max_count, max_size, size
        self._batch: list[T] = []
        self._batch_size = 0

    def add(self, element: T) -> list[T] | None:
        size = self._size(element)
        full = None
        if self._batch and (len(self._batch) >= self._max_count
                            or self._batch_size + size > self._max_size):
            full = self.flush()
        self._batch.append(element)
        self._batch_size += size
        return full

    def flush(self) -> list[T] | None:
        batch, self._batch, self._batch_size = self._batch, [], 0
        return batch or None


def budget_batches(elements: Iterable[T], max_count: int, max_size: int,
                   size: Callable[[T], int]) -> Iterator[list[T]]:
    """Consecutive batches of at most ``max_count`` elements and ``max_size`` summed size."""
    batcher = Batcher(max_count, max_size, size)
    for element in elements:
        full = batcher.add(element)
        if full:
            yield full
    last = batcher.flush()
    if last:
        yield last


class _BatchFn(beam.DoFn):
    def __init__(self, max_count: int, max_size: int, size: Callable):
        self._args = (max_count, max_size, size)
        self._batcher: Batcher | None = None
        # What the batches came out as (Beam metrics: count, mean, min, max of each).
        self._counts = Metrics.distribution(self.__class__, "batch_size")
        self._sizes = Metrics.distribution(self.__class__, "batch_total_size")

    def start_bundle(self):
        self._batcher = Batcher(*self._args)

    def _emit(self, batch: list) -> list:
        self._counts.update(len(batch))
        self._sizes.update(sum(map(self._args[2], batch)))
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
        Batcher(max_count, max_size, size)  # validates the budgets where the pipeline is built
        self._max_count, self._max_size, self._size = max_count, max_size, size

    def expand(self, pcoll):
        if not pcoll.windowing.is_default():
            raise ValueError("BatchByBudget batches the global window only; "
                             f"got {pcoll.windowing.windowfn!r}")
        return pcoll | beam.ParDo(_BatchFn(self._max_count, self._max_size, self._size))
