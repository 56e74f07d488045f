"""PolNeAR dev (84 articles): the reported quote-extraction quality.

Definitions of direct quotes, matching and speaker accuracy: transforms/evaluation.py.
"""
from pathlib import Path

import pytest

from transforms.evaluation import evaluate, load_split
from transforms.extract import extract_documents
from transforms.nlp import load_nlp

POLNEAR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "polnear"


@pytest.mark.quality
@pytest.mark.skipif(not (POLNEAR / "dev").is_dir(), reason=f"PolNeAR not found at {POLNEAR}")
def test_polnear_dev_quality():
    golds = load_split(POLNEAR, "dev")
    extractions = list(extract_documents(((g.name, g.text, g.date) for g in golds), nlp=load_nlp()))
    scores = evaluate(golds, extractions)
    direct, every = scores["direct"], scores["all"]
    assert len(golds) == 84
    assert direct.f1 >= 0.85
    assert direct.speaker_accuracy >= 0.92
    assert every.recall >= 0.50
    assert every.speaker_accuracy >= 0.89
