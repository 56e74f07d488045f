"""A bad record after decode becomes a reject, never a failed run: the rows step (transforms/rows.py)
and the writer's row-by-row fallback (connectors/parquet_sink.py)."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from connectors import tables
from connectors.parquet_sink import REJECTED, _ToFilesFn
from transforms.outputs import WithOutputs
from transforms.rows import REJECTS, article_rows, batch_rows, reject_row, write_reject

RECORD = {"topic": "t", "partition": 0, "offset": 7, "key": b"k", "value": b"{raw}"}


def _article(**kw):
    base = {"item_id": "i1", "url": "u", "content_hash": "h", "order_key": "o", "text": "Text.",
            "title": "T", "feed_url": "f", "feed_title": "F", "published": "2025-01-28T10:00:00Z",
            "fetched_at": "2025-01-28T10:00:00Z", "kafka_topic": "t", "kafka_partition": 0,
            "kafka_offset": 7, "_record": RECORD, "quotes": [], "entities": []}
    return {**base, **kw}


def test_reject_row_escapes_what_it_quotes():
    row = reject_row(RECORD, "rows", "ValueError: bad '\ud800'", item_id="x\udc00")
    assert row["error"] == "ValueError: bad '\\ud800'" and row["item_id"] == "x\\udc00"
    assert row["payload"] == b"{raw}" and row["kafka_offset"] == 7
    row["error"].encode("utf-8")


BAD_ARTICLES = [_article(fetched_at="not-a-date"), _article(published="yesterday"),
                _article(word_count="many"), _article(quotes=[{"start_char": 1}], title=["not", "text"])]


@pytest.mark.parametrize("bad", BAD_ARTICLES)
def test_rows_step_rejects_a_whole_article_whose_rows_cannot_be_written(bad):
    (rows,) = list(article_rows(_article(), "r"))
    assert [t for t, _ in rows] == ["articles"]
    (out,) = list(article_rows(bad, "r"))
    assert out.tag == REJECTS and out.value["stage"] == "rows" and out.value["payload"] == b"{raw}"
    assert out.value["item_id"] == "i1" and "\n" not in out.value["error"]


def test_a_batch_keeps_its_good_articles_together_and_rejects_the_bad_ones():
    out = list(batch_rows([_article(item_id="a"), BAD_ARTICLES[0], _article(item_id="b")], "r"))
    rejects = [o for o in out if getattr(o, "tag", None) == REJECTS]
    (good,) = [o for o in out if isinstance(o, list)]
    assert [r["item_id"] for t, r in good] == ["a", "b"] and len(rejects) == 1
    assert list(batch_rows([BAD_ARTICLES[1]], "r"))[0].tag == REJECTS  # no empty list


def test_isolating_conversion_keeps_good_rows_and_names_bad_ones():
    rows = [{"item_id": "a", "quote_index": 0}, {"item_id": "b", "quote_index": "zero"}, {"item_id": "c"}]
    data, bad = tables.rows_to_arrow_isolating("quotes", rows)
    assert data.column("item_id").to_pylist() == ["a", "c"]
    assert [r["item_id"] for r, _ in bad] == ["b"] and bad[0][1]


def test_partition_dates_are_always_yyyy_mm_dd_or_a_typed_error():
    assert tables.partition_date({"fetched_at": "2025-01-28T23:59:59Z"}) == "2025-01-28"
    assert tables.partition_date({"fetched_at": "0001-01-01T00:00:00Z"}) == "0001-01-01"
    with pytest.raises(tables.BadPartition, match="not a timestamp"):
        tables.partition_date({"fetched_at": "never"})


def test_write_reject_survives_any_row():
    row = {"item_id": 5, "kafka_partition": "x", "kafka_offset": 3, "title": "\ud800", "when": object()}
    reject = write_reject("articles", row, "ArrowInvalid: nope")
    tables.rows_to_arrow("rejects", [reject])  # converts
    assert reject["stage"] == "write" and reject["kafka_offset"] == 3 and reject["kafka_partition"] is None


def test_writer_turns_unwritable_rows_into_rejects_and_writes_the_rest():
    batch = [("articles", {"item_id": "good", "fetched_at": "2025-01-28T10:00:00Z"}),
             ("articles", {"item_id": "bad-type", "fetched_at": "2025-01-28T10:00:00Z", "word_count": "x"}),
             ("articles", {"item_id": "bad-date", "fetched_at": "never"}),
             ("quotes", {"item_id": "q", "fetched_at": "2025-01-28T10:00:00Z", "start_char": [1]})]
    singles = [("duplicates", {"item_id": "dup-ok", "fetched_at": "2025-01-28T10:00:00Z"}),
               ("duplicates", {"item_id": "dup-bad", "fetched_at": "2025-01-28T10:00:00Z", "kafka_offset": "x"})]

    def check(chunks):
        got = {}
        for (table, _, _), value in chunks:
            got.setdefault(table, []).extend(value.to_pylist() if hasattr(value, "to_pylist") else [value])
        assert [r["item_id"] for r in got["articles"]] == ["good"]
        assert "quotes" not in got
        assert [r["item_id"] for r in got["duplicates"]] == ["dup-ok"]
        rejected = sorted(r["item_id"] for r in got["rejects"])
        assert rejected == ["bad-date", "bad-type", "dup-bad", "q"]
        assert all(r["stage"] == "write" and r["error"] for r in got["rejects"])

    with TestPipeline() as p:
        out = (p | beam.Create([batch] + singles)
               | WithOutputs(_ToFilesFn({"articles": 1}, chunk_rows=2), REJECTED, main="chunks"))
        assert_that(out["chunks"] | beam.combiners.ToList(), lambda lists: check(lists[0]))
        assert_that(out[REJECTED] | beam.combiners.Count.Globally(), lambda n: n == [4], label="Counted")


def test_language_detection_failure_keeps_the_article_with_the_reason():
    from transforms.language_beam import _LanguageFn

    fn = _LanguageFn({"en": "model"})

    class Broken:
        def detect_language_of(self, text):
            raise RuntimeError("detector exploded")

        def compute_language_confidence_values(self, text):
            raise RuntimeError("detector exploded")

    fn._detect = Broken()
    article = _article(text="Some words long enough to be detected by any detector at all. " * 5)
    (out,) = list(fn.process(article))
    assert out["item_id"] == "i1" and out["nlp_skipped"] is True and out["nlp_model"] is None
    assert out["nlp_skip_reason"].startswith("language detection failed: RuntimeError: detector exploded")
