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
# Candidates kept per attribution: the nearest before the quote and after it (plus the rule's
# and the previous speaker's spans). Farther ones are almost never the source and cost time.
NEAREST_BEFORE, NEAREST_AFTER = 6, 3

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
        self._extra: dict[int, list[tuple[int, int]]] = {}  # paragraph -> pronouns, nominal subjects
        self._static_cache: dict[tuple[int, int], tuple] = {}
        self.person_starts = [m.tok_start for m in self.mentions if m.label == "PERSON"]
        self._sent: dict[int, int] = {}  # token -> sentence number, filled per paragraph

    def _paragraph(self, p: int) -> list[tuple[int, int]]:
        """Pronouns and nominal subjects outside quotes of paragraph p; numbers its sentences."""
        found = self._extra.get(p)
        if found is not None:
            return found
        doc, view = self.doc, self.view
        p_start, p_end = view.para_tok[p]
        found = []
        number = p_start  # sentence numbers only need to differ within a paragraph window
        for token in doc[p_start:p_end]:
            i = token.i
            if token.is_sent_start:
                number = i
            self._sent[i] = number
            if view.in_quote[i] or i in self.label_at:
                continue
            if token.pos_ == "PRON" and token.lower_ in ("he", "she", "they", "it", "i", "we"):
                found.append((i, i + 1))
            elif token.dep_ in ("nsubj", "nsubjpass") and token.pos_ == "NOUN":
                found.append(speaker_tokens(token, p_start, p_end))
        self._extra[p] = found
        return found

    def sentence(self, i: int) -> int:
        if i not in self._sent:
            self._paragraph(self.view.para_of[i])
        return self._sent[i]

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
        for p in {view.para_of[a], view.para_of[b - 1]}:
            for start, end in self._paragraph(p):
                if not (a <= start < b):
                    spans.setdefault((start, end), None)
        rule = (att.speaker_start, att.speaker_end) if att.speaker_start is not None else None
        if rule is not None:
            spans.setdefault(rule, self.label_at[rule[1] - 1].label if rule[1] - 1 in self.label_at else None)
        before_quote = sorted((s for s in spans if s[1] <= a), key=lambda s: a - s[1])[:NEAREST_BEFORE]
        after_quote = sorted((s for s in spans if s[0] >= b), key=lambda s: s[0] - b)[:NEAREST_AFTER]
        spans = {s: spans[s] for s in before_quote + after_quote}
        if rule is not None:
            spans.setdefault(rule, self.label_at[rule[1] - 1].label if rule[1] - 1 in self.label_at else None)
        if previous is not None:
            spans.setdefault(previous, self.label_at[previous[1] - 1].label
                             if previous[1] - 1 in self.label_at else None)
        if not spans:
            return []
        cue = att.cue
        sentence = self.sentence
        q_sent = sentence(a)
        cue_sent = sentence(cue.i) if cue is not None else None
        cue_i = cue.i if cue is not None else -1
        ordered = sorted(spans)
        before = [s for s in ordered if s[1] <= a]
        rank = {span: len(before) - k for k, span in enumerate(before)}
        person_starts = self.person_starts
        shared = [float(rule is not None), float(_KIND_CODE.get(att.kind, 0)), float(cue is not None),
                  float(cue is not None and cue_i >= b), float(att.continues_previous)]
        out = []
        for (start, end) in ordered:
            static = self._static(start, end, spans[(start, end)])
            head_i, head_head_i = static[0], static[1]
            if end <= a:
                distance = a - end
            elif start >= b:
                distance = start - b
            else:
                distance = 0
            is_rule = rule is not None and start < rule[1] and end > rule[0]
            is_prev = previous is not None and start < previous[1] and end > previous[0]
            between_lo, between_hi = (end, a) if end <= a else (b, start)
            persons_between = sum(1 for p in person_starts if between_lo <= p < between_hi)
            out.append(SpeakerCandidate(start, end, [
                float(is_rule), *shared,
                static[2], static[3], static[4], static[5],
                float(cue is not None and head_head_i == cue_i),
                static[6], static[7],
                float(distance if end <= a else -distance if start >= b else 0),
                math.log1p(distance), float(end <= a),
                float(sentence(start) == q_sent),
                float(cue_sent is not None and sentence(start) == cue_sent),
                float(para - static[8]),
                float(rank.get((start, end), 0)), float(persons_between), float(is_prev),
                static[9], static[10], static[11],
                float(len(spans)),
                float(abs(cue_i - start)) if cue is not None else -1.0,
                static[12], float(end - start), float(att.confidence),
            ]))
        return out

    def _static(self, start: int, end: int, label: str | None) -> tuple:
        """Features of a candidate span that do not depend on the attribution (cached)."""
        key = (start, end)
        found = self._static_cache.get(key)
        if found is not None:
            return found
        doc, view = self.doc, self.view
        head = doc[end - 1]
        for t in doc[start:end]:
            if t.head.i < start or t.head.i >= end:
                head = t
                break
        governor = head.head
        words = [t.lower_ for t in doc[start:end]]
        mention = self.label_at.get(end - 1)
        p = view.para_of[start]
        found = (
            head.i, governor.i,
            float(_type_code(doc, start, end, label)), float(_LABEL_CODE.get(label or "", 0)),
            float(any(" ".join(words[k:]) in ARTICLE_ROLES for k in range(len(words)))),
            float(head.dep_ in ("nsubj", "nsubjpass")),
            float(governor.lower_ in CUE_FORMS and governor.i != head.i),
            float(_DEP_CODE.get(head.dep_, 0)),
            p,
            math.log1p(self.count.get(mention.canonical, 0) if mention is not None else 0),
            float(start > 0 and doc[start - 1].lower_ in ("told", "by", "to", "asked", "with")),
            float(start == view.para_tok[p][0] or start == view.body_tok[p]),
            float(head.pos_ == "PROPN"),
        )
        self._static_cache[key] = found
        return found


def token_range(doc: Doc, start: int, end: int) -> tuple[int, int]:
    span = doc.char_span(start, end, alignment_mode="expand")
    return (span.start, span.end) if span is not None else (0, 0)


def choose_speakers(doc: Doc, view: _DocView, mentions: list[Mention], attributions: list[Attribution],
                    model, margin: float) -> int:
    """Move attributions to the model's speaker where it beats the rule's by ``margin``.

    All candidates of the document are scored in one model call (the "previous speaker" of
    each attribution is therefore the rules' one). Returns how many changed speaker.
    """
    if not attributions or view is None:
        return 0
    builder = CandidateBuilder(doc, view, mentions)
    previous: tuple[int, int] | None = None  # the rules' previous speaker span
    previous_end = 0  # token end of the last direct quote
    groups: list[tuple[Attribution, list[SpeakerCandidate]]] = []
    for att in attributions:
        a, b = token_range(doc, att.start, att.end)
        if b <= a:
            continue
        continues = att.continues_previous and previous is not None and _continues(builder, previous_end, a)
        # News convention: a quotation paragraph with no cue goes on with the previous speaker
        # when nobody else was named since; the rules keep that case.
        if not continues:
            if att.speaker_start is None:
                # The resolver's fallback for a cue-less quote is the person the previous
                # paragraph is about: that is the rules' candidate the model must beat.
                fallback = _previous_paragraph_subject(builder, a)
                if fallback is not None:
                    att.speaker_start, att.speaker_end = fallback
            # A cue-less quote after somebody else was named is not the previous speaker's.
            candidates = builder.candidates(att, a, b, None if att.continues_previous else previous)
            if candidates:
                groups.append((att, candidates))
        if att.speaker_start is not None:
            previous = (att.speaker_start, att.speaker_end)
        if att.kind == "direct":
            previous_end = b
    if not groups:
        return 0
    scores = model.scores([c.features for _, candidates in groups for c in candidates])
    changed = k = 0
    for att, candidates in groups:
        group_scores = scores[k:k + len(candidates)]
        k += len(candidates)
        best = max(range(len(candidates)), key=group_scores.__getitem__)
        rule_score = max((s for c, s in zip(candidates, group_scores) if c.features[0]), default=None)
        choice = candidates[best]
        # With no rule speaker the resolver still has a fallback (the previous paragraph's
        # subject): the model replaces it only when it is more likely right than not.
        if not choice.features[0] and (group_scores[best] - rule_score >= margin if rule_score is not None
                                       else group_scores[best] >= max(0.5, margin)):
            att.speaker_start, att.speaker_end = choice.start, choice.end
            att.continues_previous = False
            changed += 1
    return changed


def _previous_paragraph_subject(builder: CandidateBuilder, a: int) -> tuple[int, int] | None:
    """Token range of the last person named as a subject in the paragraph before token a."""
    view = builder.view
    here = view.para_of[a]
    if here == 0:
        return None
    lo, hi = view.para_tok[here - 1]
    found = None
    for m in builder.mentions:
        if m.label == "PERSON" and m.is_subject and lo <= m.tok_start < hi:
            found = (m.tok_start, m.tok_end)
    return found


def _continues(builder: CandidateBuilder, previous_end: int, a: int) -> bool:
    """The rules' continuation test: at most two paragraphs on, no person named outside quotes between."""
    view = builder.view
    if previous_end <= 0 or view.para_of[a] - view.para_of[previous_end - 1] > 2:
        return False
    return not any(previous_end <= m.tok_start < a for m in builder.mentions if m.label == "PERSON")
