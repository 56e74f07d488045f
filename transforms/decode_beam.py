"""Beam wrapper of transforms/decode.py and transforms/article.py: Kafka records -> article
candidates, and a `rejects` row (stage `decode` or `prepare`, with the reason) for each record
that is not a valid feed item; a dead-letter stub from the poller (`FeedItem.reject_reason`: the
entry could not be produced as it is, e.g. too large for Kafka) is a `rejects` row at stage
`poll` with the poller's reason. (The run counts both outputs as data: pipeline/job.py.)"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from transforms.article import prepare_article
from transforms.decode import DecodeError, decode_item, received_time
from transforms.outputs import WithOutputs
from transforms.rows import error_line, reject_row

ITEMS, REJECTS = "items", "rejects"


class _DecodeFn(beam.DoFn):
    """``preload_model``: the spaCy model the NLP step will need, loaded in the background on
    every worker that decodes, so it is ready when the records come out of dedup."""

    def __init__(self, preload_model: str | None = None):
        self._preload_model = preload_model

    def setup(self):
        if self._preload_model:
            from transforms.nlp import preload_nlp

            preload_nlp(self._preload_model)

    def process(self, record):
        try:
            item = decode_item(record["value"], received_time(record.get("timestamp_ms")))
        except Exception as exc:  # DecodeError: its reason; anything else must not stop the run either
            reason = str(exc) if isinstance(exc, DecodeError) else error_line(exc)
            yield TaggedOutput(REJECTS, reject_row(record, "decode", reason))
            return
        if item.reject_reason is not None:
            yield TaggedOutput(REJECTS, reject_row(record, "poll", item.reject_reason, item.item_id,
                                                   item.fetched_at))
            return
        try:
            article = prepare_article(item, record)
        except Exception as exc:  # a valid item whose text breaks cleaning must not stop the run
            yield TaggedOutput(REJECTS, reject_row(record, "prepare", error_line(exc), item.item_id,
                                                   item.fetched_at))
            return
        # The raw record travels with the article so a later stage can reject it losslessly.
        yield {**article, "_record": record}


class DecodeRecords(beam.PTransform):
    """PCollection[Kafka record dict] -> outputs ``items`` (article dicts) and ``rejects``."""

    def __init__(self, preload_model: str | None = None):
        super().__init__()
        self._preload_model = preload_model

    def expand(self, records):
        return records | "DecodeFn" >> WithOutputs(_DecodeFn(self._preload_model), REJECTS, main=ITEMS)
