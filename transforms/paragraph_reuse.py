"""Parse a near copy's paragraphs only where they differ from a text parsed in the same batch.

Syndicated and updated articles repeat most of their paragraphs (an added line, a new headline,
a corrected sentence). Within one NLP batch, a text whose leading and/or trailing paragraphs are
the very characters of an earlier text's takes those paragraphs' tokens, tags, parse and entities
from that text's Doc and only the paragraphs in between go through spaCy; the pieces are joined
into one Doc of exactly its text, so the rules and the learned layer still read the whole article
(speakers across paragraphs, pronouns to earlier names, the article's entity summary).

Cuts are made only at paragraph starts (after a line break): the parser never joins sentences
across a line break (``nlp.paragraph_breaks``), so a reused paragraph's parse is the one it would
get in the copy; only tok2vec's window (4 tokens each side) sees across the cut, which
bench/nlp_cuts.py measures (quotes and entities of copies, reused vs parsed whole).

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


@dataclass(frozen=True)
class Reuse:
    """Text ``base`` (an earlier index in the batch, parsed whole) gives this text its first
    ``prefix`` and last ``suffix`` characters; ``text[prefix:len - suffix]`` is parsed."""
    base: int
    prefix: int
    suffix: int


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
    # Prefix: whole paragraphs, ending where a paragraph starts in both texts.
    limit = _common_prefix(base, copy)
    prefix = max((s for s in starts_copy if s <= limit and s in starts_base), default=0)
    # Suffix: from a paragraph start in both texts, not overlapping the prefix in either.
    limit = min(_common_suffix(base, copy), len(copy) - prefix, len(base) - prefix)
    suffix = 0
    for s in starts_copy:
        length = len(copy) - s
        if length <= limit and (len(base) - length) in starts_base:
            suffix = length
            break
    if prefix + suffix == len(copy) or prefix + suffix < min_share * len(copy):
        return None  # nothing new to parse would mean equal texts; too little shared is not worth it
    return Reuse(0, prefix, suffix)


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
                best = Reuse(i, found.prefix, found.suffix)
        if best is not None:
            plan[j] = best
            continue
        by_first.setdefault(first, []).append(j)
        by_last.setdefault(last, []).append(j)
    return plan


def _piece(doc: Doc, start: int, end: int) -> Doc | None:
    span = doc.char_span(start, end)
    return None if span is None else span.as_doc()


def assemble(text: str, base: Doc, reuse: Reuse, middle: Doc) -> Doc | None:
    """The Doc of ``text`` from ``base``'s reused paragraphs and the parsed ``middle``, or None
    when a piece does not fall on token boundaries (the caller parses the text whole)."""
    from spacy.tokens import Doc

    pieces = []
    if reuse.prefix:
        pieces.append(_piece(base, 0, reuse.prefix))
    if len(middle):
        pieces.append(middle)
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
    middles = [texts[i][plan[i].prefix:len(texts[i]) - plan[i].suffix] for i in partial]
    for i, middle in zip(partial, nlp.pipe(middles, batch_size=max(1, len(partial)))):
        docs[i] = assemble(texts[i], docs[plan[i].base], plan[i], middle)
    failed = [i for i, d in enumerate(docs) if d is None]
    for i, doc in zip(failed, nlp.pipe([texts[i] for i in failed], batch_size=max(1, len(failed)))):
        docs[i] = doc
    return docs
