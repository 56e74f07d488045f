"""PolNeAR dev (84 articles): the reported quote-extraction quality, by both definitions.

Definitions (a) and (b): transforms/evaluation.py. The models were selected on a held-out
part of PolNeAR train (bench/train_models.py); dev was scored once at the end and these
floors sit just under what it gave (bench/RESULTS.md), so a regression fails here.
"""
from pathlib import Path

import pytest

from transforms.evaluation import load_split, score_polnear
from transforms.extract import extract_documents
from transforms.nlp import load_nlp

POLNEAR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "polnear"

pytestmark = [pytest.mark.quality,
              pytest.mark.skipif(not (POLNEAR / "dev").is_dir(), reason=f"PolNeAR not found at {POLNEAR}")]


@pytest.fixture(scope="module")
def scores():
    golds = load_split(POLNEAR, "dev")
    extractions = list(extract_documents(((g.name, g.text, g.date) for g in golds), nlp=load_nlp()))
    return {d: score_polnear(lambda docs: extractions, definition=d, golds=golds) for d in "ab"}


def test_polnear_dev_definition_a(scores):
    a = scores["a"]
    assert a.documents == 84
    assert a.direct.f1 >= 0.92
    assert a.direct.speaker_accuracy >= 0.93
    assert a.all.recall >= 0.70 and a.all.precision >= 0.90
    assert a.all.speaker_accuracy >= 0.88


def test_polnear_dev_definition_b(scores):
    b = scores["b"]
    assert b.direct.f1 >= 0.95  # issue 17 asks >= 0.93
    assert b.all.recall >= 0.70 and b.all.precision >= 0.90  # issue 17 asks R >= 0.65 at P >= 0.90
    # Issue 17 asks >= 0.95: not reached (0.875 direct, 0.893 all on the third round's code;
    # bench/RESULTS.md has the candidate ceiling and the errors by kind).
    assert b.direct.speaker_accuracy >= 0.86
    assert b.all.speaker_accuracy >= 0.88
