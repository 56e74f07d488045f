"""One document's token attributes as plain lists, taken once and shared by the extraction stages.

Reading ``token.pos_`` or ``token.children`` makes a Python ``Token`` object per access (the
largest single cost of the rule layer after the parse). The candidate builders of the learned
layer test these attributes on most tokens of an article but keep few of them, so they test on
these lists (``Doc.to_array``: one C pass) and make a ``Token`` only for what they keep. The
values are the parse's own, so every test answers as the ``Token`` attribute would.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from spacy.strings import get_string_id
from spacy.tokens import Doc


@dataclass(frozen=True)
class TokenArrays:
    pos: list[int]         # universal POS ids (spacy.symbols.NOUN, ...)
    dep: list[int]         # dependency label hashes
    lower: list[int]       # lower-case form hashes
    head: list[int]        # absolute index of each token's head (the root heads itself)
    sent_start: list[int]  # first token of each token's sentence
    sent_end: list[int]    # end (exclusive) of each token's sentence
    sent_no: list[int]     # number of each token's sentence (0 for the first)
    strings: object        # the vocab's StringStore: hash -> text
    columns: object        # numpy uint64 array, one row per token: POS, DEP, LOWER
    heads: object          # numpy int64 array: ``head`` as an array

    def word(self, i: int) -> str:
        """``doc[i].lower_``."""
        return self.strings[self.lower[i]]


def token_arrays(doc: Doc) -> TokenArrays:
    import numpy
    from spacy.attrs import DEP, HEAD, LOWER, POS, SENT_START

    n = len(doc)
    if not n:
        return TokenArrays([], [], [], [], [], [], [], doc.vocab.strings, numpy.zeros((0, 3), dtype=numpy.uint64),
                           numpy.zeros(0, dtype=numpy.int64))
    array = doc.to_array([POS, DEP, LOWER, HEAD, SENT_START])
    # HEAD and SENT_START are signed offsets stored in the unsigned array: reinterpret them.
    signed = array[:, 3:5].astype(numpy.int64)
    heads = numpy.arange(n, dtype=numpy.int64) + signed[:, 0]
    # Token.sent: a sentence starts at token 0 and at every token whose SENT_START is 1.
    is_start = signed[:, 1] == 1
    is_start[0] = True
    starts = numpy.flatnonzero(is_start)
    number = numpy.cumsum(is_start) - 1
    ends = numpy.append(starts[1:], n)
    return TokenArrays(array[:, 0].tolist(), array[:, 1].tolist(), array[:, 2].tolist(), heads.tolist(),
                       starts[number].tolist(), ends[number].tolist(), number.tolist(), doc.vocab.strings,
                       array[:, :3], heads)


@functools.lru_cache(maxsize=64)
def form_hashes(forms: frozenset[str]) -> "object":
    """The forms' string ids as ``StringStore.add`` gives them (the symbol id for a symbol such as
    "nsubj", else the hash: the same in every vocab) as a sorted numpy uint64 array, once per form
    set: what ``in_sorted`` looks columns of ``Doc.to_array`` up in."""
    import numpy

    return numpy.unique(numpy.array([get_string_id(f) for f in forms], dtype=numpy.uint64))


def in_sorted(values, column) -> "object":
    """``numpy.isin(column, values)`` for a sorted ``values`` (isin sorts both sides on every call)."""
    import numpy

    if not len(values):
        return numpy.zeros(len(column), dtype=bool)
    at = numpy.searchsorted(values, column)
    at[at == len(values)] = 0
    return values[at] == column
