import apache_beam as beam
import pytest
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import minhash
from transforms.dedup import (ITEM_ID_IN_HISTORY, ITEM_ID_IN_RUN, URL_IN_HISTORY, URL_IN_RUN,
                              Deduplicate, NearDupStories)

STORY = ("The finance minister announced on Tuesday that fuel duty will be frozen for "
         "another year, saying families and small firms needed help with rising costs. "
         "Opposition leaders called the move a pre-election gimmick and said the "
         "treasury had no plan to pay for it. Economists expect the freeze to cost "
         "about two billion pounds over the next twelve months.")
# The same report as carried by a second feed: two words changed, a sign-off added.
STORY_REWORDED = (STORY.replace("Tuesday", "Wednesday").replace("gimmick", "stunt")
                  + " Reporting by our political staff.")
FOOTBALL = ("United came from two goals down to beat City in a thrilling derby, with a "
            "late header from the young defender sealing the win in front of a record "
            "crowd at the stadium on Saturday afternoon.")
WEATHER = ("Heavy snow is expected across the north of the country this weekend, with "
           "forecasters warning drivers to avoid all but essential journeys and schools "
           "preparing to close on Monday morning.")

def article(item_id, text, order_key, url=None, content_hash=None):
    return {"item_id": item_id, "url": url or f"https://example.test/{item_id}",
            "content_hash": content_hash or f"hash-of-{item_id}", "text": text,
            "order_key": order_key, "title": f"title {item_id}"}


def run(items, expected_articles, expected_dropped=(), history=None, **options):
    """Dedup the items in the given and in reversed order (one pipeline); both must match."""
    with test_pipeline.TestPipeline() as pipeline:
        hist = pipeline | "History" >> beam.Create(history) if history is not None else None
        for order, ordered in (("Given", items), ("Reversed", items[::-1])):
            result = (pipeline | f"Create{order}" >> beam.Create(ordered)
                      | f"Dedup{order}" >> Deduplicate(history=hist, **options))
            assert_that(result["articles"] | f"Stories{order}" >> beam.Map(
                lambda a: (a["item_id"], a["story_id"], a["duplicate_of"], a["dup_kind"])),
                equal_to(expected_articles), label=f"CheckArticles{order}")
            assert_that(result["dropped"] | f"Reasons{order}" >> beam.Map(
                lambda a: (a["item_id"], a["url"], a["drop_reason"], a["duplicate_of"])),
                equal_to(list(expected_dropped)), label=f"CheckDropped{order}")
            # Only the story fields and the signature kept for later runs are added.
            assert_that(result["articles"] | f"Keys{order}" >> beam.Map(
                lambda a: tuple(sorted(a))),
                equal_to([tuple(sorted([*items[0], "story_id", "duplicate_of", "dup_kind", "minhash"]))]
                         * len(expected_articles)), label=f"CheckKeys{order}")


def test_one_story_in_two_feeds_shares_story_id():
    items = [article("feed-a/1", STORY, "2025-01-28T10:00:00Z|00000000|000000000007"),
             article("feed-b/9", STORY_REWORDED, "2025-01-28T10:05:00Z|00000001|000000000003")]
    run(items, [("feed-a/1", "feed-a/1", None, None),
                ("feed-b/9", "feed-a/1", "feed-a/1", "near")])


def test_same_item_id_or_url_twice_keeps_the_earliest():
    items = [article("a", STORY, "1", url="https://example.test/a"),
             article("a", STORY, "2", url="https://example.test/a?page=2"),
             article("b", FOOTBALL, "3", url="https://example.test/b"),
             article("b-moved", FOOTBALL, "4", url="https://example.test/b", content_hash="hash-of-b")]
    run(items,
        [("a", "a", None, None), ("b", "b", None, None)],
        [("a", "https://example.test/a?page=2", ITEM_ID_IN_RUN, "a"),
         ("b-moved", "https://example.test/b", URL_IN_RUN, "b")])


def test_one_url_with_different_texts_is_distinct_entries():
    """A live blog or a show page shared by many entries: the URL alone is no identity."""
    items = [article("post-1", STORY, "1", url="https://example.test/live"),
             article("post-2", FOOTBALL, "2", url="https://example.test/live"),
             article("post-3", WEATHER, "3", url="https://example.test/live"),
             article("post-3-again", WEATHER, "4", url="https://example.test/live",
                     content_hash="hash-of-post-3")]
    run(items, [("post-1", "post-1", None, None), ("post-2", "post-2", None, None),
                ("post-3", "post-3", None, None)],
        [("post-3-again", "https://example.test/live", URL_IN_RUN, "post-3")])


def test_history_hits():
    history = [{"item_id": "old-1", "url": "https://example.test/old-1",
                "content_hash": "hash-of-new-1", "story_id": "old-1"},
               {"item_id": "old-2", "url": "https://example.test/old-2",
                "content_hash": "h-weather", "story_id": "old-0"}]
    items = [article("old-1", STORY, "1", url="https://example.test/new-url"),
             article("new-1", FOOTBALL, "2", url="https://example.test/old-1"),
             article("new-2", WEATHER, "3", content_hash="h-weather"),
             article("new-3", WEATHER + " More updates to follow.", "4"),
             article("new-4", STORY, "5")]
    # new-3 has no history copy, but joins the history story through new-2.
    run(items,
        [("new-2", "old-0", "old-2", "exact"), ("new-3", "old-0", "old-0", "near"),
         ("new-4", "new-4", None, None)],
        [("old-1", "https://example.test/new-url", ITEM_ID_IN_HISTORY, "old-1"),
         ("new-1", "https://example.test/old-1", URL_IN_HISTORY, "old-1")],
        history=history)


def test_exact_copy_under_other_id_is_kept_and_marked():
    items = [article("wire/1", WEATHER, "1", content_hash="h-weather"),
             article("paper/5", WEATHER, "2", content_hash="h-weather"),
             article("site/3", WEATHER, "3", content_hash="h-weather")]
    run(items, [("wire/1", "wire/1", None, None),
                ("paper/5", "wire/1", "wire/1", "exact"),
                ("site/3", "wire/1", "wire/1", "exact")])


def test_exact_and_near_copies_join_one_story():
    items = [article("a", STORY, "1", content_hash="h-story"),
             article("b", STORY_REWORDED, "2"),
             article("c", STORY, "3", content_hash="h-story"),
             article("d", FOOTBALL, "4")]
    run(items, [("a", "a", None, None), ("b", "a", "a", "near"),
                ("c", "a", "a", "exact"), ("d", "d", None, None)])


def test_unrelated_articles_keep_their_own_story():
    items = [article("s", STORY, "1"), article("f", FOOTBALL, "2"),
             article("w", WEATHER, "3"), article("empty", "", "4"),
             article("also-empty", "  ", "5")]
    run(items, [(i, i, None, None) for i in ("s", "f", "w", "empty", "also-empty")])


def _sliding_chain(length: int, window: int = 100, step: int = 15) -> list[dict]:
    """Texts whose neighbours overlap a lot but whose ends share nothing."""
    words = [f"token{i}" for i in range(window + step * length)]
    return [article(f"chain-{n}", " ".join(words[n * step:n * step + window]), f"{n:03d}")
            for n in range(length)]


@pytest.mark.parametrize("rounds", [1, 2])
def test_chains_longer_than_the_propagation_rounds_still_form_one_story(rounds):
    items = _sliding_chain(8)
    expected = ([("chain-0", "chain-0", None)]
                + [(f"chain-{n}", "chain-0", "near") for n in range(1, 8)])
    with test_pipeline.TestPipeline() as pipeline:
        for order, ordered in (("Given", items), ("Reversed", items[::-1])):
            stories = (pipeline | f"Create{order}" >> beam.Create(ordered)
                       | f"Near{order}" >> NearDupStories(threshold=0.6, rounds=rounds)
                       | f"Project{order}" >> beam.Map(
                           lambda a: (a["item_id"], a["story_id"], a["dup_kind"])))
            assert_that(stories, equal_to(expected), label=f"Check{order}")


def test_replayed_record_is_no_duplicate_of_its_own_row():
    """A replay reads records whose rows exist: those are 'replayed', not duplicates of themselves;
    a different record with the same item_id still is a duplicate."""
    coords = {"kafka_topic": "t", "kafka_partition": 0}
    history = [{"item_id": "a", "url": "https://example.test/a", "content_hash": "hash-of-a",
                "story_id": "a", **coords, "kafka_offset": 5}]
    items = [{**article("a", STORY, "1", url="https://example.test/a"), **coords, "kafka_offset": 5},
             {**article("a", STORY, "2", url="https://example.test/a"), **coords, "kafka_offset": 9}]
    with test_pipeline.TestPipeline() as pipeline:
        result = (pipeline | beam.Create(items)
                  | Deduplicate(history=pipeline | "History" >> beam.Create(history)))
        assert_that(result["replayed"] | "R" >> beam.Map(lambda a: a["kafka_offset"]), equal_to([5]),
                    label="Replayed")
        assert_that(result["dropped"] | "D" >> beam.Map(lambda a: (a["kafka_offset"], a["duplicate_of"])),
                    equal_to([(9, "a")]), label="Dropped")
        assert_that(result["articles"], equal_to([]), label="NoArticles")


def test_near_copy_of_an_earlier_runs_row_joins_its_story():
    """History keeps each row's MinHash signature, so story_id spans runs."""
    with test_pipeline.TestPipeline() as pipeline:
        first = (pipeline | "First" >> beam.Create([article("run1/a", STORY, "1")])
                 | "Dedup1" >> Deduplicate())
        assert_that(first["articles"] | "Sig" >> beam.Map(lambda a: len(a["minhash"])), equal_to([512]),
                    label="SignatureKept")
    signature = minhash.text_signature(STORY).tobytes()  # what the first run wrote
    history = [{"item_id": "run1/a", "url": "https://example.test/run1/a", "content_hash": "hash-of-run1/a",
                "story_id": "run1/a", "minhash": signature},
               {"item_id": "run0/x", "url": "https://example.test/x", "content_hash": "h-x",
                "story_id": "run0/x", "minhash": None}]
    run([article("run2/b", STORY_REWORDED, "2"), article("run2/c", FOOTBALL, "3")],
        [("run2/b", "run1/a", "run1/a", "near"), ("run2/c", "run2/c", None, None)],
        history=history)



# Candidate pairs carry ids only; a pair met in many bands is verified once (issue 21: the
# signatures no longer ride along every band entry through one grouping).
def test_bucket_pairs_are_ids_only_and_skip_history_only_pairs():
    from transforms.dedup import _HISTORY_NODE, _bucket_pairs

    h1, h2 = _HISTORY_NODE + "old-1", _HISTORY_NODE + "old-2"
    pairs = list(_bucket_pairs(("b3:abc", ["run-b", h2, "run-a", h1, "run-a"])))
    expected = [("run-a", "run-b"), ("run-a", h1), ("run-a", h2), ("run-b", h1), ("run-b", h2)]
    assert sorted(pairs) == sorted((tuple(sorted(p)), 3) for p in expected)
    assert all(isinstance(x, str) for (pair, _) in pairs for x in pair)  # no signature bytes
    assert list(_bucket_pairs(("b0:x", [h1, h2]))) == []      # earlier runs compared these
    assert list(_bucket_pairs(("b0:x", ["alone", "alone"]))) == []


def test_pairs_are_verified_on_the_whole_signature():
    import numpy as np

    from transforms.dedup import _verified_pairs

    base = np.arange(128, dtype=np.uint32)
    close = base.copy()
    close[:40] += 1000       # 88 of 128 equal: 0.69
    far = base.copy()
    far[:70] += 1000         # 58 of 128 equal: 0.45
    element = ("b", {"signature": [base.tobytes()],
                     "pending": [("a-close", close.tobytes()), ("a-far", far.tobytes())]})
    assert list(_verified_pairs(element, 0.6)) == [("a-close", "b")]
    assert list(_verified_pairs(("b", {"signature": [], "pending": [("a", base.tobytes())]}), 0.6)) == []


def test_a_history_row_in_a_pair_brings_its_story_label():
    from transforms.dedup import _HISTORY_NODE, _LABELS, _first_signed

    node = _HISTORY_NODE + "old"
    label = (0, "", "story-1")
    out = list(_first_signed((node, {"signature": [b"s"], "partner": [], "second": ["run-a"],
                                     "label": [label]})))
    assert [(o.tag, o.value) for o in out] == [(_LABELS, (node, label))]
    out = list(_first_signed((node, {"signature": [b"s"], "partner": [], "second": [], "label": [label]})))
    assert out == []  # not in any pair: its label stays out of the labelling
