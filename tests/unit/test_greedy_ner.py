"""transforms/greedy_ner.py decodes the model's NER to exactly spaCy's entities."""
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.attrs import ENT_IOB, ENT_TYPE
from spacy.tokens import Span

from transforms.greedy_ner import COMPONENT, GreedyNer, supports
from transforms.nlp import NER, load_nlp

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_146a92e843f25df6.txt"
# Entities at the very start and end, across line breaks and sentence ends, after whitespace
# runs, one-token and long entities, numbers, dates, money.
TEXTS = [
    "Boris Johnson",
    "London",
    "  \n\nAngela Merkel met Emmanuel Macron in Paris on 3 March 2020.\n\nThe European Union said so.",
    "He paid $4.5 million to Goldman Sachs. New York Times reporters saw it. Tuesday",
    "The U.S. Congress, the United Nations Security Council and Microsoft Corp. all agreed.   Tokyo",
    "WASHINGTON (Reuters) - President Joe Biden said on Friday the first 100 days were over.",
    "Toyota and Honda reported on 12 May 2024 that exports to Germany, France and Canada rose 7 percent.",
    "",
    "\n",
]


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def _texts():
    return TEXTS + ([SEED.read_text(encoding="utf-8")] if SEED.exists() else [])


def test_the_pipeline_decodes_with_ours(nlp):
    assert COMPONENT in nlp.pipe_names and NER in nlp.disabled and supports(nlp.get_pipe(NER))


def test_same_entities_as_spacy_in_one_batch_of_varied_lengths(nlp):
    with nlp.select_pipes(disable=[COMPONENT]):
        docs = list(nlp.pipe(_texts()))
    ours = [d.copy() for d in docs]
    theirs = [d.copy() for d in docs]
    list(nlp.get_pipe(NER).pipe(theirs, batch_size=64))
    list(GreedyNer(nlp.get_pipe(NER)).pipe(ours, batch_size=64))
    assert sum(len(d.ents) for d in theirs) > 20
    for a, b in zip(ours, theirs):
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
        assert numpy.array_equal(a.to_array([ENT_IOB, ENT_TYPE]), b.to_array([ENT_IOB, ENT_TYPE]))


def test_a_doc_with_preset_entities_goes_through_spacys_decoder(nlp):
    with nlp.select_pipes(disable=[COMPONENT]):
        doc = nlp("Apple hired Tim Cook in California.")
    expected = doc.copy()
    for d in (doc, expected):
        d.set_ents([Span(d, 0, 1, label="PRODUCT")], default="unmodified")
    nlp.get_pipe(NER)(expected)
    GreedyNer(nlp.get_pipe(NER))(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in expected.ents]
    assert doc.ents[0].label_ == "PRODUCT"


def test_a_beam_ner_is_left_to_spacy():
    ner = spacy.blank("en").add_pipe("beam_ner")
    assert not supports(ner)
