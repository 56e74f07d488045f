"""Reported speech beyond the speech verbs: "Brill has argued that ...", "polls show ...",
"Christie endorsed Trump", "she wants voters to know ...", "X's statement that ...".

Annotators of attribution (PolNeAR) mark far more than ``said``: what sources show,
believe, want, endorse or deny, and nominal sources ("his claim that ..."). A word list
cannot say which of these verbs report a source in a given sentence, so every verb (and
every statement-like noun with a that-clause) outside quotes that has a subject and a
complement becomes a candidate: content = the complement (that-clause, infinitive,
object), speaker = the subject (or the possessor of the noun). The model in
``transforms/data/reported_model.txt`` (``bench/train_models.py``) scores candidates with
parse features and a cue lexicon learned from PolNeAR train
(``transforms/data/cue_lexicon.json``: how often each word form is an annotated cue).
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from spacy.parts_of_speech import NOUN, VERB
from spacy.tokens import Doc, Token

from transforms.quotes import (CUE_FORMS, _DIRECT_ONLY, Attribution, RuleOutput, _DocView,
                               _subject_past_dateline, speaker_tokens)
from transforms.token_arrays import in_sorted

LEXICON = Path(__file__).with_name("data") / "cue_lexicon.json"
# A form seen this often in PolNeAR train and never inside an annotated cue is no candidate.
MIN_SEEN = 20
_COMPLEMENT_ORDER = ("ccomp", "xcomp", "dobj", "prep", "attr", "oprd")
_COMPLEMENT_CODE = {dep: k + 1 for k, dep in enumerate(_COMPLEMENT_ORDER)}
_PREPS = frozenset("about on of for against to over with that as".split())
# One prepositional phrase is the content, the most topical one: "spoke to reporters on Tuesday
# about hospitals" says something about hospitals, never "reporters on Tuesday about hospitals";
# "to" names whom it was said to, so it is the content only when nothing else is there.
_PREP_RANK = {p: k for k, p in enumerate("about on over against of for with that as to".split())}
_VERB_DEP = {"ROOT": 1, "ccomp": 2, "conj": 3, "advcl": 4, "relcl": 5, "xcomp": 6, "acl": 7, "pcomp": 8}
_MODALS = frozenset("will would could should may might must can".split())
_PERSONAL = frozenset("he she they i we you".split())

REPORTED_FEATURES = (
    "lex_rate", "lex_count_log", "is_noun", "is_speech_form", "is_direct_only_form", "complement",
    "has_that", "subject_kind", "subject_found", "content_tokens_log", "content_has_quote", "verb_dep",
    "negated", "modal", "passive", "verb_position", "sentence_tokens_log", "inside_attribution",
    "subject_distance", "tag", "content_before_verb", "possessor",
)
_TAGS = {"VBD": 1, "VBZ": 2, "VBP": 3, "VBG": 4, "VBN": 5, "VB": 6, "NN": 7, "NNS": 8}


@functools.lru_cache(maxsize=1)
def cue_lexicon() -> dict[str, tuple[int, int]]:
    """word form -> (times inside an annotated cue, times seen as a verb or noun) on PolNeAR train."""
    raw = json.loads(LEXICON.read_text(encoding="utf-8"))
    return {form: (int(v[0]), int(v[1])) for form, v in raw["forms"].items()}


@functools.lru_cache(maxsize=4)
def _never_cues(vocab_id: int, lexicon_id: int) -> "object":
    """Hashes of the forms seen at least MIN_SEEN times and never inside an annotated cue."""
    import numpy

    vocab, lexicon = _REGISTRY[vocab_id], _REGISTRY[lexicon_id]
    return numpy.array(sorted(vocab.strings.add(form) for form, (cue, seen) in lexicon.items()
                              if seen >= MIN_SEEN and cue == 0), dtype=numpy.uint64)


_REGISTRY: dict[int, object] = {}


def _candidate_tokens(doc: Doc, view: _DocView, lexicon: dict[str, tuple[int, int]]) -> list[int]:
    """Indices of the verbs and nouns that can become candidates: not a frequent never-cue ("is",
    "had", "make"), and with a child ``_complement`` would take (a verb's complement or topical
    prepositional phrase, a noun's that-clause). Tested on the doc's arrays, so no ``Token`` is
    made for the many verbs and nouns that have none; ``_complement`` then picks among the rest."""
    import numpy

    n = len(doc)
    if not n:
        return []
    _REGISTRY[id(doc.vocab)], _REGISTRY[id(lexicon)] = doc.vocab, lexicon
    never = _never_cues(id(doc.vocab), id(lexicon))
    codes = _codes(id(doc.vocab))
    arrays = view.arrays
    pos, dep, lower = arrays.columns[:, 0], arrays.columns[:, 1], arrays.columns[:, 2]
    heads = arrays.heads
    child = heads != numpy.arange(n)  # Token.children: the tokens a token heads, never itself
    # (numpy.isin sorts on every call: a few equality tests are much cheaper for these short lists)
    takes = _any_equal(dep, codes["verb_complements"]) | (dep == codes["prep"]) & _any_equal(lower, codes["preps"])
    verb_has = numpy.zeros(n, dtype=bool)
    verb_has[heads[child & takes]] = True
    has_that = numpy.zeros(n, dtype=bool)
    has_that[heads[child & (lower == codes["that"]) & (dep == codes["mark"])]] = True
    noun_has = numpy.zeros(n, dtype=bool)
    noun_has[heads[child & _any_equal(dep, codes["clauses"]) & has_that]] = True
    keep = numpy.flatnonzero((pos == VERB) & verb_has | (pos == NOUN) & noun_has)
    return keep[~in_sorted(never, lower[keep])].tolist()  # never is sorted


def _any_equal(column, values) -> "object":
    hit = column == values[0]
    for value in values[1:]:
        hit |= column == value
    return hit


@functools.lru_cache(maxsize=4)
def _codes(vocab_id: int) -> dict:
    """String hashes of the labels and words ``_candidate_tokens`` tests."""
    import numpy

    strings = _REGISTRY[vocab_id].strings

    def hashes(words) -> list:
        return [numpy.uint64(strings.add(w)) for w in words]

    return {"verb_complements": hashes([d for d in _COMPLEMENT_ORDER if d != "prep"]), "prep": numpy.uint64(strings.add("prep")),
            "preps": hashes(sorted(_PREPS)), "that": numpy.uint64(strings.add("that")),
            "mark": numpy.uint64(strings.add("mark")),
            "clauses": hashes(["acl", "ccomp", "relcl"])}


@dataclass
class ReportedCandidate:
    attribution: Attribution
    features: list[float]


def _subject_kind(token: Token | None) -> int:
    if token is None:
        return 0
    if token.ent_type_ == "PERSON":
        return 1
    if token.lower_ in _PERSONAL:
        return 2
    if token.ent_type_ in ("ORG", "NORP", "GPE"):
        return 3
    if token.pos_ == "PROPN":
        return 4
    if token.pos_ == "NOUN":
        return 5
    return 6


def _complement(token: Token, children: list[Token] | None = None) -> tuple[str, list[Token]] | None:
    """(kind, the children that are the content) of a verb or noun, else None (``children``:
    ``list(token.children)``, if at hand)."""
    children = list(token.children) if children is None else children
    for dep in _COMPLEMENT_ORDER if token.pos_ != "NOUN" else ():
        chosen = [c for c in children if c.dep_ == dep and (dep != "prep" or c.lower_ in _PREPS)]
        if chosen and dep == "prep":
            chosen = [min(chosen, key=lambda c: (_PREP_RANK[c.lower_], c.i))]
        if chosen:
            return dep, chosen
    if token.pos_ == "NOUN":
        chosen = [c for c in children if c.dep_ in ("acl", "ccomp", "relcl") and any(
            g.lower_ == "that" and g.dep_ == "mark" for g in c.children)]
        if chosen:
            return "ccomp", chosen
    return None


def reported_candidates(doc: Doc, rest: RuleOutput, attributions: list[Attribution],
                        lexicon: dict[str, tuple[int, int]] | None = None) -> list[ReportedCandidate]:
    """Candidate attributions of verbs/nouns no rule used (see the module docstring)."""
    view: _DocView | None = rest.view
    if view is None:
        return []
    lexicon = cue_lexicon() if lexicon is None else lexicon
    used = {att.cue.i for att in attributions if att.cue is not None}
    spans = [(att.start, att.end) for att in attributions]
    out = []
    arrays = view.arrays
    for i in _candidate_tokens(doc, view, lexicon):
        if i in used or view.in_quote[i]:
            continue
        token = doc[i]
        is_noun = token.pos_ == "NOUN"
        if is_noun and token.lower_ not in lexicon:
            continue
        count_cue, count_all = lexicon.get(token.lower_, (0, 0))
        kids = list(token.children)  # made once: every test below reads them
        found = _complement(token, kids)
        if found is None:
            continue
        kind, children = found
        p_index = view.para_of[token.i]
        p_start, p_end = view.para_tok[p_index]
        c_start = max(min(c.left_edge.i for c in children), p_start)
        c_end = min(max(c.right_edge.i for c in children) + 1, p_end)
        if kind == "prep":
            c_start = min(c_start + 1, c_end)  # "about X": the X
        while c_end > c_start and (doc[c_end - 1].is_punct and doc[c_end - 1].text not in "\"\u201d'"
                                   or doc[c_end - 1].is_space):
            c_end -= 1
        while c_start < c_end and (doc[c_start].is_punct or doc[c_start].is_space):
            c_start += 1
        if c_end - c_start < 2:
            continue
        possessor = None
        if is_noun:
            possessor = next((c for c in kids if c.dep_ == "poss"), None)
            subject, lo = possessor, p_start
        else:
            subject, lo = _subject_past_dateline(view, token, p_start)
        if subject is not None and c_start <= subject.i < c_end:
            subject = None
        start_char = doc[c_start].idx
        end_char = doc[c_end - 1].idx + len(doc[c_end - 1])
        s_start, s_length = arrays.sent_start[i], arrays.sent_end[i] - arrays.sent_start[i]  # token.sent
        inside = any(s <= start_char and end_char <= e for s, e in spans)
        kid_deps = {c.dep_ for c in kids}
        features = [
            (count_cue + 0.5) / (count_all + 5.0), math.log1p(count_all), float(is_noun),
            float(token.lower_ in CUE_FORMS), float(CUE_FORMS.get(token.lower_) in _DIRECT_ONLY),
            float(_COMPLEMENT_CODE.get(kind, 0)),
            float(any(g.lower_ == "that" and g.dep_ == "mark" for c in children for g in c.children)),
            float(_subject_kind(subject)), float(subject is not None),
            math.log1p(c_end - c_start),
            float(any(view.in_quote[c_start:c_end])),
            float(_VERB_DEP.get(token.dep_, 0)),
            float("neg" in kid_deps),
            float("aux" in kid_deps and any(c.dep_ == "aux" and c.lower_ in _MODALS for c in kids)),
            float("nsubjpass" in kid_deps or "auxpass" in kid_deps),
            (i - s_start) / max(1, s_length),
            math.log1p(s_length), float(inside),
            float(token.i - subject.i) if subject is not None else 0.0,
            float(_TAGS.get(token.tag_, 0)), float(c_start < token.i), float(possessor is not None),
        ]
        att = Attribution(start_char, end_char,
                          "mixed" if features[10] else "indirect", token, confidence=0.5)
        if subject is not None:
            att.speaker_start, att.speaker_end = speaker_tokens(subject, lo, p_end)
        out.append(ReportedCandidate(att, features))
    return out
