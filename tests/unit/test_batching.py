"""Batches bounded by a count and a total size: what caps spaCy's memory per batch."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window

from transforms.batching import Batcher, budget_batches
from transforms.batching_beam import BatchByBudget


def test_batches_end_at_the_count():
    assert list(budget_batches(range(7), max_count=3, max_size=100, size=lambda _: 1)) == [
        [0, 1, 2], [3, 4, 5], [6]]


def test_batches_end_before_the_size_budget_is_exceeded():
    texts = ["a" * 40, "b" * 40, "c" * 30, "d" * 10, "e" * 90]
    batches = list(budget_batches(texts, max_count=64, max_size=100, size=len))
    assert [[t[0] for t in b] for b in batches] == [["a", "b"], ["c", "d"], ["e"]]
    assert all(sum(map(len, b)) <= 100 for b in batches)


def test_an_element_bigger_than_the_budget_goes_alone_and_nothing_is_lost():
    texts = ["x" * 10, "y" * 500, "z" * 10]
    assert list(budget_batches(texts, max_count=64, max_size=100, size=len)) == [
        ["x" * 10], ["y" * 500], ["z" * 10]]


def test_flush_returns_the_rest_once():
    batcher = Batcher(5, 100, len)
    assert batcher.add("ab") is None
    assert batcher.flush() == ["ab"]
    assert batcher.flush() is None


@pytest.mark.parametrize("count, size", [(0, 10), (10, 0)])
def test_budgets_below_one_are_refused(count, size):
    with pytest.raises(ValueError):
        Batcher(count, size, len)


def test_beam_batches_keep_every_element_within_both_budgets():
    texts = [("t" * n) for n in (30, 70, 5, 5, 5, 95, 120, 1, 2, 3, 4)]
    with TestPipeline() as p:
        batches = p | beam.Create(texts) | BatchByBudget(max_count=3, max_size=100, size=len)
        assert_that(batches | "Flat" >> beam.FlatMap(lambda b: b), equal_to(texts), label="all")
        assert_that(batches | "Check" >> beam.Map(
            lambda b: len(b) <= 3 and (sum(map(len, b)) <= 100 or len(b) == 1)),
            _all_true(), label="budgets")


def _all_true():
    def check(actual):
        assert actual and all(actual), actual
    return check


def test_windowed_input_is_refused_when_the_pipeline_is_built():
    p = beam.Pipeline()
    windowed = p | beam.Create(["a"]) | beam.WindowInto(window.FixedWindows(60))
    with pytest.raises(ValueError, match="global window"):
        _ = windowed | BatchByBudget(3, 100)


def test_batch_shapes_are_reported_as_beam_metrics():
    from apache_beam.metrics.metric import MetricsFilter

    p = TestPipeline()
    _ = p | beam.Create(["a" * 60, "b" * 60, "c" * 10]) | BatchByBudget(max_count=5, max_size=100, size=len)
    result = p.run()
    result.wait_until_finish()

    def dist(name):
        found = result.metrics().query(MetricsFilter().with_name(name))["distributions"]
        return found[0].committed

    sizes, totals = dist("batch_size"), dist("batch_total_size")
    # Every element is counted once, in batches within both budgets (how Create splits its
    # bundles decides whether "c" joins "b"; no batch can hold "a" and "b" together).
    assert (sizes.sum, totals.sum) == (3, 130)
    assert sizes.max <= 2 and totals.max <= 70


def test_group_of_is_stable_and_in_range():
    from transforms.batching import group_of

    assert [group_of(k, 7) for k in ("a", "b", "item-123")] == [group_of(k, 7) for k in ("a", "b", "item-123")]
    assert {group_of(f"k{i}", 5) for i in range(200)} == set(range(5))
    assert group_of("anything", 1) == 0
    # a fixed value: the same in every process (Python's str hash is not)
    assert group_of("item-123", 1000) == int.from_bytes(
        __import__("hashlib").blake2b(b"item-123", digest_size=8).digest(), "big") % 1000


def test_same_elements_make_the_same_batches_whatever_their_order():
    from transforms.batching import budget_batches, group_of

    texts = [f"text number {n:03d} " + "x" * (n % 17) for n in range(90)]
    expected = [tuple(b) for g in range(4)
                for b in budget_batches(sorted(t for t in texts if group_of(t, 4) == g), 8, 200, len)]
    assert len(expected) > 4  # several batches per group
    for order in (texts, list(reversed(texts))):
        with TestPipeline() as p:
            out = (p | beam.Create(order)
                   | BatchByBudget(max_count=8, max_size=200, size=len, key=str, groups=4)
                   | beam.Map(tuple))
            assert_that(out, equal_to(expected))


def test_groups_below_one_are_refused():
    with pytest.raises(ValueError, match="groups"):
        BatchByBudget(3, 100, groups=0)


def test_groups_hold_about_two_batches_each():
    from transforms.batching import groups_for

    assert groups_for(2500, 64) == 20
    assert groups_for(128, 64) == 1 and groups_for(129, 64) == 2
    assert groups_for(0, 64) == 1


def test_a_story_lands_in_one_batch_side_by_side():
    # What near-copy reuse needs (transforms/near_copy_parse.py): a near copy in the same NLP
    # batch as the text it copies. With item_id as the only key they spread over the groups.
    from transforms.extract_beam import story_key, story_order

    items = [{"item_id": f"i{n:03d}", "story_id": None, "text": "t"} for n in range(60)]
    items += [{"item_id": f"z{n:03d}", "story_id": f"i{n:03d}", "text": "t"} for n in range(0, 60, 3)]
    with TestPipeline() as p:
        out = (p | beam.Create(items)
               | BatchByBudget(max_count=8, max_size=1000, size=lambda e: 1, key=story_order,
                               group_key=story_key, groups=6)
               | beam.Map(lambda batch: [e["item_id"] for e in batch]))

        def check(batches):
            where = {i: n for n, batch in enumerate(batches) for i in batch}
            assert sorted(where) == sorted(e["item_id"] for e in items)  # nothing lost
            together = sum(where[f"z{n:03d}"] == where[f"i{n:03d}"] for n in range(0, 60, 3))
            # Batches of 8 cut a story of 2 only at a batch's last place: most stay together (by
            # item_id alone the 20 pairs spread over 6 groups and hardly any would meet).
            assert together >= 14, together
        assert_that(out, check)
