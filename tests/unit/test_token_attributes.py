"""transforms/token_attributes.py sets exactly what spaCy's attribute ruler sets for the attributes
our rules read (POS, TAG, DEP), and leaves the parse and the entities alone."""
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.attrs import DEP, ENT_IOB, ENT_TYPE, HEAD, POS, SENT_START, TAG

from transforms.nlp import DEFAULT_MODEL, PARAGRAPH_BREAKS, RULER, load_nlp, register_components, use_token_attributes
from transforms.token_attributes import COMPONENT, compile_patterns

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_146a92e843f25df6.txt"
ATTRS = [POS, TAG, DEP, HEAD, SENT_START, ENT_IOB, ENT_TYPE]
# Exceptions of the ruler, one per line: expletive "there is", "but" as advmod, "that" as a
# relative pronoun, auxiliaries, do/have as main verbs, "something" (PRON), whitespace tokens.
CRAFTED = """There is no doubt, and there were many.  But she did it anyway.

The man that I saw has done something.    He had had enough; they'd have known it.
"I don't think so," he said.\t\tNobody did what everyone does.

Whether or not it rains, we are going - because it's there."""


@pytest.fixture(scope="module")
def ruler_and_ours():
    register_components()
    ruler = spacy.load(DEFAULT_MODEL, exclude=["lemmatizer"])
    ruler.add_pipe(PARAGRAPH_BREAKS, before="parser")  # as load_nlp: only the ruler differs
    return ruler, load_nlp()


def _texts():
    texts = [CRAFTED, "", "   ", "\n\nA", "said"]
    if SEED.exists():
        texts.append(SEED.read_text(encoding="utf-8"))
    return texts


def test_the_pipeline_runs_ours_instead_of_the_ruler(ruler_and_ours):
    _, ours = ruler_and_ours
    assert COMPONENT in ours.pipe_names and RULER not in ours.pipe_names


@pytest.mark.parametrize("text", _texts())
def test_same_pos_tag_dep_parse_and_entities_as_the_ruler(ruler_and_ours, text):
    ruler, ours = ruler_and_ours
    expected, got = ruler(text), ours(text)
    assert [t.text for t in got] == [t.text for t in expected]
    assert numpy.array_equal(got.to_array(ATTRS), expected.to_array(ATTRS)), [
        (t.text, t.pos_, e.pos_, t.tag_, e.tag_, t.dep_, e.dep_) for t, e in zip(got, expected)
        if (t.pos, t.tag, t.dep) != (e.pos, e.tag, e.dep)]


def test_a_ruler_using_something_we_do_not_evaluate_is_kept():
    register_components()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(RULER)
    ruler.add([[{"TEXT": {"REGEX": "^[A-Z]"}}]], {"POS": "PROPN"})
    assert compile_patterns(ruler.patterns, nlp.vocab.strings) is None
    assert use_token_attributes(nlp) is False and nlp.pipe_names == [RULER]


def test_later_patterns_win_and_matches_see_the_doc_as_it_came_in():
    register_components()
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe(RULER)
    ruler.add([[{"LOWER": "run"}]], {"TAG": "VB", "POS": "VERB"})
    ruler.add([[{"TAG": "VB"}]], {"POS": "AUX"})          # TAG was not VB when matching began
    ruler.add([[{"LOWER": "fast"}, {"LOWER": "run"}]], {"POS": "NOUN"}, index=1)
    expected = nlp("run fast run")
    assert use_token_attributes(nlp) is True
    got = nlp("run fast run")
    assert [(t.pos_, t.tag_) for t in got] == [(t.pos_, t.tag_) for t in expected] == [
        ("VERB", "VB"), ("", ""), ("NOUN", "VB")]
