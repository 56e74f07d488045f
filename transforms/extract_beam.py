"""Beam wrapper around ``transforms.extract``: model loaded once per worker, elements batched
into ``nlp.pipe``, and a document that makes extraction raise set aside instead of failing the run.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from transforms.batching_beam import BatchByBudget
from transforms.heap import release_free_memory
from transforms.nlp import DEFAULT_BATCH_CHARS, DEFAULT_MAX_CHARS, DEFAULT_MODEL
from transforms.outputs import WithOutputs

if TYPE_CHECKING:  # transforms.leaders imports spaCy, which the launcher does not need
    from transforms.leaders import Gazetteer

DONE = "done"
FAILED = "failed"


def _text_chars(item: dict, max_chars: int | None = None) -> int:
    """Characters the NLP will read of this item (its text, cut at max_chars)."""
    n = len(item.get("text") or "")
    return n if max_chars is None else min(n, max_chars)


def _doc(item: dict) -> tuple[str, str, str | None]:
    return item["item_id"], item.get("text") or "", item.get("published")


class _ExtractBatch(beam.DoFn):
    """list[item dict] -> the list of items + ``quotes`` and ``entities``; failures -> (item, reason).

    ``leaders``: the gazetteer itself (it travels with the job: a worker never reads the
    launcher's files), or None for the bundled one.
    """

    def __init__(self, model: str, batch_size: int, leaders: Gazetteer | None,
                 max_chars: int | None = DEFAULT_MAX_CHARS, reported_speech: str = "sources"):
        self._model, self._batch_size, self._leaders = model, batch_size, leaders
        self._max_chars, self._reported_speech = max_chars, reported_speech

    def setup(self):
        from transforms.leaders import default_gazetteer
        from transforms.nlp import load_nlp

        self._nlp = load_nlp(self._model)
        self._gazetteer = self._leaders or default_gazetteer()

    def _extract(self, items: list[dict]):
        from transforms.extract import extract_documents

        return list(extract_documents([_doc(i) for i in items], self._nlp, self._batch_size, self._gazetteer,
                                      max_chars=self._max_chars, reported_speech=self._reported_speech))

    def process(self, items: list[dict]):
        try:
            pairs = list(zip(items, self._extract(items)))
        except Exception:
            # Find the culprit: one document at a time, so the rest of the batch goes through.
            pairs = []
            for item in items:
                try:
                    pairs.append((item, self._extract([item])[0]))
                except Exception as exc:
                    yield TaggedOutput(FAILED, (item, f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]))
        # The batch's Docs and arrays are garbage now: hand their pages back, or the worker keeps
        # each batch's freed heap resident and its peak creeps up with the batches (heap.py).
        release_free_memory()
        if pairs:
            # One element per batch: its rows become Arrow together, where they are made.
            yield [{**item, "quotes": [q.to_dict() for q in result.quotes],
                    "entities": [e.to_dict() for e in result.entities],
                    "nlp_truncated": result.nlp_truncated} for item, result in pairs]


def item_key(item: dict) -> str:
    return item["item_id"]


def story_key(item: dict) -> str:
    """An article's story (near copies share their first member's item_id, ``transforms/dedup.py``)."""
    return item.get("story_id") or item["item_id"]


def story_order(item: dict) -> str:
    # A story's members side by side, so its near copies land in one NLP batch with the text
    # they copy and are parsed only where they differ (transforms/near_copy_parse.py).
    return f"{story_key(item)}\x00{item['item_id']}"


class ExtractQuotesAndEntities(beam.PTransform):
    """dict(item_id, text, published, ...) -> ``{"done": ..., "failed": ...}``: ``done`` holds
    lists (one per NLP batch) of the dicts + ``quotes``, ``entities``; ``failed`` holds
    (dict, reason) for documents whose extraction raised.

    ``groups``: how many groups the texts are spread over before batching (BatchByBudget).
    ``max_chars``: characters of one text the NLP reads at most (``nlp.bound_text``).
    ``reported_speech``: which reported speech to keep (``transforms/reported_speech.py``).
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, leaders: Gazetteer | None = None,
                 batch_chars: int = DEFAULT_BATCH_CHARS, groups: int = 1,
                 max_chars: int | None = DEFAULT_MAX_CHARS, reported_speech: str = "sources"):
        super().__init__()
        from transforms.reported_speech import keeps

        keeps("direct", None, reported_speech)  # an unknown policy fails when the graph is built
        self._model, self._batch_size, self._leaders = model, batch_size, leaders
        self._batch_chars, self._groups, self._max_chars = batch_chars, groups, max_chars
        self._reported_speech = reported_speech

    def expand(self, items):
        # Fixed batches of `batch_size`, as bare `nlp.pipe` makes: BatchElements' adaptive sizing
        # aimed at 5 % per-batch overhead and settled on 3-11 texts, where spaCy's matrix work costs
        # more per text (at N=2225 the Extract step took 240-261 s summed over the workers, with
        # batches of 64: 189-216 s). spaCy's memory grows with the characters in a batch (~3 KB
        # each), so `batch_chars` caps those too: otherwise the worst batch - the longest texts
        # landing together - sets a worker's peak, and more batches make a worse worst batch.
        return (items
                | "BatchForNlp" >> BatchByBudget(self._batch_size, self._batch_chars,
                                                 functools.partial(_text_chars, max_chars=self._max_chars),
                                                 key=story_order, group_key=story_key, groups=self._groups)
                | "Extract" >> WithOutputs(_ExtractBatch(self._model, self._batch_size, self._leaders,
                                                         self._max_chars, self._reported_speech),
                                           FAILED, main=DONE))
