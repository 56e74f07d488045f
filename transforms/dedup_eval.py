"""Dedup ground truth on the BBC corpus and pair scoring.

Corpus: ``<root>/<category>/<nnn>.txt``, first line = title, rest = body.
Gold pairs are derived without MinHash:

* exact copies: equal bodies after lowercasing and keeping only words;
* retitled copies: exact copies whose titles differ (after the same normalising);
* near copies: different bodies with exact 5-word-shingle Jaccard >= ``near``;
* related: Jaccard in [``related``, ``near``) -- updated versions of a story;
  a predicted related pair is neither a hit nor a false pair.

Any other predicted pair is false. Exact Jaccard is computed for every pair that
shares at least one rare shingle (in <= ``_RARE_DF`` documents); a pair above
0.2 Jaccard shares hundreds of shingles, so no pair in the gold range is missed.
"""
from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from transforms.minhash import shingles
from transforms.text import clean_text, content_hash

Pair = tuple[str, str]

NEAR_JACCARD = 0.8
RELATED_JACCARD = 0.5
_RARE_DF = 50
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class BbcDoc:
    doc_id: str  # "<category>/<nnn>"
    title: str
    body: str


@dataclass(frozen=True)
class GoldPairs:
    exact: frozenset[Pair]
    retitled: frozenset[Pair]
    near: frozenset[Pair]
    related: frozenset[Pair]

    @property
    def same_story(self) -> frozenset[Pair]:
        return self.exact | self.near


@dataclass(frozen=True)
class Score:
    exact_found: int
    exact_total: int
    retitled_found: int
    retitled_total: int
    near_found: int
    near_total: int
    related_found: int
    related_total: int
    false_pairs: int
    precision: float
    recall: float


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # one file in the corpus is Latin-1
        return raw.decode("latin-1")


def load_bbc(root: Path) -> list[BbcDoc]:
    docs = []
    for path in sorted(root.glob("*/*.txt")):
        title, _, body = _decode(path.read_bytes()).partition("\n")
        docs.append(BbcDoc(f"{path.parent.name}/{path.stem}", title.strip(), body.strip()))
    return docs


def _normalised(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def _similar_pairs(docs: list[BbcDoc], minimum: float) -> dict[Pair, float]:
    """Exact shingle Jaccard >= minimum for pairs sharing a rare shingle."""
    sets = {d.doc_id: shingles(d.body) for d in docs}
    holders: dict[str, list[str]] = defaultdict(list)
    for doc_id, shingle_set in sets.items():
        for shingle in shingle_set:
            holders[shingle].append(doc_id)
    candidates = {pair(a, b)
                  for ids in holders.values() if 1 < len(ids) <= _RARE_DF
                  for a, b in itertools.combinations(ids, 2)}
    similar = {}
    for a, b in candidates:
        jaccard = len(sets[a] & sets[b]) / len(sets[a] | sets[b])
        if jaccard >= minimum:
            similar[(a, b)] = jaccard
    return similar


def gold_pairs(docs: list[BbcDoc], near: float = NEAR_JACCARD,
               related: float = RELATED_JACCARD) -> GoldPairs:
    by_body: dict[str, list[BbcDoc]] = defaultdict(list)
    for doc in docs:
        by_body[_normalised(doc.body)].append(doc)
    exact, retitled = set(), set()
    for copies in by_body.values():
        for a, b in itertools.combinations(copies, 2):
            exact.add(pair(a.doc_id, b.doc_id))
            if _normalised(a.title) != _normalised(b.title):
                retitled.add(pair(a.doc_id, b.doc_id))
    similar = {p: j for p, j in _similar_pairs(docs, related).items() if p not in exact}
    return GoldPairs(
        exact=frozenset(exact),
        retitled=frozenset(retitled),
        near=frozenset(p for p, j in similar.items() if j >= near),
        related=frozenset(p for p, j in similar.items() if j < near),
    )


def story_pairs(story_of: dict[str, str]) -> set[Pair]:
    """All pairs of items that share a story_id."""
    members: dict[str, list[str]] = defaultdict(list)
    for item_id, story_id in story_of.items():
        members[story_id].append(item_id)
    return {pair(a, b) for ids in members.values() for a, b in itertools.combinations(ids, 2)}


def score(predicted: set[Pair], gold: GoldPairs) -> Score:
    hits = predicted & gold.same_story
    false = predicted - gold.same_story - gold.related
    judged = len(hits) + len(false)
    return Score(
        exact_found=len(predicted & gold.exact), exact_total=len(gold.exact),
        retitled_found=len(predicted & gold.retitled), retitled_total=len(gold.retitled),
        near_found=len(predicted & gold.near), near_total=len(gold.near),
        related_found=len(predicted & gold.related), related_total=len(gold.related),
        false_pairs=len(false),
        precision=len(hits) / judged if judged else 1.0,
        recall=len(hits) / len(gold.same_story) if gold.same_story else 1.0,
    )


def to_articles(docs: list[BbcDoc]) -> list[dict]:
    """Pipeline input records; corpus order stands in for publication order."""
    articles = []
    for doc in docs:
        text = clean_text(doc.body)
        articles.append({
            "item_id": doc.doc_id,
            "url": f"https://www.bbc.example/news/{doc.doc_id}",
            "title": doc.title,
            "text": text,
            "content_hash": content_hash(text),
            "order_key": doc.doc_id,
        })
    return articles
