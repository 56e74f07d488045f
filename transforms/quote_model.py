"""Quoted words no rule attributed: partial quotes, quote-only paragraphs, scare quotes.

The rules attribute a quote when it opens or closes a sentence next to a cue. A quote
inside a sentence (``called the attack "cowardly"``, ``whom he described as
"volatile"``, ``pledges to stand firm against its "cheating"``) or a paragraph that is a
quotation with no cue is left over. Most such spans are somebody's words; some are
titles ("The Apprentice"), names or scare quotes. ``quote_candidates`` turns every
leftover span into a candidate attribution (cue = the verb governing the quote, speaker =
that verb's subject) with features from the parse; the trained model in
``transforms/data/quote_model.txt`` (``bench/train_models.py``) keeps those likely to be
attributions. Features are plain numbers so the same function serves training and use.
"""
from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Token

from transforms.quotes import (CUE_FORMS, Attribution, QuoteSpan, RuleOutput, _cue_lemma, _is_headline,
                               _speaker_of, _speaker_like)

# Words before a quote that introduce a name or a title, not speech ("a group called "X"").
_NAMING = frozenset("called named titled entitled dubbed nicknamed labeled labelled branded so-called "
                    "known as".split())
_PERSONAL = frozenset("he she they i we".split())

QUOTE_FEATURES = (
    "n_tokens", "n_words", "title_case_share", "first_upper", "ends_in_punct", "has_verb", "has_subject",
    "headline", "paragraph_is_quote", "quote_share_of_paragraph", "prev_is_cue", "prev_is_naming",
    "prev_is_det", "prev_is_adp", "prev_is_possessive", "prev_is_colon", "next_is_propn", "next_is_cue",
    "gov_is_cue", "gov_distance", "gov_found", "subject_kind", "sentence_has_cue", "sentence_has_person",
    "quotes_in_sentence", "relative_position", "in_markup", "recovered", "prev_quote_attributed_gap",
    "is_question", "n_chars_log", "gov_dep_path",
)


@dataclass
class QuoteCandidate:
    attribution: Attribution
    features: list[float]


def _governing_verb(doc: Doc, a: int, b: int) -> tuple[Token | None, int]:
    """The verb the quoted words hang from, and how many heads up it was."""
    root = None
    for k in range(a, b):
        head = doc[k].head
        if not (a <= head.i < b) or head.i == k:
            root = doc[k]
            break
    if root is None:
        return None, 0
    token, steps = root, 0
    while steps < 5:
        if token.pos_ in ("VERB", "AUX") and not (a <= token.i < b):
            return token, steps
        if token.head.i == token.i:
            break
        token = token.head
        steps += 1
    return (token, steps) if token.pos_ in ("VERB", "AUX") and not (a <= token.i < b) else (None, steps)


_DEP_CODES = {"dobj": 1, "pobj": 2, "advmod": 3, "oprd": 4, "xcomp": 5, "ccomp": 6, "attr": 7, "appos": 8,
              "npadvmod": 9, "conj": 10, "nsubj": 11, "acomp": 12, "amod": 13, "compound": 14, "ROOT": 15}


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


def quote_candidates(doc: Doc, rest: RuleOutput, text: str) -> list[QuoteCandidate]:
    """One candidate attribution (with features) per quote span the rules left."""
    view = rest.view
    if view is None or not rest.leftover:
        return []
    out = []
    n_doc = max(1, len(text))
    quote_starts = [a for a, _ in view.quote_tok]
    for span, a, b in rest.leftover:
        p_index = view.para_of[a]
        p_start, p_end = view.para_tok[p_index]
        paragraph = text[doc[p_start].idx:doc[p_end - 1].idx + len(doc[p_end - 1])] if p_end > p_start else ""
        inner = [t for t in doc[a:b] if not t.is_punct and not t.is_space]
        words = [t for t in inner if t.is_alpha]
        sentence = doc[a].sent
        prev = doc[a - 1] if a > 0 else None
        while prev is not None and prev.is_space and prev.i > 0:
            prev = doc[prev.i - 1]
        nxt = doc[b] if b < len(doc) else None
        gov, steps = _governing_verb(doc, a, b)
        speaker = _speaker_of(view, gov, p_start, p_end) if gov is not None else None
        subject = doc[speaker[1] - 1] if speaker is not None else None
        in_sentence = [k for k in range(sentence.start, sentence.end) if not view.in_quote[k]]
        has_cue = any(_cue_lemma(doc[k]) for k in in_sentence)
        has_person = any(doc[k].ent_type_ == "PERSON" or doc[k].lower_ in _PERSONAL for k in in_sentence)
        quotes_here = sum(1 for q in quote_starts if sentence.start <= q < sentence.end)
        quote_chars = span.end - span.start
        inner_text = text[span.start:span.end]
        features = [
            b - a, len(words),
            sum(1 for t in words if t.text[:1].isupper()) / max(1, len(words)),
            float(bool(words) and words[0].text[:1].isupper()),
            float(inner_text.rstrip("\"'\u201d\u2019` ")[-1:] in ".,!?;:"),
            float(any(t.pos_ in ("VERB", "AUX") for t in inner)),
            float(any(t.dep_ in ("nsubj", "nsubjpass") for t in inner)),
            float(_is_headline(paragraph)) if paragraph else 0.0,
            float(quote_chars >= 0.8 * max(1, len(paragraph.strip()))),
            quote_chars / max(1, len(paragraph)),
            float(prev is not None and prev.lower_ in CUE_FORMS),
            float(prev is not None and prev.lower_ in _NAMING),
            float(prev is not None and prev.pos_ == "DET"),
            float(prev is not None and prev.pos_ == "ADP"),
            float(prev is not None and prev.lower_ in ("'s", "\u2019s")),
            float(prev is not None and prev.text in (":", ",")),
            float(nxt is not None and nxt.pos_ == "PROPN"),
            float(nxt is not None and nxt.lower_ in CUE_FORMS),
            float(gov is not None and _cue_lemma(gov) is not None),
            float(steps),
            float(gov is not None),
            float(_subject_kind(subject)),
            float(has_cue), float(has_person), float(quotes_here),
            span.start / n_doc,
            float("<" in paragraph[:40] or "http" in paragraph),
            float(span.recovered),
            float(min(20, a - max((q_end for _, q_end in view.quote_tok if q_end <= a), default=0))),
            float("?" in inner_text),
            float(len(inner_text)).__pow__(0.5),
            float(_DEP_CODES.get(doc[a].head.dep_ if a < len(doc) else "", 0)),
        ]
        cue = gov if gov is not None and (_cue_lemma(gov) is not None or (
            subject is not None and _speaker_like(subject))) else None
        kind = "direct" if features[8] else "mixed"
        att = Attribution(span.start, span.end, kind, cue, confidence=0.5)
        if speaker is not None and subject is not None and _speaker_like(subject):
            att.speaker_start, att.speaker_end = speaker
        else:
            att.continues_previous = True
        out.append(QuoteCandidate(att, features))
    return out
