"""Beam dedup: exact (item_id / URL / content hash) and near-duplicate stories.

Input articles are dicts with at least ``item_id``, ``url``, ``content_hash``,
``text`` and ``order_key`` (sorts earlier items first), and the Kafka coordinates
``kafka_topic``, ``kafka_partition``, ``kafka_offset`` when they came from Kafka.
``history`` rows are ``{item_id, url, content_hash, story_id, kafka_*, minhash}``
already written by earlier runs (``minhash``: the signature of a MinHashed row, so
near-duplicates find stories of earlier runs).

Identity: the same ``item_id`` is the same entry (ids are scoped by feed, see
connectors/feeds/identity.py). The same URL is the same article only with the same
text: a URL shared by entries that say different things (a live blog, a podcast's
show page, a feed that links every item to its home page) is no identity, so those
entries are all kept, and join one story when their texts are near-copies.

Everything is keyed work (GroupByKey / CoGroupByKey / CombinePerKey), so no step
holds all items; the only global step (``LabelRoots``) holds the label pairs of
clusters whose diameter exceeds ``rounds`` propagation steps, normally none.

Cost: each non-copy item is shuffled once per LSH band as (band key, item_id)
(32 entries at the default 32 x 4 over 128); its signature (num_perm x 4 bytes)
is shuffled once more only when it shares a bucket with another item, and a
bucket of n items is verified with n^2 / 2 signature comparisons; exact copies
skip MinHash, so boilerplate repeated verbatim does not build huge buckets.

Ties on ``order_key`` are broken by item_id, url and content_hash, so results
do not depend on input order.
"""
from __future__ import annotations

from typing import Any, Iterator

import apache_beam as beam
import numpy as np
from apache_beam.pvalue import PCollection, TaggedOutput

from transforms import minhash
from transforms.outputs import WithOutputs

Article = dict[str, Any]

ITEM_ID_IN_HISTORY = "item_id seen in history"
ITEM_ID_IN_RUN = "item_id seen in run"
URL_IN_HISTORY = "url and text seen in history"
URL_IN_RUN = "url and text seen in run"

EXACT = "exact"
NEAR = "near"

# Tuned on the BBC corpus with bench/dedup_bbc.py (see that docstring).
DEFAULT_THRESHOLD = 0.6
DEFAULT_ROUNDS = 2

_DROPPED = "dropped"
REPLAYED = "replayed"
# Band entries of earlier runs' rows: their node ids carry this prefix so they never meet a run
# item's id, and no output is made for them.
_HISTORY_NODE = "\x00h:"
_RESIDUAL = "residual"
_COPY_EDGES = "copy_edges"
_SIGNATURES = "signatures"
_LABELS = "labels"


def _rank(item: Article) -> tuple:
    return (item["order_key"], item["item_id"], item["url"], item["content_hash"])


# ---------------------------------------------------------------- exact dedup

def coordinates(row: dict) -> tuple | None:
    """Where a record sits in Kafka; None for rows made without Kafka."""
    if row.get("kafka_offset") is None:
        return None
    return (row.get("kafka_topic"), row.get("kafka_partition"), row.get("kafka_offset"))


def _keep_earliest(element, run_reason: str, history_reason: str) -> Iterator:
    """Per key: drop everything if history has the key, else keep the earliest.

    A run item that *is* a history row (same Kafka record, replayed) is no duplicate: it goes
    to ``REPLAYED``, already written once."""
    _, grouped = element
    run = sorted(grouped["run"], key=_rank)
    history = sorted(grouped["history"], key=lambda h: h[0])
    if history:
        written = {coords for _, coords in history if coords is not None}
        for item in run:
            if coordinates(item) in written:
                yield TaggedOutput(REPLAYED, item)
            else:
                yield TaggedOutput(_DROPPED, {**item, "drop_reason": history_reason,
                                              "duplicate_of": history[0][0]})
        return
    if not run:
        return
    yield run[0]
    for item in run[1:]:
        yield TaggedOutput(_DROPPED, {**item, "drop_reason": run_reason,
                                      "duplicate_of": run[0]["item_id"]})


def _url_and_text(row: dict) -> str | None:
    """The same URL is the same article only when the text is the same too."""
    return f"{row['url']}\x1f{row.get('content_hash') or ''}" if row.get("url") else None


def _item_id(row: dict) -> str | None:
    return row.get("item_id") or None


class _KeepEarliestPer(beam.PTransform):
    """Same ``key(item)`` = same article: keep the earliest run item unless history has it.

    Items whose key is None pass through (an empty URL says nothing).
    """

    def __init__(self, key, history: PCollection, run_reason: str, history_reason: str):
        super().__init__()
        self.key, self.history = key, history
        self.run_reason, self.history_reason = run_reason, history_reason

    def expand(self, items):
        key = self.key
        run = items | "KeyRun" >> beam.FlatMap(
            lambda it: [(key(it), it)] if key(it) is not None else [])
        unkeyed = items | "NoKey" >> beam.Filter(lambda it: key(it) is None)
        seen = self.history | "KeyHistory" >> beam.FlatMap(
            lambda row: [(key(row), (row["item_id"], coordinates(row)))] if key(row) is not None else [])
        result = ({"run": run, "history": seen}
                  | "Join" >> beam.CoGroupByKey()
                  | "Earliest" >> WithOutputs(_keep_earliest, _DROPPED, REPLAYED, main="kept",
                                              args=(self.run_reason, self.history_reason)))
        kept = (result["kept"], unkeyed) | "Kept" >> beam.Flatten()
        return kept, result[_DROPPED], result[REPLAYED]


def _history_root(rows: list[Article]) -> Article:
    # Prefer the row that heads its story so copies join that story directly.
    return min(rows, key=lambda r: (r["item_id"] != r.get("story_id"), r["item_id"]))


def _mark_copies(element) -> Iterator[Article]:
    """Same content hash under another id/url: keep all, point later ones at the first."""
    _, grouped = element
    run = sorted(grouped["run"], key=_rank)
    if grouped["history"]:
        root = _history_root(grouped["history"])
        for item in run:
            yield {**item, "duplicate_of": root["item_id"], "dup_kind": EXACT,
                   "story_id": root.get("story_id") or root["item_id"]}
        return
    if not run:
        return
    yield {**run[0], "duplicate_of": None, "dup_kind": None, "story_id": None}
    for item in run[1:]:
        yield {**item, "duplicate_of": run[0]["item_id"], "dup_kind": EXACT,
               "story_id": None}


def _hashable(item: Article) -> bool:
    # An empty text hashes like every other empty text; that is not a copy.
    return bool(item.get("content_hash")) and bool((item.get("text") or "").strip())


class ExactDedup(beam.PTransform):
    """Drop repeats of the same article, mark syndicated copies.

    Returns ``{"main": ..., "dropped": ..., "replayed": ...}``:

    * same ``item_id``, or same ``url`` with the same ``content_hash`` = the same
      article: the earliest run item is kept, the rest go to ``dropped`` with
      ``drop_reason`` and ``duplicate_of`` (the kept or historical item_id);
      anything whose item_id (or url and text) is in ``history`` is dropped,
      except the very record a history row was written from (same Kafka
      coordinates: a replay), which goes to ``replayed``.
    * same ``content_hash`` under another item_id/url = a syndicated copy: kept,
      with ``duplicate_of`` = earliest copy (a history row wins) and
      ``dup_kind = "exact"``. Copies of a history row also get that row's
      ``story_id``; every other item gets ``story_id = None`` for
      ``NearDupStories`` to fill.

    Transitivity limit: item_id is resolved first, then url on the survivors. A
    chain A~B by item_id, B~C by url where B loses to A keeps both A and C.
    Content-hash copies need no chain: one hash = one group.
    """

    def __init__(self, history: PCollection | None = None):
        super().__init__()
        self.history = history

    def expand(self, items):
        history = self.history
        if history is None:
            history = items.pipeline | "NoHistory" >> beam.Create([])
        by_id, dropped_id, replayed_id = items | "ByItemId" >> _KeepEarliestPer(
            _item_id, history, ITEM_ID_IN_RUN, ITEM_ID_IN_HISTORY)
        by_url, dropped_url, replayed_url = by_id | "ByUrl" >> _KeepEarliestPer(
            _url_and_text, history, URL_IN_RUN, URL_IN_HISTORY)

        run = by_url | "KeyHash" >> beam.FlatMap(
            lambda it: [(it["content_hash"], it)] if _hashable(it) else [])
        unhashed = (by_url | "NoHash" >> beam.Filter(lambda it: not _hashable(it))
                    | "NotCopies" >> beam.Map(
                        lambda it: {**it, "duplicate_of": None, "dup_kind": None,
                                    "story_id": None}))
        seen = history | "KeyHistoryHash" >> beam.FlatMap(
            lambda row: [(row["content_hash"], row)] if row.get("content_hash") else [])
        copies = ({"run": run, "history": seen}
                  | "JoinHash" >> beam.CoGroupByKey()
                  | "MarkCopies" >> beam.FlatMap(_mark_copies))
        return {
            "main": (copies, unhashed) | "Main" >> beam.Flatten(),
            "dropped": (dropped_id, dropped_url) | "Dropped" >> beam.Flatten(),
            "replayed": (replayed_id, replayed_url) | "Replayed" >> beam.Flatten(),
        }


# ------------------------------------------------------ near-duplicate stories

def _by_content(item: Article) -> tuple[str, tuple]:
    key = f"hash:{item['content_hash']}" if _hashable(item) else f"id:{item['item_id']}"
    return key, (_rank(item), item["item_id"], item.get("text") or "")


def _band_entries(element, k: int, num_perm: int, bands: int, rows: int) -> Iterator:
    """The earliest item of a content hash is MinHashed; its copies get an edge to it.

    Band entries carry only the item_id; the signature goes out once, to ``_SIGNATURES``, and
    meets only the items that share a bucket with another item (see ``NearDupStories``).
    """
    _, members = element
    members = sorted(members)
    _, first_id, text = members[0]
    for _, copy_id, _ in members[1:]:
        yield TaggedOutput(_COPY_EDGES, (first_id, copy_id))
    sig = minhash.text_signature(text, k, num_perm)
    if sig is None:
        return
    yield TaggedOutput(_SIGNATURES, (first_id, sig.tobytes()))
    for key in minhash.band_keys(sig, bands, rows):
        yield key, first_id


def _is_history(node: str) -> bool:
    return node.startswith(_HISTORY_NODE)


def _history_band_entries(row: Article, num_perm: int, bands: int, rows: int) -> Iterator:
    """An earlier run's row with its signature -> band entries, its signature and its story label,
    under a node id no run item can have."""
    sig_bytes = row.get("minhash")
    if not sig_bytes or len(sig_bytes) != num_perm * 4:
        return  # written before signatures were kept, or with another num_perm
    node = _HISTORY_NODE + row["item_id"]
    yield TaggedOutput(_SIGNATURES, (node, bytes(sig_bytes)))
    yield TaggedOutput(_LABELS, (node, (0, "", row.get("story_id") or row["item_id"])))
    for key in minhash.band_keys(np.frombuffer(sig_bytes, dtype=np.uint32), bands, rows):
        yield key, node


def _bucket_pairs(element) -> Iterator[tuple[tuple[str, str], int]]:
    """(band_key, node ids) -> ((a, b), band) for each pair of a bucket, a < b, that holds at
    least one item of this run (earlier runs' rows were compared when written)."""
    band_key, ids = element
    ids = sorted(set(ids))
    if len(ids) < 2:
        return
    band = int(band_key[1:band_key.index(":")])
    for i, a in enumerate(ids[:-1]):
        for b in ids[i + 1:]:
            if not (_is_history(a) and _is_history(b)):
                yield (a, b), band


def _first_signed(element) -> Iterator:
    """(node, {signature: [bytes], partner: [b, ...], second: [a, ...], label: [history label]})
    -> (b, (node, signature)) for each pair (node, b); the story label of a history node that
    is in a pair."""
    node, grouped = element
    if grouped["partner"] or grouped["second"]:
        for label in grouped["label"][:1]:
            yield TaggedOutput(_LABELS, (node, label))
    for sig in grouped["signature"][:1]:
        for partner in grouped["partner"]:
            yield partner, (node, sig)


def _verified_pairs(element, threshold: float) -> Iterator[tuple[str, str]]:
    """(b, {signature: [bytes], pending: [(a, a's signature), ...]}) -> (a, b) for each pair
    whose estimated Jaccard (share of equal MinHash values) reaches the threshold."""
    node, grouped = element
    for sig_b in grouped["signature"][:1]:
        b = np.frombuffer(sig_b, dtype=np.uint32)
        for a, sig_a in grouped["pending"]:
            if (np.frombuffer(sig_a, dtype=np.uint32) == b).mean() >= threshold:
                yield a, node


def _initial_label(item: Article) -> tuple[int, str, str]:
    """Smaller label = earlier story head; history stories sort before run items."""
    if item.get("story_id"):
        return (0, "", item["story_id"])
    return (1, item["order_key"], item["item_id"])


def _offer_label(element) -> Iterator[tuple[str, tuple]]:
    node, grouped = element
    for label in grouped["label"][:1]:
        yield node, label
        for neighbour in grouped["neighbour"]:
            yield neighbour, label


def _settle(element) -> Iterator:
    """Last round: take the smallest offer, report the other offers as residual merges."""
    node, offers = element
    offers = set(offers)
    smallest = min(offers)
    yield node, smallest
    for other in offers - {smallest}:
        yield TaggedOutput(_RESIDUAL, (smallest, other))


def _label_roots(element) -> Iterator[tuple[tuple, tuple]]:
    """Union-find over residual label pairs; yields (label, root) for non-roots."""
    _, pairs = element
    parent: dict[tuple, tuple] = {}

    def find(label):
        parent.setdefault(label, label)
        while parent[label] != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for a, b in pairs:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    for label in list(parent):
        if find(label) != label:
            yield label, find(label)


class _ConnectedLabels(beam.PTransform):
    """Label every node with the smallest label of its connected component.

    ``rounds`` of min-label propagation settle clusters whose diameter is at most
    ``rounds`` (near-dup stories are stars or pairs). Longer chains leave
    residual label pairs; only those meet in one global union-find step.
    """

    def __init__(self, labels: PCollection, rounds: int):
        super().__init__()
        self.labels, self.rounds = labels, rounds

    def expand(self, edges):
        neighbours = edges | "BothWays" >> beam.FlatMap(lambda e: [e, (e[1], e[0])])
        labels = self.labels
        for step in range(self.rounds):
            offers = ({"label": labels, "neighbour": neighbours}
                      | f"Join{step}" >> beam.CoGroupByKey()
                      | f"Offer{step}" >> beam.FlatMap(_offer_label))
            if step < self.rounds - 1:
                labels = offers | f"Min{step}" >> beam.CombinePerKey(min)
        settled = (offers
                   | "Gather" >> beam.GroupByKey()
                   | "Settle" >> WithOutputs(_settle, _RESIDUAL, main="labels"))
        roots = (settled[_RESIDUAL]
                 | "OneGroup" >> beam.Map(lambda pair: (None, pair))
                 | "GroupResidual" >> beam.GroupByKey()
                 | "LabelRoots" >> beam.FlatMap(_label_roots))
        # A join by label rather than a side input: not every runner can feed one (the DaskRunner
        # recomputes a side input's whole upstream inside each task that reads it).
        return ({"node": settled["labels"] | "ByLabel" >> beam.Map(lambda kv: (kv[1], kv[0])),
                 "root": roots}
                | "JoinRoots" >> beam.CoGroupByKey()
                | "ToRoot" >> beam.FlatMap(_to_root))


def _to_root(element) -> Iterator[tuple[str, tuple]]:
    """(label, {node: [node, ...], root: [root] or []}) -> (node, the label's root or itself)."""
    label, grouped = element
    root = grouped["root"][0] if grouped["root"] else label
    for node in grouped["node"]:
        yield node, root


def _assign_story(element) -> Iterator[Article]:
    item_id, grouped = element
    for item in grouped["item"]:
        label = grouped["label"][0] if grouped["label"] else _initial_label(item)
        story_id = label[2]
        # The signature is kept with the row, so later runs find this story (history).
        out = {**item, "story_id": story_id, "minhash": (grouped["minhash"] or [None])[0]}
        if story_id == item_id:
            out.update(duplicate_of=None, dup_kind=None)
        elif item.get("dup_kind") != EXACT:
            out.update(duplicate_of=story_id, dup_kind=NEAR)
        yield out


class NearDupStories(beam.PTransform):
    """Group near-identical articles into stories with MinHash LSH.

    Every input item comes out once with ``story_id`` (item_id of the earliest
    member of its cluster, or of the history story it copies), ``duplicate_of``
    and ``dup_kind`` ("exact" from ``ExactDedup``, "near", or None for a story
    head). Items with one content hash are one story and only the earliest is
    MinHashed, so a copy of a history row still brings near-duplicates into
    that row's story.

    Expects unique item_ids (as after ``ExactDedup``). ``history`` rows of
    earlier runs that carry their ``minhash`` signature take part as story
    heads: an item near a history row joins that row's ``story_id``, so
    stories span runs for as long as the history reaches. Every item comes
    out with ``minhash`` (its signature, or None for copies and empty texts).
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, bands: int | None = None,
                 rows: int | None = None, shingle_words: int = minhash.DEFAULT_SHINGLE_WORDS,
                 num_perm: int = minhash.DEFAULT_NUM_PERM, rounds: int = DEFAULT_ROUNDS,
                 history: PCollection | None = None):
        super().__init__()
        self.history = history
        if (bands is None) != (rows is None):
            raise ValueError("give both bands and rows, or neither")
        if rounds < 1:
            raise ValueError("rounds must be at least 1")
        if bands is None:
            bands, rows = minhash.lsh_params(threshold, num_perm)
        self.threshold, self.bands, self.rows = threshold, bands, rows
        self.shingle_words, self.num_perm, self.rounds = shingle_words, num_perm, rounds

    def expand(self, items):
        entries = (items
                   | "KeyByContent" >> beam.Map(_by_content)
                   | "SameContent" >> beam.GroupByKey()
                   | "Bands" >> WithOutputs(_band_entries, _COPY_EDGES, _SIGNATURES, main="bands",
                                            args=(self.shingle_words, self.num_perm,
                                                  self.bands, self.rows)))
        history = self.history
        if history is None:
            history = items.pipeline | "NoHistory" >> beam.Create([])
        past = history | "HistoryBands" >> WithOutputs(
            _history_band_entries, _SIGNATURES, _LABELS, main="bands",
            args=(self.num_perm, self.bands, self.rows))
        # Candidate pairs carry no signature: a story whose members share all their buckets would
        # otherwise send each member's signature (512 B) once per band (32 at 0.6) through one
        # grouping, which the portable runners hold whole (the DirectRunner's launcher decoded
        # ~500 MB of them for a run of 2,500 near copies over a history of 5,000: issue 21).
        # A pair met in several bands is one pair after the (lifted) combine; then each pair
        # meets its two signatures in two joins by node.
        candidates = ((entries["bands"], past["bands"]) | "AllBands" >> beam.Flatten()  # (band_key, id)
                      | "Buckets" >> beam.GroupByKey()
                      | "BucketPairs" >> beam.FlatMap(_bucket_pairs)  # ((a, b), band)
                      | "OncePerPair" >> beam.CombinePerKey(min))
        signatures = (entries[_SIGNATURES], past[_SIGNATURES]) | "AllSignatures" >> beam.Flatten()
        first = ({"signature": signatures,
                  "partner": candidates | "ByFirst" >> beam.Map(lambda kv: kv[0]),
                  "second": candidates | "BySecond" >> beam.Map(lambda kv: (kv[0][1], kv[0][0])),
                  "label": past[_LABELS]}
                 | "SignFirst" >> beam.CoGroupByKey()
                 | "FirstSigned" >> WithOutputs(_first_signed, _LABELS, main="pending"))
        near = ({"signature": signatures, "pending": first["pending"]}
                | "SignSecond" >> beam.CoGroupByKey()
                | "Verify" >> beam.FlatMap(_verified_pairs, self.threshold))
        initial = ((items | "InitialLabels" >> beam.Map(lambda it: (it["item_id"], _initial_label(it))),
                    first[_LABELS]) | "AllLabels" >> beam.Flatten())
        labels = ((near, entries[_COPY_EDGES]) | "Edges" >> beam.Flatten()
                  | "Components" >> _ConnectedLabels(initial, self.rounds))
        return ({"item": items | "KeyItems" >> beam.Map(lambda it: (it["item_id"], it)),
                 "label": labels, "minhash": entries[_SIGNATURES]}
                | "JoinLabels" >> beam.CoGroupByKey()
                | "AssignStory" >> beam.FlatMap(_assign_story))


class Deduplicate(beam.PTransform):
    """``ExactDedup`` then ``NearDupStories``: ``{"articles": ..., "dropped": ..., "replayed": ...}``."""

    def __init__(self, history: PCollection | None = None,
                 threshold: float = DEFAULT_THRESHOLD, **near_options):
        super().__init__()
        self.history, self.threshold, self.near_options = history, threshold, near_options

    def expand(self, items):
        exact = items | "Exact" >> ExactDedup(self.history)
        articles = exact["main"] | "Near" >> NearDupStories(self.threshold, history=self.history,
                                                            **self.near_options)
        return {"articles": articles, "dropped": exact["dropped"], "replayed": exact["replayed"]}
