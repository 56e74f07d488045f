"""Exact copies follow their original: same bytes of text, same quotes and entities.

NLP runs once per distinct text. A copy whose original is in this run takes the original's
extraction; a copy of an earlier run's row (or whose text differs in case or quote marks) is
extracted itself. Plain functions over CoGroupByKey results; transforms/copies_beam.py wires them.
"""
from __future__ import annotations

import hashlib

from apache_beam.pvalue import TaggedOutput

FOLLOW = "follow"


def exact_text_key(article: dict) -> str:
    """Same bytes of text -> same offsets: only then can a copy reuse its original's quotes
    (content_hash folds case and quote marks, which would shift nothing but change the text)."""
    return hashlib.blake2b(article["text"].encode("utf-8"), digest_size=12).hexdigest()


def follow_or_extract(element):
    """(original item_id, {primary: [text key]|[], copies: [copy, ...]}) -> copies with the very
    same text as their original in this run, tagged FOLLOW; the others, to be extracted."""
    original_id, grouped = element
    original_keys = set(grouped["primary"])
    for copy in grouped["copies"]:
        if exact_text_key(copy) in original_keys:
            yield TaggedOutput(FOLLOW, (original_id, copy))
        else:
            yield copy


def copy_extraction(element):
    """(original item_id, {done: [{quotes, entities}], follow: [copy, ...]}) -> each copy with
    its original's quotes and entities (same text, same offsets)."""
    _, grouped = element
    originals = list(grouped["done"])
    for copy in grouped["follow"]:
        if originals:
            yield {**copy, **originals[0]}
        else:  # the original became a reject: the copy is still an article, without quotes
            yield copy
