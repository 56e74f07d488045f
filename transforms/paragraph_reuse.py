"""Parse a near copy's paragraphs only where they differ from a text parsed in the same batch.

Syndicated and updated articles repeat most of their paragraphs (an added line, a new headline,
a corrected sentence). Within one NLP batch, a text whose leading and/or trailing paragraphs are
the very characters of an earlier text's takes those paragraphs' tokens, tags, parse and entities
from that text's Doc and only the paragraphs in between go through spaCy; the pieces are joined
into one Doc of exactly its text, so the rules and the learned layer still read the whole article
(speakers across paragraphs, pronouns to earlier names, the article's entity summary).

Cuts are made only at paragraph starts (after a line break), where the parser starts a sentence
(``nlp.paragraph_breaks``), so no arc crosses a cut. What does see across it - tok2vec's window
of 4 tokens each side, the parser's and NER's look-ahead - is kept equal with ``CONTEXT``
characters: a reused paragraph ends that far before the texts part, and the new part is parsed
with whole paragraphs of its real neighbours, dropped again after the parse. bench/nlp_cuts.py
--reuse measures what is left (quotes and entities of copies, reused vs parsed whole).

``plan_reuse`` is plain Python over the texts; ``parse_batch`` applies it with spaCy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Reuse only when at least this share of the copy's characters comes from the earlier Doc: below
# it, splitting and joining costs about what it saves.
MIN_REUSED_SHARE = 0.5
# Characters of identical text kept on both sides of every cut. tok2vec mixes 4 neighbouring
# tokens each side and the parser and NER read a few tokens ahead: a reused paragraph must have
# had the copy's very neighbours in the base, and the parsed part is parsed with its real
# neighbours (whole paragraphs of context, dropped after the parse). Measured: without it,
# entities at a cut differed in 7 of 24 real-feed copies (bench/RESULTS.md).
CONTEXT = 200


@dataclass(frozen=True)
class Reuse:
    """Text ``base`` (an earlier index in the batch, parsed whole) gives this text its first
    ``prefix`` and last ``suffix`` characters; ``text[left:right]`` is parsed (the new part with a
    paragraph or more of context on each side) and its tokens between the cuts are kept."""
    base: int
    prefix: int
    suffix: int
    left: int = 0
    right: int = 0


def paragraph_starts(text: str) -> list[int]:
    """Offsets where a paragraph starts: 0 and every position right after a run of line breaks
    (not the end of the text)."""
    starts = [0]
    for i in range(1, len(text)):
        if text[i - 1] == "\n" and text[i] != "\n":
            starts.append(i)
    return starts


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:  # binary search on slices: C-speed comparisons
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:] == b[len(b) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def reuse_between(base: str, copy: str, min_share: float = MIN_REUSED_SHARE) -> Reuse | None:
    """How ``copy`` can reuse ``base``'s leading and trailing paragraphs (``Reuse.base`` left 0),
    or None when less than ``min_share`` of it would be reused or the texts are equal."""
    if not copy or base == copy:
        return None
    starts_copy = paragraph_starts(copy)
    starts_base = set(paragraph_starts(base))
    # Prefix: whole paragraphs, ending where a paragraph starts in both texts, CONTEXT characters
    # before the texts part.
    limit = _common_prefix(base, copy) - CONTEXT
    prefix = max((s for s in starts_copy if s <= limit and s in starts_base), default=0)
    # Suffix: from a paragraph start in both texts, CONTEXT characters after they meet again, not
    # overlapping the prefix in either.
    limit = min(_common_suffix(base, copy) - CONTEXT, len(copy) - prefix, len(base) - prefix)
    suffix = 0
    for s in starts_copy:
        length = len(copy) - s
        if 0 < length <= limit and (len(base) - length) in starts_base:
            suffix = length
            break
    if prefix + suffix == len(copy) or prefix + suffix < min_share * len(copy):
        return None  # nothing new to parse would mean equal texts; too little shared is not worth it
    end = len(copy) - suffix
    left = max((s for s in starts_copy if s <= prefix - CONTEXT), default=0)
    right = min((s for s in starts_copy if s >= end + CONTEXT), default=len(copy))
    return Reuse(0, prefix, suffix, left, right)


def plan_reuse(texts: Sequence[str], min_share: float | None = None) -> list[Reuse | None]:
    """For each text: None (parse it whole) or the earlier text of the batch it reuses.

    Candidates share the first or the last paragraph; a base is always a text parsed whole
    (no chains), the one giving the most characters wins, the earliest on a tie."""
    min_share = MIN_REUSED_SHARE if min_share is None else min_share
    plan: list[Reuse | None] = [None] * len(texts)
    by_first: dict[str, list[int]] = {}
    by_last: dict[str, list[int]] = {}
    for j, text in enumerate(texts):
        if not text or not isinstance(text, str):
            continue  # parsed whole: what is not a text fails in spaCy, as it always did
        starts = paragraph_starts(text)
        first = text[:starts[1]] if len(starts) > 1 else text
        last = text[starts[-1]:]
        best: Reuse | None = None
        for i in dict.fromkeys(by_first.get(first, []) + by_last.get(last, [])):
            found = reuse_between(texts[i], text, min_share)
            if found and (best is None or found.prefix + found.suffix > best.prefix + best.suffix):
                best = Reuse(i, found.prefix, found.suffix, found.left, found.right)
        if best is not None:
            plan[j] = best
            continue
        by_first.setdefault(first, []).append(j)
        by_last.setdefault(last, []).append(j)
    return plan


def _clean_cut(doc: Doc, char: int) -> bool:
    """A sentence starts at ``char`` and no entity runs across it (so no arc or entity is cut)."""
    if char <= 0 or char >= len(doc.text):
        return True
    span = doc.char_span(char, len(doc.text))
    return (span is not None and bool(span[0].is_sent_start)
            and not any(e.start_char < char < e.end_char for e in doc.ents))


def _piece(doc: Doc, start: int, end: int) -> Doc | None:
    if not (_clean_cut(doc, start) and _clean_cut(doc, end)):
        return None
    span = doc.char_span(start, end)
    return None if span is None else span.as_doc()


def assemble(text: str, base: Doc, reuse: Reuse, middle: Doc) -> Doc | None:
    """The Doc of ``text`` from ``base``'s reused paragraphs and ``middle`` (the parse of
    ``text[reuse.left:reuse.right]``), or None when a cut does not fall cleanly between
    sentences (the caller parses the text whole)."""
    from spacy.tokens import Doc

    end = len(text) - reuse.suffix
    pieces = [_piece(middle, reuse.prefix - reuse.left, end - reuse.left)]
    if reuse.prefix:
        pieces.insert(0, _piece(base, 0, reuse.prefix))
    if reuse.suffix:
        pieces.append(_piece(base, len(base.text) - reuse.suffix, len(base.text)))
    if any(p is None for p in pieces):
        return None
    doc = Doc.from_docs(pieces, ensure_whitespace=False)
    return doc if doc.text == text else None


def parse_batch(nlp: Language, texts: list[str], min_share: float | None = None) -> list[Doc]:
    """``list(nlp.pipe(texts))``, with near copies in the batch parsed only where they differ."""
    plan = plan_reuse(texts, min_share)
    docs: list[Doc | None] = [None] * len(texts)
    whole = [i for i, p in enumerate(plan) if p is None]
    for i, doc in zip(whole, nlp.pipe([texts[i] for i in whole], batch_size=max(1, len(whole)))):
        docs[i] = doc
    partial = [i for i, p in enumerate(plan) if p is not None]
    middles = [texts[i][plan[i].left:plan[i].right] for i in partial]
    for i, middle in zip(partial, nlp.pipe(middles, batch_size=max(1, len(partial)))):
        docs[i] = assemble(texts[i], docs[plan[i].base], plan[i], middle)
    failed = [i for i, d in enumerate(docs) if d is None]
    for i, doc in zip(failed, nlp.pipe([texts[i] for i in failed], batch_size=max(1, len(failed)))):
        docs[i] = doc
    return docs
