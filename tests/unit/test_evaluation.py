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
