"""Dedup quality on the BBC corpus (2225 articles, one Beam DirectRunner run).

Numbers were measured with bench/dedup_bbc.py at the default threshold.
"""
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that

from transforms import dedup_eval
from transforms.dedup import DEFAULT_THRESHOLD, Deduplicate
from transforms.minhash import shingles
from transforms.text import clean_text

BBC = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bbc"



def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


@pytest.fixture(scope="module")
def corpus():
    if not BBC.is_dir():
        pytest.skip(f"BBC corpus not found at {BBC}")
    docs = dedup_eval.load_bbc(BBC)
    return docs, dedup_eval.gold_pairs(docs)


def test_score_counts_hits_false_pairs_and_leaves_related_unjudged():
    gold = dedup_eval.GoldPairs(exact=frozenset({("a", "b"), ("c", "d")}),
                                retitled=frozenset({("c", "d")}),
                                near=frozenset({("e", "f")}),
                                related=frozenset({("g", "h")}))
    # Stories: {a, b, x} and {e, f} and {g, h}; c and d were missed.
    predicted = dedup_eval.story_pairs({"a": "a", "b": "a", "x": "a", "e": "e", "f": "e",
                                        "g": "g", "h": "g", "c": "c", "d": "d"})
    score = dedup_eval.score(predicted, gold)
    assert (score.exact_found, score.retitled_found, score.near_found,
            score.related_found, score.false_pairs) == (1, 0, 1, 1, 2)
    assert score.precision == pytest.approx(2 / 4)
    assert score.recall == pytest.approx(2 / 3)


def test_gold_pairs_match_the_corpus(corpus):
    docs, gold = corpus
    assert len(docs) == 2225
    assert (len(gold.exact), len(gold.retitled), len(gold.near), len(gold.related)) == (
        138, 35, 19, 12)
    assert gold.retitled <= gold.exact
    assert not gold.near & gold.exact


def test_default_dedup_finds_every_copy_without_false_pairs(corpus):
    docs, gold = corpus
    # Related pairs straddle the 0.6 threshold (exact Jaccard 0.56-0.76) and a 128-permutation
    # estimate has a standard error of ~0.04, so which of them cross depends on the hash
    # functions; those clearly above the threshold (>= 0.7) must be found.
    body = {d.doc_id: clean_text(d.body) for d in docs}
    clearly_related = {(a, b) for a, b in gold.related
                       if _jaccard(shingles(body[a]), shingles(body[b])) >= DEFAULT_THRESHOLD + 0.1}
    assert len(clearly_related) >= 2

    def check(rows):
        story_of = dict(rows)
        assert len(story_of) == len(docs)  # nothing dropped: ids and urls are unique
        score = dedup_eval.score(dedup_eval.story_pairs(story_of), gold)
        assert score.exact_found == score.exact_total
        assert score.retitled_found == score.retitled_total
        assert score.near_found == score.near_total
        assert clearly_related <= dedup_eval.story_pairs(story_of)
        assert score.false_pairs == 0

    with test_pipeline.TestPipeline() as pipeline:
        result = (pipeline | beam.Create(dedup_eval.to_articles(docs)) | Deduplicate())
        assert_that(result["articles"] | beam.Map(lambda a: (a["item_id"], a["story_id"])),
                    check)
