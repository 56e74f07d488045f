"""``reported_model._children`` reads the candidates' children off the doc's arrays: it must say
what ``Token.children`` says (the features of the shipped reported-speech model depend on it)."""
import pytest

from transforms.nlp import load_nlp
from transforms.quotes import _DocView, paragraph_bounds
from transforms.reported_model import _COMPLEMENT_ORDER, _MODALS, _PREPS, MIN_SEEN, _children, cue_lexicon

TEXT = ("The minister argued on Tuesday that the plan will not work, and critics said it could fail.\n"
        "His claim that prices were rising was denied by the company, which was accused of lying.\n"
        "Polls show voters want change. She spoke to reporters about hospitals and schools.")


@pytest.fixture(scope="module")
def doc():
    return load_nlp()(TEXT)


def test_children_agree_with_token_children(doc):
    found = _children(doc, _DocView(doc, paragraph_bounds(TEXT), []), cue_lexicon())
    for token in doc:
        kids = list(token.children)
        content = [c.i for c in kids if c.dep_ in ("ccomp", "xcomp", "dobj", "attr", "oprd", "acl", "relcl")
                   or c.dep_ == "prep" and c.lower_ in _PREPS]
        assert found.content.get(token.i, []) == content, token
        assert (token.i in found.that_clause) == any(c.lower_ == "that" and c.dep_ == "mark" for c in kids)
        assert (token.i in found.negated) == any(c.dep_ == "neg" for c in kids)
        assert (token.i in found.modal) == any(c.dep_ == "aux" and c.lower_ in _MODALS for c in kids)
        assert (token.i in found.passive) == any(c.dep_ in ("nsubjpass", "auxpass") for c in kids)
    lexicon = cue_lexicon()

    def takes(token):  # what _complement takes: a verb's complement, a noun's that-clause
        if token.pos_ == "VERB":
            return any(c.dep_ in _COMPLEMENT_ORDER and (c.dep_ != "prep" or c.lower_ in _PREPS) for c in token.children)
        return any(c.dep_ in ("acl", "ccomp", "relcl") and any(
            g.lower_ == "that" and g.dep_ == "mark" for g in c.children) for c in token.children)

    def never(token):
        cue, seen = lexicon.get(token.lower_, (1, 0))
        return seen >= MIN_SEEN and cue == 0

    assert found.candidates == [t.i for t in doc if t.pos_ in ("VERB", "NOUN") and takes(t) and not never(t)]
    assert {doc[i].lower_ for i in found.candidates} >= {"argued", "claim", "show", "spoke"}
    assert found.that_clause and found.negated and found.modal and found.passive  # the text tests each

