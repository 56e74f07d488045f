"""Beam wrapper around ``transforms.extract``: model loaded once per worker, elements batched."""
from __future__ import annotations

import apache_beam as beam

from transforms.extract import extract_doc
from transforms.leaders import default_gazetteer
from transforms.nlp import DEFAULT_MODEL, load_nlp


class _ExtractBatch(beam.DoFn):
    """Takes a list of item dicts, runs one ``nlp.pipe`` over it, emits each item enriched."""

    def __init__(self, model: str, batch_size: int):
        self._model = model
        self._batch_size = batch_size
        self._nlp = None
        self._gazetteer = None

    def setup(self):
        self._nlp = load_nlp(self._model)
        self._gazetteer = default_gazetteer()

    def process(self, items):
        texts = ((item.get("text") or "", item) for item in items)
        for doc, item in self._nlp.pipe(texts, as_tuples=True, batch_size=self._batch_size):
            result = extract_doc(item["item_id"], doc, item.get("published"), self._gazetteer).to_json()
            yield {**item, "quotes": result["quotes"], "entities": result["entities"]}


class ExtractQuotesAndEntities(beam.PTransform):
    """dict(item_id, text, published, ...) -> same dict + ``quotes`` and ``entities`` lists."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32):
        super().__init__()
        self._model = model
        self._batch_size = batch_size

    def expand(self, items):
        return (items
                | "BatchForNlp" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._batch_size)
                | "Extract" >> beam.ParDo(_ExtractBatch(self._model, self._batch_size)))
