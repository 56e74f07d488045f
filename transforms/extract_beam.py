"""Beam wrapper around ``transforms.extract``: model loaded once per worker, elements batched
into ``nlp.pipe``, and a document that makes extraction raise set aside instead of failing the run.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from transforms import counters
from transforms.batching_beam import BatchByBudget
from transforms.nlp import DEFAULT_BATCH_CHARS, DEFAULT_MODEL

FAILED = "failed"


def _text_chars(item: dict) -> int:
    return len(item.get("text") or "")


def _doc(item: dict) -> tuple[str, str, str | None]:
    return item["item_id"], item.get("text") or "", item.get("published")


class _ExtractBatch(beam.DoFn):
    """list[item dict] -> each item + ``quotes`` and ``entities``; failures -> (item, reason)."""

    def __init__(self, model: str, batch_size: int, leaders_file: str | None):
        self._model, self._batch_size, self._leaders_file = model, batch_size, leaders_file
        self.quotes = counters.counter(counters.QUOTES)
        self.leadership = counters.counter(counters.LEADERSHIP_STATEMENTS)
        self.failed = counters.counter(counters.REJECTS)

    def setup(self):
        from transforms.leaders import default_gazetteer, load_gazetteer
        from transforms.nlp import load_nlp

        self._nlp = load_nlp(self._model)
        self._gazetteer = load_gazetteer(self._leaders_file) if self._leaders_file else default_gazetteer()

    def _extract(self, items: list[dict]):
        from transforms.extract import extract_documents

        return list(extract_documents([_doc(i) for i in items], self._nlp, self._batch_size, self._gazetteer))

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
                    self.failed.inc()
                    yield TaggedOutput(FAILED, (item, f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]))
        for item, result in pairs:
            quotes = [q.to_dict() for q in result.quotes]
            self.quotes.inc(len(quotes))
            self.leadership.inc(sum(1 for q in quotes if q["is_leadership"]))
            yield {**item, "quotes": quotes, "entities": [e.to_dict() for e in result.entities]}


class ExtractQuotesAndEntities(beam.PTransform):
    """dict(item_id, text, published, ...) -> outputs ``done`` (the dict + ``quotes``, ``entities``)
    and ``failed`` ((dict, reason) for documents whose extraction raised)."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, leaders_file: str | None = None,
                 batch_chars: int = DEFAULT_BATCH_CHARS):
        super().__init__()
        self._model, self._batch_size, self._leaders_file = model, batch_size, leaders_file
        self._batch_chars = batch_chars

    def expand(self, items):
        # Fixed batches of `batch_size`, as bare `nlp.pipe` makes: BatchElements' adaptive sizing
        # aimed at 5 % per-batch overhead and settled on 3-11 texts, where spaCy's matrix work costs
        # more per text (at N=2225 the Extract step took 240-261 s summed over the workers, with
        # batches of 64: 189-216 s). spaCy's memory grows with the characters in a batch (~3 KB
        # each), so `batch_chars` caps those too: otherwise the worst batch - the longest texts
        # landing together - sets a worker's peak, and more batches make a worse worst batch.
        return (items
                | "BatchForNlp" >> BatchByBudget(self._batch_size, self._batch_chars, _text_chars)
                | "Extract" >> beam.ParDo(_ExtractBatch(self._model, self._batch_size, self._leaders_file))
                .with_outputs(FAILED, main="done"))
