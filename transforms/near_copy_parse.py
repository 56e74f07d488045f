"""Parse a near copy only where it differs from a text parsed in the same batch.

Syndicated and updated articles repeat most of their text (an added line, a new headline, a
corrected sentence). Within one NLP batch, a text whose leading and/or trailing sentences are the
very characters of an earlier text's takes those sentences' tokens, tags, parse and entities from
that text's Doc and only the part in between goes through spaCy; the pieces are joined into one
Doc of exactly its text, so the rules and the learned layer still read the whole article
(speakers across paragraphs, pronouns to earlier names, the article's entity summary).

Cuts fall where the earlier text's parse starts a sentence and no entity runs across, so no arc
or entity is cut. What does see across a cut - tok2vec's window of 4 tokens each side, the
parser's and NER's look-ahead - is kept equal with ``CONTEXT`` characters: a reused sentence ends
that far before the texts part, and the new part is parsed with whole sentences of its real
neighbours on each side, dropped again after the parse. bench/nlp_cuts.py --reuse measures what
is left (quotes and entities of copies, reused vs parsed whole; BBC and the 200 real feeds).

``plan_reuse`` is plain Python over the texts (which earlier text, how much is shared);
``choose_cuts`` picks the cuts on that text's Doc; ``parse_batch`` applies both with spaCy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

# Reuse only when at least this share of the copy's characters comes from the earlier Doc: below
# it, splitting and joining costs about what it saves.
MIN_REUSED_SHARE = 0.5
# Characters of identical text kept on both sides of every cut. tok2vec mixes 4 neighbouring
# tokens each side and the parser and NER read a few tokens ahead: a reused sentence must have
# had the copy's very neighbours in the base, and the parsed part is parsed with its real
# neighbours (whole sentences of context, dropped after the parse). Measured: without it,
# entities at a cut differed in 7 of 24 real-feed copies (bench/RESULTS.md).
CONTEXT = 200


@dataclass(frozen=True)
class Match:
    """Text ``base`` (an earlier index in the batch, parsed whole) starts with this text's first
    ``shared_prefix`` characters and ends with its last ``shared_suffix`` (not overlapping)."""
    base: int
    shared_prefix: int
    shared_suffix: int


@dataclass(frozen=True)
class Reuse:
    """Text ``base`` gives this text its first ``prefix`` and last ``suffix`` characters;
    ``text[left:right]`` is parsed (the new part with a sentence or more of context on each
    side) and its tokens between the cuts are kept."""
    base: int
    prefix: int
    suffix: int
    left: int = 0
    right: int = 0


_PARAGRAPH_START = re.compile(r"\n(?=[^\n])")


def paragraph_starts(text: str) -> list[int]:
    """Offsets where a paragraph starts: 0 and every position right after a run of line breaks
    (not the end of the text)."""
    return [0] + [m.end() for m in _PARAGRAPH_START.finditer(text)]


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


def reuse_between(base: str, copy: str, min_share: float = MIN_REUSED_SHARE) -> Match | None:
    """How much of ``copy`` ``base`` shares at its start and end (``Match.base`` left 0), or None
    when the texts are equal or, even with the margins, less than ``min_share`` could be reused."""
    if not copy or base == copy:
        return None
    prefix = _common_prefix(base, copy)
    suffix = min(_common_suffix(base, copy), len(copy) - prefix, len(base) - prefix)
    usable = max(0, prefix - CONTEXT) + max(0, suffix - CONTEXT)
    if usable < min_share * len(copy):
        return None
    return Match(0, prefix, suffix)


def plan_reuse(texts: Sequence[str], min_share: float | None = None) -> list[Match | None]:
    """For each text: None (parse it whole) or the earlier text of the batch it can reuse.

    Candidates share the first or the last paragraph; a base is always a text parsed whole
    (no chains), the one sharing the most characters wins, the earliest on a tie."""
    min_share = MIN_REUSED_SHARE if min_share is None else min_share
    plan: list[Match | None] = [None] * len(texts)
    by_first: dict[str, list[int]] = {}
    by_last: dict[str, list[int]] = {}
    for j, text in enumerate(texts):
        if not text or not isinstance(text, str):
            continue  # parsed whole: what is not a text fails in spaCy, as it always did
        starts = paragraph_starts(text)
        first = text[:starts[1]] if len(starts) > 1 else text
        last = text[starts[-1]:]
        best: Match | None = None
        for i in dict.fromkeys(by_first.get(first, []) + by_last.get(last, [])):
            found = reuse_between(texts[i], text, min_share)
            if found and (best is None or found.shared_prefix + found.shared_suffix
                          > best.shared_prefix + best.shared_suffix):
                best = Match(i, found.shared_prefix, found.shared_suffix)
        if best is not None:
            plan[j] = best
            continue
        by_first.setdefault(first, []).append(j)
        by_last.setdefault(last, []).append(j)
    return plan


def sentence_starts(doc: Doc) -> numpy.ndarray:
    """Character offsets where ``doc``'s sentences start after the first, with no entity across
    (a cut there splits no arc and no entity), sorted."""
    from spacy.attrs import ENT_IOB, IDX, SENT_START

    arr = doc.to_array([IDX, SENT_START, ENT_IOB])
    # ENT_IOB 1 = inside an entity: a token that continues one is no place to cut.
    keep = (arr[:, 1] == 1) & (arr[:, 2].astype("int64") != 1)
    keep[0] = False
    return arr[keep, 0].astype("int64")


def choose_cuts(match: Match, base_starts: numpy.ndarray, base_len: int, copy_len: int,
                min_share: float | None = None) -> Reuse | None:
    """The cuts for a copy of length ``copy_len`` reusing a text of ``base_len`` characters whose
    clean sentence starts are ``base_starts``; None when too little would be reused."""
    min_share = MIN_REUSED_SHARE if min_share is None else min_share
    shift = copy_len - base_len  # a base offset in the shared suffix + shift = the copy's offset
    suffix_from = base_len - match.shared_suffix  # where the shared suffix starts in the base
    # Prefix: up to the last sentence start CONTEXT characters before the texts part.
    before = base_starts[base_starts <= match.shared_prefix - CONTEXT]
    prefix = int(before[-1]) if len(before) else 0
    # Suffix: from the first sentence start CONTEXT characters after the texts meet again, not
    # overlapping the prefix in either text.
    after = base_starts[(base_starts >= suffix_from + CONTEXT) & (base_starts >= prefix)
                        & (base_starts + shift >= prefix)]
    suffix = base_len - int(after[0]) if len(after) else 0
    if prefix + suffix >= copy_len or prefix + suffix < min_share * copy_len:
        return None
    end = copy_len - suffix
    # Context: whole sentences of shared text, CONTEXT characters or more on each side.
    left_at = base_starts[base_starts <= prefix - CONTEXT]
    left = int(left_at[-1]) if prefix and len(left_at) else 0
    right_at = base_starts[(base_starts >= suffix_from) & (base_starts + shift >= end + CONTEXT)]
    right = int(right_at[0]) + shift if suffix and len(right_at) else copy_len
    return Reuse(match.base, prefix, suffix, left, right)


# What a piece carries into the joined Doc: everything the pipeline sets on tokens. HEAD is
# relative, so a piece's arcs stay its own (cuts fall between sentences).
_PIECE_ATTRS = ("TAG", "POS", "MORPH", "LEMMA", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE", "ENT_KB_ID", "ENT_ID")
# Read from a piece in one pass: offsets and forms (to place and check the cut), then _PIECE_ATTRS.
_READ_ATTRS = ("IDX", "ORTH", "SPACY", *_PIECE_ATTRS)


def _tokens(doc: Doc, start: int, end: int, idx: numpy.ndarray, length: int) -> tuple[int, int] | None:
    """Token range of characters [start, end) of ``doc`` (token offsets ``idx``, ``length``
    characters), or None when a cut inside it is not a clean one (``_clean_cut``)."""
    bounds = []
    for char in (start, end):
        if char == length:
            bounds.append(len(doc))
            continue
        i = int(numpy.searchsorted(idx, char))
        if i == len(idx) or idx[i] != char or (i and not _clean_cut(doc, i)):
            return None
        bounds.append(i)
    return bounds[0], bounds[1]


def _clean_cut(doc: Doc, i: int) -> bool:
    """Token ``i`` starts a sentence and continues no entity (so no arc or entity is cut)."""
    token = doc[i]
    return bool(token.is_sent_start) and token.ent_iob_ != "I"


def assemble(nlp: Language, text: str, base: Doc, base_len: int, reuse: Reuse, middle: Doc) -> Doc | None:
    """The Doc of ``text`` from ``base``'s reused sentences and ``middle`` (the parse of
    ``text[reuse.left:reuse.right]``), or None when a cut does not fall cleanly between
    sentences (the caller parses the text whole)."""
    end = len(text) - reuse.suffix
    middle_len = reuse.right - reuse.left
    pieces = []  # (doc, its length in characters, first character, end character)
    if reuse.prefix:
        pieces.append((base, base_len, 0, reuse.prefix))
    pieces.append((middle, middle_len, reuse.prefix - reuse.left, end - reuse.left))
    if reuse.suffix:
        pieces.append((base, base_len, base_len - reuse.suffix, base_len))
    read: dict[int, tuple] = {}  # base gives the prefix and the suffix: read it once
    arrays = []
    for doc, length, start, stop in pieces:
        if id(doc) not in read:
            array = doc.to_array(list(_READ_ATTRS))
            read[id(doc)] = array, array[:, 0].astype("int64")
        array, offsets = read[id(doc)]
        span = _tokens(doc, start, stop, offsets, length)
        if span is None:
            return None
        arrays.append(array[span[0]:span[1]])
    joined_array = numpy.concatenate(arrays)
    joined = nlp.make_doc(text)
    if not numpy.array_equal(joined_array[:, 1:3], joined.to_array(["ORTH", "SPACY"])):
        return None  # the copy tokenises differently at a cut: parse it whole
    joined.from_array(list(_PIECE_ATTRS), joined_array[:, 3:])
    return joined


def plan_cuts(matches: Sequence[Match | None], docs: Sequence[Doc | None], texts: Sequence[str],
              min_share: float | None = None) -> dict[int, Reuse]:
    """The cuts of every matched text whose base is parsed (``docs``), by text index."""
    starts: dict[int, numpy.ndarray] = {}
    plan: dict[int, Reuse] = {}
    for i, match in enumerate(matches):
        if match is None or docs[match.base] is None:
            continue
        if match.base not in starts:
            starts[match.base] = sentence_starts(docs[match.base])
        reuse = choose_cuts(match, starts[match.base], len(texts[match.base]), len(texts[i]), min_share)
        if reuse is not None:
            plan[i] = reuse
    return plan


def parse_planned(nlp: Language, texts: list[str],
                  min_share: float | None = None) -> tuple[list[Doc | None], dict[int, Reuse]]:
    """Parse the texts no earlier text of the batch can give sentences to; returns their Docs
    (None for the others) and the cuts of the texts that will be parsed in part."""
    matches = plan_reuse(texts, min_share)
    docs: list[Doc | None] = [None] * len(texts)
    whole = [i for i, m in enumerate(matches) if m is None]
    for i, doc in zip(whole, nlp.pipe([texts[i] for i in whole], batch_size=max(1, len(whole)))):
        docs[i] = doc
    # The cuts fall where the earlier text's parse starts a sentence: chosen now it is parsed.
    return docs, plan_cuts(matches, docs, texts, min_share)


def parse_batch(nlp: Language, texts: list[str], min_share: float | None = None) -> list[Doc]:
    """``list(nlp.pipe(texts))``, with near copies in the batch parsed only where they differ."""
    docs, plan = parse_planned(nlp, texts, min_share)
    partial = list(plan)
    middles = [texts[i][plan[i].left:plan[i].right] for i in partial]
    for i, middle in zip(partial, nlp.pipe(middles, batch_size=max(1, len(partial)))):
        base = plan[i].base
        docs[i] = assemble(nlp, texts[i], docs[base], len(texts[base]), plan[i], middle)
    failed = [i for i, d in enumerate(docs) if d is None]
    for i, doc in zip(failed, nlp.pipe([texts[i] for i in failed], batch_size=max(1, len(failed)))):
        docs[i] = doc
    return docs
