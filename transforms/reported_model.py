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

import bisect
import functools
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from spacy.parts_of_speech import NOUN, PROPN, VERB
from spacy.strings import get_string_id
from spacy.tokens import Doc, Token

from transforms.quotes import (CUE_FORMS, _DIRECT_ONLY, Attribution, RuleOutput, _DocView, _subject_past_dateline,
                               speaker_tokens)
from transforms.token_arrays import TokenArrays, form_hashes, in_sorted

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
# The same tables keyed by the ids ``Doc.to_array`` and ``Token.tag`` give (``TokenArrays``).
_COMPLEMENT_IDS = tuple((dep, get_string_id(dep)) for dep in _COMPLEMENT_ORDER)
_PREP_RANK_IDS = {get_string_id(p): k for p, k in _PREP_RANK.items()}
_CLAUSE_IDS = frozenset(get_string_id(d) for d in ("acl", "ccomp", "relcl"))
_VERB_DEP_IDS = {get_string_id(d): k for d, k in _VERB_DEP.items()}
_TAG_IDS = {get_string_id(t): k for t, k in _TAGS.items()}
_PERSONAL_IDS = frozenset(get_string_id(w) for w in _PERSONAL)
_PERSON = get_string_id("PERSON")
_ORGANISATION_IDS = frozenset(get_string_id(label) for label in ("ORG", "NORP", "GPE"))
_PREP, _MARK, _THAT, _NEG, _AUX, _NSUBJPASS, _AUXPASS = (
    get_string_id(w) for w in ("prep", "mark", "that", "neg", "aux", "nsubjpass", "auxpass"))
# The same sets as sorted arrays, for the doc's columns (``_children``).
_CONTENT_HASHES = form_hashes(frozenset(_COMPLEMENT_ORDER) | {"acl", "ccomp", "relcl"})
_COMPLEMENT_HASHES = form_hashes(frozenset(_COMPLEMENT_ORDER))
_CLAUSE_HASHES = form_hashes(frozenset(("acl", "ccomp", "relcl")))
_PREP_RANK_HASHES = form_hashes(frozenset(_PREP_RANK))
_MODAL_HASHES = form_hashes(_MODALS)


@functools.lru_cache(maxsize=1)
def cue_lexicon() -> dict[str, tuple[int, int]]:
    """word form -> (times inside an annotated cue, times seen as a verb or noun) on PolNeAR train."""
    raw = json.loads(LEXICON.read_text(encoding="utf-8"))
    return {form: (int(v[0]), int(v[1])) for form, v in raw["forms"].items()}


@functools.lru_cache(maxsize=4)
def _never_cues(vocab_id: int, lexicon_id: int) -> frozenset[int]:
    """Hashes of the forms seen at least MIN_SEEN times and never inside an annotated cue."""
    vocab, lexicon = _REGISTRY[vocab_id], _REGISTRY[lexicon_id]
    return frozenset(vocab.strings.add(form) for form, (cue, seen) in lexicon.items()
                     if seen >= MIN_SEEN and cue == 0)


_REGISTRY: dict[int, object] = {}


@dataclass
class _Children:
    """What the candidates and their features ask of a token's children (``Token.children``),
    found for the whole doc in one pass over its arrays: no ``Token`` per child of a candidate."""
    candidates: list[int]          # the verbs and nouns ``_complement`` finds content for, no frequent never-cue
    content: dict[int, list[int]]  # head -> the children a complement can be, in text order
    that_clause: set[int]          # tokens with a "that" mark child ("... that he ...")
    negated: set[int]              # tokens with a "neg" child
    modal: set[int]                # tokens with an "aux" child that is a modal ("will", "could")
    passive: set[int]              # tokens with an "nsubjpass" or "auxpass" child


def _children(doc: Doc, view: _DocView, lexicon: dict[str, tuple[int, int]]) -> _Children:
    """The candidates: verbs and nouns that are not a frequent never-cue ("is", "had", "make") and
    have a child ``_complement`` takes (a verb's complement or topical prepositional phrase, a
    noun's that-clause); ``_complement`` then picks among those children."""
    import numpy

    n = len(doc)
    if not n:
        return _Children([], {}, set(), set(), set(), set())
    _REGISTRY[id(doc.vocab)], _REGISTRY[id(lexicon)] = doc.vocab, lexicon
    never = _never_cues(id(doc.vocab), id(lexicon))
    arrays = view.arrays
    pos, lower, head = arrays.pos, arrays.lower, arrays.head
    # Every test is one numpy pass over the doc's columns; Python touches only the content
    # children (a root heads itself but is not its own child).
    dep_col, lower_col, heads = arrays.columns[:, 1], arrays.columns[:, 2], arrays.heads
    child = heads != numpy.arange(n)
    is_content = child & in_sorted(_CONTENT_HASHES, dep_col) & (
        (dep_col != _PREP) | in_sorted(_PREP_RANK_HASHES, lower_col))
    content: dict[int, list[int]] = {}
    for k, h in zip(numpy.flatnonzero(is_content).tolist(), heads[is_content].tolist()):  # text order
        content.setdefault(h, []).append(k)
    verb_content = set(heads[is_content & in_sorted(_COMPLEMENT_HASHES, dep_col)].tolist())
    clauses = numpy.flatnonzero(is_content & in_sorted(_CLAUSE_HASHES, dep_col)).tolist()

    def heads_of(mask) -> set[int]:
        return set(heads[child & mask].tolist())

    that_clause = heads_of((dep_col == _MARK) & (lower_col == _THAT))
    negated = heads_of(dep_col == _NEG)
    modal = heads_of((dep_col == _AUX) & in_sorted(_MODAL_HASHES, lower_col))
    passive = heads_of((dep_col == _NSUBJPASS) | (dep_col == _AUXPASS))
    noun_content = {head[c] for c in clauses if c in that_clause}
    candidates = sorted(h for h in content if lower[h] not in never and (
        pos[h] == VERB and h in verb_content or pos[h] == NOUN and h in noun_content))
    return _Children(candidates, content, that_clause, negated, modal, passive)


@dataclass
class ReportedCandidate:
    attribution: Attribution
    features: list[float]


def _subject_kind(token: Token | None, arrays: TokenArrays) -> int:
    if token is None:
        return 0
    if token.ent_type == _PERSON:
        return 1
    if arrays.lower[token.i] in _PERSONAL_IDS:
        return 2
    if token.ent_type in _ORGANISATION_IDS:
        return 3
    if arrays.pos[token.i] == PROPN:
        return 4
    if arrays.pos[token.i] == NOUN:
        return 5
    return 6


def _complement(arrays: TokenArrays, i: int, children: _Children) -> tuple[str, list[int]] | None:
    """(kind, the children that are the content) of the verb or noun at ``i``, else None."""
    kids = children.content.get(i, ())
    dep, lower = arrays.dep, arrays.lower
    if arrays.pos[i] != NOUN:
        for label, label_id in _COMPLEMENT_IDS:
            chosen = [c for c in kids if dep[c] == label_id]  # content: a prep only with a word of _PREPS
            if chosen and label == "prep":
                chosen = [min(chosen, key=lambda c: (_PREP_RANK_IDS[lower[c]], c))]
            if chosen:
                return label, chosen
        return None
    chosen = [c for c in kids if dep[c] in _CLAUSE_IDS and c in children.that_clause]
    return ("ccomp", chosen) if chosen else None


def _trimmed(doc: Doc, c_start: int, c_end: int) -> tuple[int, int]:
    """The content span without punctuation or spaces at its ends (a closing quote mark stays)."""
    while c_end > c_start:
        last = doc[c_end - 1]
        if not (last.is_punct and last.text not in "\"\u201d'" or last.is_space):
            break
        c_end -= 1
    while c_start < c_end:
        first = doc[c_start]
        if not (first.is_punct or first.is_space):
            break
        c_start += 1
    return c_start, c_end


class _Covering:
    """Whether one of the (start, end) spans covers [start, end): the spans starting at or
    before ``start`` by bisect, then the furthest end among them (no scan of every span)."""

    def __init__(self, spans: list[tuple[int, int]]):
        spans = sorted(spans)
        self.starts = [start for start, _ in spans]
        self.reach = list(itertools.accumulate((end for _, end in spans), max))

    def __call__(self, start: int, end: int) -> bool:
        k = bisect.bisect_right(self.starts, start)
        return k > 0 and self.reach[k - 1] >= end


def reported_candidates(doc: Doc, rest: RuleOutput, attributions: list[Attribution],
                        lexicon: dict[str, tuple[int, int]] | None = None) -> list[ReportedCandidate]:
    """Candidate attributions of verbs/nouns no rule used (see the module docstring)."""
    view: _DocView | None = rest.view
    if view is None:
        return []
    lexicon = cue_lexicon() if lexicon is None else lexicon
    used = {att.cue.i for att in attributions if att.cue is not None}
    covers = _Covering([(att.start, att.end) for att in attributions])
    out = []
    arrays = view.arrays
    children_of = _children(doc, view, lexicon)
    for i in children_of.candidates:
        if i in used or view.in_quote[i]:
            continue
        is_noun = arrays.pos[i] == NOUN
        word = arrays.word(i)
        if is_noun and word not in lexicon:
            continue
        count_cue, count_all = lexicon.get(word, (0, 0))
        found = _complement(arrays, i, children_of)
        if found is None:
            continue
        kind, children = found
        p_start, p_end = view.para_tok[view.para_of[i]]
        subtrees = [doc[c] for c in children]
        c_start = max(min([t.left_edge.i for t in subtrees]), p_start)
        c_end = min(max([t.right_edge.i for t in subtrees]) + 1, p_end)
        if kind == "prep":
            c_start = min(c_start + 1, c_end)  # "about X": the X
        c_start, c_end = _trimmed(doc, c_start, c_end)
        if c_end - c_start < 2:
            continue
        token = doc[i]  # the cue; also what the subject helpers take
        possessor = None
        if is_noun:
            possessor = next((c for c in token.children if c.dep_ == "poss"), None)
            subject, lo = possessor, p_start
        else:
            subject, lo = _subject_past_dateline(view, token, p_start)
        if subject is not None and c_start <= subject.i < c_end:
            subject = None
        first, last = doc[c_start], doc[c_end - 1]
        start_char = first.idx
        end_char = last.idx + len(last)
        s_start, s_length = arrays.sent_start[i], arrays.sent_end[i] - arrays.sent_start[i]  # token.sent
        inside = covers(start_char, end_char)
        features = [
            (count_cue + 0.5) / (count_all + 5.0), math.log1p(count_all), float(is_noun),
            float(word in CUE_FORMS), float(CUE_FORMS.get(word) in _DIRECT_ONLY),
            float(_COMPLEMENT_CODE.get(kind, 0)),
            float(any(c in children_of.that_clause for c in children)),
            float(_subject_kind(subject, arrays)), float(subject is not None),
            math.log1p(c_end - c_start),
            float(any(view.in_quote[c_start:c_end])),
            float(_VERB_DEP_IDS.get(arrays.dep[i], 0)),
            float(i in children_of.negated),
            float(i in children_of.modal),
            float(i in children_of.passive),
            (i - s_start) / max(1, s_length),
            math.log1p(s_length), float(inside),
            float(i - subject.i) if subject is not None else 0.0,
            float(_TAG_IDS.get(token.tag, 0)), float(c_start < i), float(possessor is not None),
        ]
        att = Attribution(start_char, end_char,
                          "mixed" if features[10] else "indirect", token, confidence=0.5)
        if subject is not None:
            att.speaker_start, att.speaker_end = speaker_tokens(subject, lo, p_end)
        out.append(ReportedCandidate(att, features))
    return out
