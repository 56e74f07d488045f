"""Batches bounded by two budgets: a count of elements and a total size (characters of text).

spaCy's working memory for a batch grows with the characters in it (~3 KB per character with
en_core_web_sm: 64 average BBC articles, 142k characters, took ~410 MB; the 64 longest, 441k
characters, ~1.3 GB). A batch of a fixed count therefore needs as much memory as the longest
texts that happen to land together, and the more batches a run makes, the worse its worst batch:
peak memory would creep up with the size of the input. Capping the characters too bounds it.

Plain Python (no Beam): ``transforms.batching_beam`` wraps it for the pipeline.
"""
from __future__ import annotations

import hashlib
import math
from typing import Callable, Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")


def check_budgets(max_count: int, max_size: int) -> None:
    if max_count < 1 or max_size < 1:
        raise ValueError("max_count and max_size must be at least 1")


class Batcher(Generic[T]):
    """Accumulates elements; ``add`` returns the finished batch when the next element would not fit.

    An element bigger than ``max_size`` on its own still goes through, as a batch of one.
    """

    def __init__(self, max_count: int, max_size: int, size: Callable[[T], int]):
        check_budgets(max_count, max_size)
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


def group_of(key: str, groups: int) -> int:
    """A stable group number in [0, groups) for ``key``: the same in every process and run
    (Python's own ``hash`` of a str differs between processes)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % max(1, groups)


def groups_for(elements: int, max_count: int) -> int:
    """Groups to spread ``elements`` over before batching them ``max_count`` at a time: about two
    batches' worth each, so most batches are full and a run of 2,500 records with batches of 64
    still has ~20 groups to share out among the workers."""
    return max(1, math.ceil(elements / (2 * max_count)))
