"""The Beam wrapper: one bad document is set aside with its reason, the batch goes on."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.extract_beam import ExtractQuotesAndEntities


def test_failed_document_is_set_aside_and_batch_continues():
    good = {"item_id": "good", "text": "\u201cWe will rebuild,\u201d Mayor Anna Holt said.", "published": "2025-01-28"}
    bad = {"item_id": "bad", "text": ["not", "a", "string"], "published": None}
    with TestPipeline() as p:
        out = p | beam.Create([good, bad]) | ExtractQuotesAndEntities(batch_size=8)
        assert_that(out["done"] | "Done" >> beam.FlatMap(lambda batch: [
                        (d["item_id"], [q["speaker_name"] for q in d["quotes"]]) for d in batch]),
                    equal_to([("good", ["Anna Holt"])]), label="done")
        assert_that(out["failed"] | "Failed" >> beam.MapTuple(lambda d, reason: (d["item_id"], reason.split(":")[0])),
                    equal_to([("bad", "ValueError")]), label="failed")


SEEN_BATCHES: list[int] = []


def test_texts_reach_spacy_in_batches_of_batch_size(monkeypatch):
    # Fixed batches, as bare nlp.pipe makes: adaptive sizing settled on 3-11 texts, which cost
    # spaCy more CPU per text (bench/RESULTS.md).
    from transforms import extract_beam

    original = extract_beam._ExtractBatch._extract

    def counting(self, items):
        SEEN_BATCHES.append(len(items))
        return original(self, items)

    monkeypatch.setattr(extract_beam._ExtractBatch, "_extract", counting)
    SEEN_BATCHES.clear()
    items = [{"item_id": f"i{n}", "text": f"Item {n} said nothing.", "published": None} for n in range(7)]
    with TestPipeline() as p:
        out = p | beam.Create(items) | ExtractQuotesAndEntities(batch_size=3)
        assert_that(out["done"] | beam.FlatMap(lambda batch: [d["item_id"] for d in batch]),
                    equal_to([i["item_id"] for i in items]))
    assert sum(SEEN_BATCHES) == 7
    assert max(SEEN_BATCHES) == 3
    assert SEEN_BATCHES.count(3) >= 2, SEEN_BATCHES


def test_batches_also_end_at_batch_chars(monkeypatch):
    # spaCy's memory follows the characters of a batch: long texts landing together must not
    # set a worker's peak (bench/RESULTS.md), so a batch also ends at batch_chars.
    from transforms import extract_beam

    original = extract_beam._ExtractBatch._extract
    seen: list[list[int]] = []

    def recording(self, items):
        seen.append([len(i["text"]) for i in items])
        return original(self, items)

    monkeypatch.setattr(extract_beam._ExtractBatch, "_extract", recording)
    text = "Officials said the bridge would reopen next week after repairs. " * 3  # 192 chars
    items = [{"item_id": f"i{n}", "text": text, "published": None} for n in range(9)]
    with TestPipeline() as p:
        out = p | beam.Create(items) | ExtractQuotesAndEntities(batch_size=64, batch_chars=2 * len(text))
        assert_that(out["done"] | beam.FlatMap(lambda batch: [d["item_id"] for d in batch]),
                    equal_to([i["item_id"] for i in items]))
    assert sum(len(b) for b in seen) == 9
    assert max(sum(b) for b in seen) <= 2 * len(text), seen
    assert max(len(b) for b in seen) == 2, seen


def test_the_job_and_the_config_default_to_the_same_char_budget():
    from pipeline.config import NlpConfig
    from pipeline.job import JobSpec
    from transforms.extract_beam import DEFAULT_BATCH_CHARS

    assert NlpConfig().batch_chars == DEFAULT_BATCH_CHARS
    assert JobSpec.__dataclass_fields__["nlp_batch_chars"].default == DEFAULT_BATCH_CHARS
