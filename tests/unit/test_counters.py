"""The counters a run reports: one list of names (transforms/counters.py), counted as data."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import counters


def test_an_unknown_counter_is_refused_where_the_job_is_built():
    with pytest.raises(ValueError, match="unknown run counter 'quote'"):
        counters.count_each("quote")
    assert counters.known(counters.NLP_SKIPPED) == "nlp_skipped"


def test_quotes_and_leadership_statements_of_a_batch():
    batch = [{"quotes": [{"is_leadership": True}, {"is_leadership": False}]}, {"quotes": []}, {}]
    assert dict(counters.extraction_counts(batch)) == {"quotes": 2, "leadership_statements": 1}


def test_counting_steps_make_name_count_pairs():
    with TestPipeline() as p:
        each = p | "Items" >> beam.Create(["a", "b"]) | counters.count_each(counters.REJECTS)
        quotes = (p | "Batches" >> beam.Create([[{"quotes": [{"is_leadership": True}]}]])
                  | counters.count_extraction())
        assert_that(each, equal_to([("rejects", 1), ("rejects", 1)]), label="each")
        assert_that(quotes, equal_to([("quotes", 1), ("leadership_statements", 1)]), label="quotes")
