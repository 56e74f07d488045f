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
        assert_that(out.done | "Done" >> beam.Map(lambda d: (d["item_id"], [q["speaker_name"] for q in d["quotes"]])),
                    equal_to([("good", ["Anna Holt"])]), label="done")
        assert_that(out.failed | "Failed" >> beam.MapTuple(lambda d, reason: (d["item_id"], reason.split(":")[0])),
                    equal_to([("bad", "ValueError")]), label="failed")
