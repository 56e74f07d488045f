"""Speaker selection: rank the mentions that could have said each quote.

The rules give each attribution one speaker span (the cue's subject, the name next to
the quote, the previous quote's speaker). ``speaker_candidates`` lists every mention that
could be the speaker instead: the rule's span, named people and organisations of the
paragraph and the two before, pronouns and nominal subjects ("the company", "the
senator") of the paragraph, the previous quote's speaker. Each gets features from the
parse, the distance to the quote, paragraph position, the mention type and the cue;
the model in ``transforms/data/speaker_model.txt`` (``bench/train_models.py``, trained
on PolNeAR train Source annotations) scores them, and ``choose_speakers`` moves an
attribution to a better-scored mention only by a clear margin, so the rules stay in
charge where they are sure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from spacy.tokens import Doc

from transforms.entities import Mention
from transforms.leaders import ARTICLE_ROLES
from transforms.quotes import CUE_FORMS, Attribution, _DocView, speaker_tokens

_PERSONAL = frozenset("he she".split())
_GROUP = frozenset("they we i".split())
_LABEL_CODE = {"PERSON": 1, "ORG": 2, "GPE": 3, "NORP": 4}
_KIND_CODE = {"direct": 0, "mixed": 1, "indirect": 2}
_DEP_CODE = {"nsubj": 1, "nsubjpass": 2, "pobj": 3, "dobj": 4, "appos": 5, "poss": 6, "compound": 7,
             "dative": 8, "conj": 9, "attr": 10, "ROOT": 11}
_WINDOW_PARAGRAPHS = 2

SPEAKER_FEATURES = (
    "is_rule", "rule_has_speaker", "kind", "has_cue", "cue_after_quote", "continues_previous",
    "cand_type", "label", "role_like", "is_subject", "head_is_cue", "head_is_cue_form", "dep",
    "token_distance", "log_distance", "before_quote", "same_sentence", "same_sentence_as_cue",
    "paragraph_back", "rank_before", "persons_between", "is_previous_speaker", "mention_count_log",
    "after_told_by", "first_in_paragraph", "n_candidates", "cue_distance", "proper", "n_tokens",
    "attribution_confidence",
)


@dataclass
class SpeakerCandidate:
    start: int  # token range
    end: int
    features: list[float]


def _type_code(doc: Doc, start: int, end: int, label: str | None) -> int:
    head = doc[end - 1]
    if end - start == 1 and head.lower_ in _PERSONAL:
        return 1
    if end - start == 1 and head.lower_ in _GROUP:
        return 2
    if end - start == 1 and head.lower_ == "it":
        return 3
    if label is not None:
        return 4 + _LABEL_CODE.get(label, 4)
    if head.pos_ == "PROPN":
        return 9
    if head.pos_ == "NOUN":
        return 10
    return 11


class CandidateBuilder:
    """Speaker candidates of one document (mentions and pronouns indexed once)."""

    def __init__(self, doc: Doc, view: _DocView, mentions: list[Mention]):
        self.doc = doc
        self.view = view
        self.mentions = [m for m in mentions if m.label in _LABEL_CODE and not view.in_quote[m.tok_start]]
        self.count = {}
        for m in mentions:
            self.count[m.canonical] = self.count.get(m.canonical, 0) + 1
        self.label_at: dict[int, Mention] = {}
        for m in self.mentions:
            for k in range(m.tok_start, m.tok_end):
                self.label_at[k] = m
        self.extra: list[tuple[int, int]] = []  # pronouns and nominal subjects outside quotes
        for token in doc:
            if view.in_quote[token.i] or token.i in self.label_at:
                continue
            if token.pos_ == "PRON" and token.lower_ in ("he", "she", "they", "it", "i", "we"):
                self.extra.append((token.i, token.i + 1))
            elif token.dep_ in ("nsubj", "nsubjpass") and token.pos_ == "NOUN":
                p_start, p_end = view.para_tok[view.para_of[token.i]]
                self.extra.append(speaker_tokens(token, p_start, p_end))
        self.extra.sort()

    def candidates(self, att: Attribution, a: int, b: int, previous: tuple[int, int] | None
                   ) -> list[SpeakerCandidate]:
        """Candidates for the attribution covering tokens [a, b) (``previous``: last speaker span)."""
        doc, view = self.doc, self.view
        para = view.para_of[a]
        lo = view.para_tok[max(0, para - _WINDOW_PARAGRAPHS)][0]
        hi = view.para_tok[view.para_of[b - 1]][1] if b > a else view.para_tok[para][1]
        spans: dict[tuple[int, int], str | None] = {}
        for m in self.mentions:
            # Places and nationalities speak only through the rules ("Israel said"), never as a guess.
            if lo <= m.tok_start < hi and not (a <= m.tok_start < b) and m.label in ("PERSON", "ORG"):
                spans[(m.tok_start, m.tok_end)] = m.label
        for start, end in self.extra:
            if view.para_of[start] == view.para_of[a] or view.para_of[start] == view.para_of[b - 1]:
                if not (a <= start < b):
                    spans.setdefault((start, end), None)
        rule = (att.speaker_start, att.speaker_end) if att.speaker_start is not None else None
        if rule is not None:
            spans.setdefault(rule, self.label_at[rule[1] - 1].label if rule[1] - 1 in self.label_at else None)
        if previous is not None:
            spans.setdefault(previous, self.label_at[previous[1] - 1].label
                             if previous[1] - 1 in self.label_at else None)
        if not spans:
            return []
        cue = att.cue
        q_sent = doc[a].sent
        cue_sent = cue.sent if cue is not None else None
        ordered = sorted(spans)
        before = [s for s in ordered if s[1] <= a]
        person_starts = [m.tok_start for m in self.mentions if m.label == "PERSON"]
        out = []
        for (start, end) in ordered:
            label = spans[(start, end)]
            head = doc[end - 1]
            for t in doc[start:end]:
                if t.head.i < start or t.head.i >= end:
                    head = t
                    break
            if end <= a:
                distance = a - end
            elif start >= b:
                distance = start - b
            else:
                distance = 0
            is_rule = rule is not None and start < rule[1] and end > rule[0]
            is_prev = previous is not None and start < previous[1] and end > previous[0]
            mention = self.label_at.get(end - 1)
            words = [t.lower_ for t in doc[start:end]]
            role_like = any(" ".join(words[k:]) in ARTICLE_ROLES for k in range(len(words)))
            between_lo, between_hi = (end, a) if end <= a else (b, start)
            persons_between = sum(1 for p in person_starts if between_lo <= p < between_hi)
            prev_tok = doc[start - 1].lower_ if start > 0 else ""
            rank_before = len(before) - before.index((start, end)) if (start, end) in before else 0
            out.append(SpeakerCandidate(start, end, [
                float(is_rule), float(rule is not None), float(_KIND_CODE.get(att.kind, 0)),
                float(cue is not None), float(cue is not None and cue.i >= b),
                float(att.continues_previous),
                float(_type_code(doc, start, end, label)), float(_LABEL_CODE.get(label or "", 0)),
                float(role_like), float(head.dep_ in ("nsubj", "nsubjpass")),
                float(cue is not None and head.head.i == cue.i),
                float(head.head.lower_ in CUE_FORMS and head.head.i != head.i),
                float(_DEP_CODE.get(head.dep_, 0)),
                float(distance if end <= a else -distance if start >= b else 0),
                math.log1p(distance), float(end <= a),
                float(doc[start].sent.start == q_sent.start),
                float(cue_sent is not None and doc[start].sent.start == cue_sent.start),
                float(para - view.para_of[start]),
                float(rank_before), float(persons_between), float(is_prev),
                math.log1p(self.count.get(mention.canonical, 0) if mention is not None else 0),
                float(prev_tok in ("told", "by", "to", "asked", "with")),
                float(start == view.para_tok[view.para_of[start]][0] or start == view.body_tok[view.para_of[start]]),
                float(len(spans)),
                float(abs(cue.i - start)) if cue is not None else -1.0,
                float(head.pos_ == "PROPN"), float(end - start), float(att.confidence),
            ]))
        return out


def token_range(doc: Doc, start: int, end: int) -> tuple[int, int]:
    span = doc.char_span(start, end, alignment_mode="expand")
    return (span.start, span.end) if span is not None else (0, 0)


def choose_speakers(doc: Doc, view: _DocView, mentions: list[Mention], attributions: list[Attribution],
                    model, margin: float) -> int:
    """Move attributions to the model's speaker where it beats the rule's by ``margin``.

    Returns how many attributions changed speaker. ``model.scores(rows)`` gives one
    probability per candidate row.
    """
    if not attributions or view is None:
        return 0
    builder = CandidateBuilder(doc, view, mentions)
    previous: tuple[int, int] | None = None
    previous_end = 0  # token end of the last direct quote
    changed = 0
    for att in attributions:
        a, b = token_range(doc, att.start, att.end)
        if b <= a:
            continue
        if att.continues_previous and previous is not None and _continues(builder, previous_end, a):
            # News convention: a quotation paragraph with no cue goes on with the previous
            # speaker when nobody else was named since; the rules keep that case.
            pass
        else:
            candidates = builder.candidates(att, a, b, previous)
            if candidates:
                scores = model.scores([c.features for c in candidates])
                best = max(range(len(candidates)), key=scores.__getitem__)
                rule_score = max((s for c, s in zip(candidates, scores) if c.features[0]), default=None)
                choice = candidates[best]
                # With no rule speaker the resolver still has a fallback (the previous paragraph's
                # subject): the model replaces it only when it is more likely right than not.
                if not choice.features[0] and (scores[best] - rule_score >= margin if rule_score is not None
                                               else scores[best] >= max(0.5, margin)):
                    att.speaker_start, att.speaker_end = choice.start, choice.end
                    att.continues_previous = False
                    changed += 1
        if att.speaker_start is not None:
            previous = (att.speaker_start, att.speaker_end)
        if att.kind == "direct":
            previous_end = b
    return changed


def _continues(builder: CandidateBuilder, previous_end: int, a: int) -> bool:
    """The rules' continuation test: at most two paragraphs on, no person named outside quotes between."""
    view = builder.view
    if previous_end <= 0 or view.para_of[a] - view.para_of[previous_end - 1] > 2:
        return False
    return not any(previous_end <= m.tok_start < a for m in builder.mentions if m.label == "PERSON")
