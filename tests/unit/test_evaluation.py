from pathlib import Path

import pytest

from transforms.evaluation import Score, is_direct, load_split, read_ann, score_document, GoldDocument
from transforms.extract import DocumentExtraction, QuoteRecord

POLNEAR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "polnear"

TEXT = ('"We will win," Smith said. "And win big."\n'
        "Jones said that taxes are too high.\n"
        'He called it "a disaster" on Monday.')
ANN = ("T1\tContent 0 14;27 41\t\"We will win,\" \"And win big.\"\n"
       "T2\tSource 15 20\tSmith\n"
       "T3\tCue 21 25\tsaid\n"
       "T4\tAttribution 21 25\tsaid\n"
       "E1\tAttribution:T4 Content:T1 Cue:T3 Source:T2\n"
       "T5\tSource 42 47\tJones\n"
       "T6\tCue 48 52\tsaid\n"
       "T7\tContent 53 76\tthat taxes are too high\n"
       "T8\tAttribution 48 52\tsaid\n"
       "E2\tAttribution:T8 Content:T7 Cue:T6 Source:T5\n"
       "T9\tContent 91 103\t\"a disaster\"\n"
       "T10\tAttribution 91 103\tx\n"
       "E3\tAttribution-no-source:T10 Content:T9\n")


def quote(start, end, kind, speaker_start=None, speaker_end=None, name=None):
    return QuoteRecord(start, end, TEXT[start:end], kind, "said", None, name, None, None, False, "x", 0.9,
                       speaker_start, speaker_end)


def test_read_ann_ties_discontinuous_spans_into_attributions():
    gold = read_ann(ANN, TEXT)
    assert [g.content for g in gold] == [[(0, 14), (27, 41)], [(53, 76)], [(91, 103)]]
    assert gold[0].source == [(15, 20)] and gold[2].source == []
    assert [g.direct for g in gold] == [True, False, True]


def test_direct_rule_accepts_enclosed_content_and_rejects_partial():
    text = 'He said "we won" today and that "taxes" rose.'
    assert is_direct(text, [(9, 15)])  # content inside the marks
    assert not is_direct(text, [(27, 44)])  # that-clause with a partial quote


def test_scores_overlap_matches_and_speaker_rule():
    gold = GoldDocument("d", TEXT, None, read_ann(ANN, TEXT))
    extraction = DocumentExtraction("d", [
        quote(0, 14, "direct", 15, 20, "John Smith"),    # right span
        quote(27, 41, "direct", None, None, "Smith"),    # continuation: name matches gold Source text
        quote(53, 76, "indirect", 42, 47, "Jones"),
        quote(81, 90, "direct", 78, 80, "He"),           # no gold there
    ])
    direct, every = Score(), Score()
    score_document(gold, extraction, True, direct)
    score_document(gold, extraction, False, every)
    assert (direct.predicted, direct.correct_predictions, direct.gold, direct.found_gold) == (3, 2, 2, 1)
    assert (direct.speaker_total, direct.speaker_correct) == (2, 2)
    assert (every.predicted, every.correct_predictions, every.gold, every.found_gold) == (4, 3, 3, 2)
    assert every.recall == pytest.approx(2 / 3)


@pytest.mark.skipif(not POLNEAR.exists(), reason=f"PolNeAR not found at {POLNEAR}")
def test_dev_split_loads_one_annotator_per_article():
    docs = load_split(POLNEAR, "dev")
    assert len(docs) == 84
    assert len({d.name for d in docs}) == 84
    assert all(d.attributions for d in docs)
    for doc in docs[:10]:
        for att in doc.attributions:
            assert all(0 <= s < e <= len(doc.text) for s, e in att.content)


# ---------------------------------------------------------------- definition (b)

from transforms.evaluation import (Scores, content_words, evaluate_by, holds_double_mark,  # noqa: E402
                                   score_document_b, score_polnear)

TEXT_B = ('"We will win," Smith said. "And win big."\n'
          'Jones, the senator, said taxes were "far too high" this year.\n'
          'He said the plan would fail.\n'
          "The report said sales fell.")


def _at(words, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT_B.index(words, start + 1)
    return start, start + len(words)


def _t(name, kind, *pieces):
    return f"{name}\t{kind} " + ";".join(f"{a} {b}" for a, b in pieces) + "\tx\n"


ANN_B = (_t("T1", "Content", _at('"We will win,"'), _at('"And win big."')) + _t("T2", "Source", _at("Smith"))
         + "E1\tAttribution:T2 Content:T1 Source:T2\n"
         + _t("T3", "Source", _at("Jones")) + _t("T4", "Content", _at('taxes were "far too high" this year'))
         + "E2\tAttribution:T3 Content:T4 Source:T3\n"
         + _t("T5", "Source", _at("He")) + _t("T6", "Content", _at("the plan would fail"))
         + "E3\tAttribution:T5 Content:T6 Source:T5\n"
         + _t("T7", "Source", _at("The report")) + _t("T8", "Content", _at("sales fell"))
         + "E4\tAttribution:T7 Content:T8 Source:T7\n")


def quote_b(start, end, name=None, speaker=None):
    return QuoteRecord(start, end, TEXT_B[start:end], "direct", "said", speaker, name, None, None, False, "x", 0.9)


def test_holds_double_mark_and_content_words():
    assert holds_double_mark('taxes were "far too high"') and holds_double_mark("''Lock her up''")
    assert holds_double_mark("\u201cyes\u201d") and not holds_double_mark("it's the senator's view")
    assert content_words("the State Department's spokesman") == {"state", "department", "spokesman"}
    assert content_words("he") == set()


def test_definition_b_counts_pieces_half_overlap_and_content_word_speakers():
    gold = GoldDocument("d", TEXT_B, None, read_ann(ANN_B, TEXT_B))
    said_sales = _at("said sales fell")
    extraction = DocumentExtraction("d", [
        quote_b(*_at('"We will win,"'), "John Smith"),  # first piece of E1, speaker shares "smith"
        quote_b(*_at('"And win big."'), "Smith"),       # second piece of the same gold: also a match
        quote_b(*_at('"far too high"'), "Jones"),       # inside E2: the shorter span fully shared
        quote_b(*_at("the plan would fail"), "Bill Jones"),  # E3's source is a bare pronoun: not scored
        quote_b(*said_sales, None, "the report"),       # 10 of 15 shared >= half of the gold's 10
        quote_b(*_at(", said tax"), "Jones"),           # 3 of 10 shared with E2: below half of 10
    ])
    every = Score()
    score_document_b(gold, extraction, False, every)
    assert (every.predicted, every.correct_predictions, every.gold, every.found_gold) == (6, 5, 4, 4)
    # speakers: Smith x2, Jones, "the report" (no resolved name: the mention as written) -> all right
    assert (every.speaker_total, every.speaker_correct) == (4, 4)
    direct = Score()
    score_document_b(gold, extraction, True, direct)
    # direct gold = contents holding a double mark (E1, E2); direct predictions likewise
    assert (direct.gold, direct.found_gold, direct.predicted, direct.correct_predictions) == (2, 2, 3, 3)


def test_definition_b_wrong_speaker_and_no_speaker_are_wrong():
    gold = GoldDocument("d", TEXT_B, None, read_ann(ANN_B, TEXT_B))
    extraction = DocumentExtraction("d", [quote_b(0, 14, "Jane Doe"), quote_b(27, 41, None)])
    every = Score()
    score_document_b(gold, extraction, False, every)
    assert (every.speaker_total, every.speaker_correct) == (2, 0)


def test_definition_a_is_unchanged_by_b():
    gold = GoldDocument("d", TEXT_B, None, read_ann(ANN_B, TEXT_B))
    extraction = DocumentExtraction("d", [quote_b(*_at(", said tax"), "Jones")])
    assert evaluate_by([gold], [extraction], "a")["all"].correct_predictions == 1  # any overlap counts
    assert evaluate_by([gold], [extraction], "b")["all"].correct_predictions == 0
    with pytest.raises(ValueError):
        evaluate_by([gold], [extraction], "c")


def test_score_polnear_calls_pred_fn_once_with_triples():
    gold = GoldDocument("d", TEXT_B, "2016-01-01", read_ann(ANN_B, TEXT_B))
    calls = []

    def pred_fn(docs):
        docs = list(docs)
        calls.append(docs)
        return [DocumentExtraction(doc_id, [quote_b(0, 14, "Smith")]) for doc_id, _, _ in docs]

    scores = score_polnear(pred_fn, golds=[gold])
    assert isinstance(scores, Scores) and scores.definition == "b" and scores.documents == 1
    assert calls == [[("d", TEXT_B, "2016-01-01")]]
    assert scores.all.correct_predictions == 1 and scores.direct.found_gold == 1
    with pytest.raises(ValueError):
        score_polnear(lambda docs: [], golds=[gold])
