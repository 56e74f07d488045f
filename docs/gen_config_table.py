"""Generate the configuration reference of docs/operations.md from the pydantic models.

    python docs/gen_config_table.py           # print the tables
    python docs/gen_config_table.py --write   # replace them in docs/operations.md

Types and defaults come from the models, so they cannot drift; the meaning of each key is
written here, and tests/unit/test_deploy_manifests.py fails when a key has none or the doc is
out of date.
"""
from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.alerts.config import AlertsConfig  # noqa: E402
from connectors.feeds.settings import PollSettings  # noqa: E402
from connectors.iceberg_config import IcebergConfig  # noqa: E402
from connectors.kafka_config import KafkaConfig  # noqa: E402
from connectors.s3_config import S3Config  # noqa: E402
from pipeline.config import Config, NlpConfig, PipelineConfig  # noqa: E402

DOC = ROOT / "docs" / "operations.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("kafka", KafkaConfig), ("s3", S3Config), ("pipeline", PipelineConfig), ("nlp", NlpConfig),
    ("feeds", PollSettings), ("alerts", AlertsConfig), ("iceberg", IcebergConfig)]
# the whole configuration is exactly these sections
assert [(n, Config.model_fields[n].annotation) for n, _ in SECTIONS] == SECTIONS, "Config sections changed"

MEANING = {
    "kafka.bootstrap_servers": "broker `host:port[,host:port...]`",
    "kafka.topic": "topic the poller produces to and the run reads",
    "kafka.group_id": "consumer group whose committed offsets mark what the run has processed",
    "kafka.client_config": "extra kafka-python client settings (`security_protocol`, `sasl_*`, `ssl_*` ...)",
    "kafka.request_timeout_ms": "Kafka request timeout",
    "s3.bucket": "bucket of the Parquet tables",
    "s3.prefix": "key prefix inside the bucket (leading/trailing `/` stripped)",
    "s3.endpoint_url": "S3 endpoint for SeaweedFS/MinIO; null means AWS S3",
    "s3.region": "S3 region",
    "s3.access_key_id": "explicit access key; null means the standard AWS credential chain",
    "s3.secret_access_key": "explicit secret key (set it by environment, never in the file)",
    "s3.connect_timeout": "seconds to connect to S3",
    "s3.read_timeout": "seconds to wait for an S3 response",
    "s3.max_attempts": "attempts per S3 call (standard retry mode)",
    "pipeline.beam_args": "Beam options added to every run before the command line's",
    "pipeline.split_size": "Kafka records per read split (the unit of parallel work)",
    "pipeline.rows_per_file": "about this many rows per Parquet file (files per table from its rows per record)",
    "pipeline.history_days": "days of earlier `dt=` partitions dedup checks against",
    "pipeline.near_dup_threshold": "MinHash Jaccard threshold for near-duplicates; null = built-in default",
    "pipeline.nlp_enabled": "extract quotes, entities and leaders (false: articles only)",
    "pipeline.lock_path": "lock file that keeps two runs on one host apart",
    "pipeline.claim_lease_seconds": "lease of the consumer group's run claim on S3 (`_claims/`), renewed every third of it while a run is alive; another host takes over a crashed run's claim this long after its last renewal",
    "pipeline.max_records_per_run": "records one run takes at most (null: all); `newsbeam run` drains a larger backlog in several runs, each in a fresh process, so memory is bounded by this and not by the backlog",
    "pipeline.metrics_textfile": "after each successful run, write Prometheus metrics to this file (node_exporter textfile collector); `run --metrics-textfile` overrides",
    "pipeline.pushgateway_url": "after each successful run, push metrics to this Prometheus Pushgateway; `run --pushgateway` overrides",
    "pipeline.continuous_batch_records": "`run --continuous`: records one micro-batch takes at most (and at most `max_records_per_run` when that is set: the smaller wins)",
    "pipeline.continuous_idle_seconds": "`run --continuous`: seconds between two looks at Kafka while no record waits (the process sleeps in between)",
    "nlp.model": "spaCy model package",
    "nlp.models": "language (ISO 639-1) -> spaCy model that extracts quotes and entities for it, e.g. `{en: en_core_web_sm, de: de_core_news_sm}`; null = `{en: <nlp.model>}`. Articles in other languages (detected from the text) are kept with `nlp_skipped` and the reason",
    "nlp.batch_size": "texts per spaCy batch in every worker: bigger batches cost spaCy less CPU per text and hold ~5 MB per (2 KB) text; 64 is what bare `nlp.pipe` uses",
    "nlp.batch_chars": "at most this many characters of text per spaCy batch (a batch ends at `batch_size` texts or this, whichever comes first): spaCy holds ~3 KB per character in flight, so this bounds a worker's memory whatever texts land together; one longer text still goes alone",
    "nlp.max_chars": "characters of one article the NLP reads at most, cut at a paragraph or sentence end; the full text stays in `articles.text`, flagged `nlp_truncated`; bounds the memory one text can take (~3.5 KB per character)",
    "nlp.leaders_file": "leaders list replacing the bundled one; null = bundled",
    "nlp.reported_speech": "which reported speech (no quote marks) goes into `quotes`: `sources` = only what someone other than the writer said (no rows without a speaker, or whose speaker is the writer or reader: \"I think\", \"we hope\", \"you\"); `all` = every attribution found, as PolNeAR annotates; `none` = quotes only. Direct and partial quotes are always kept",
    "feeds.feeds_file": "feed list YAML",
    "feeds.state_path": "poll state SQLite file (ETags, seen items, parked feeds)",
    "feeds.global_concurrency": "feeds fetched at once",
    "feeds.per_host_concurrency": "fetches at once per host",
    "feeds.connect_timeout": "seconds to connect to a feed server",
    "feeds.read_timeout": "seconds between bytes from a feed server",
    "feeds.total_timeout": "seconds for a whole fetch",
    "feeds.max_body_bytes": "a larger response (after gzip decoding) is abandoned as a failed fetch",
    "feeds.user_agent": "User-Agent of every fetch",
    "feeds.max_consecutive_failures": "failures in a row after which a feed is parked",
    "feeds.seen_horizon_days": "how long item ids are remembered as already produced",
    "feeds.allow_private_addresses": "let full-text fetches of article links reach private/loopback addresses",
    "feeds.default_interval_seconds": "poll interval of a feed without its own `interval`",
    "feeds.max_interval_seconds": "cache headers and `<ttl>` never stretch the interval beyond this",
    "feeds.max_redirects": "redirects followed per fetch",
    "alerts.rules": "which statements alert which sinks (docs/alerts.md)",
    "alerts.sinks": "slack, webhook, kafka, smtp receivers (docs/alerts.md)",
    "alerts.ledger_path": "SQLite ledger of sent alerts (exactly once per statement and rule)",
    "alerts.max_attempts": "delivery attempts per alert within one run",
    "alerts.base_backoff_seconds": "first retry delay (doubles per attempt)",
    "alerts.max_backoff_seconds": "longest retry delay",
    "alerts.max_retry_after_seconds": "a longer Retry-After leaves the delivery for the next run",
    "alerts.timeout_seconds": "seconds per delivery request",
    "iceberg.catalog": "Iceberg catalog every committed run is registered in: `none` (off: only the plain Parquet layout), `sql` (an SQLite file on this host; local and single-host use), `rest` (an Iceberg REST catalog), `glue` (AWS Glue Data Catalog); docs/schema.md, *Iceberg tables*",
    "iceberg.sqlite_path": "`sql` only: the catalog's SQLite file (one writer at a time); null = `newsbeam-iceberg.sqlite3`",
    "iceberg.uri": "`rest` only (and required there): the catalog's base URL",
    "iceberg.namespace": "namespace (Glue: database) of the five tables",
    "iceberg.location": "where newsbeam creates its tables (their metadata and compacted files); null = `s3://<bucket>/<prefix>/_iceberg`",
    "iceberg.properties": "passed to pyiceberg's catalog unchanged: REST `credential`, `token`, `warehouse`, `scope`; Glue `glue.region`, `glue.id`; `s3.*` override what comes from `s3:`",
    "iceberg.target_file_mb": "`newsbeam compact` writes files of about this size",
    "iceberg.snapshot_retention_hours": "`newsbeam compact` expires snapshots whose runs were committed longer ago than this (time travel reaches this far back)",
}


def type_name(annotation) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin is list:
        return "list"
    if origin is dict:
        return "mapping"
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if annotation is SecretStr:
        return "secret str"
    return getattr(annotation, "__name__", str(annotation))


def bounds(metadata) -> str:
    signs = {annotated_types.Ge: ("ge", "≥"), annotated_types.Gt: ("gt", ">"),
             annotated_types.Le: ("le", "≤"), annotated_types.Lt: ("lt", "<")}
    parts = []
    for m in metadata:
        for cls, (attr, sign) in signs.items():
            if isinstance(m, cls):
                parts.append(f"{sign} {getattr(m, attr)}")
    return f" ({', '.join(parts)})" if parts else ""


def default_text(field) -> str:
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    return json.dumps(value)


def table(section: str, model: type[BaseModel]) -> str:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = f"{section}.{name}"
        lines.append(f"| `{key}` | {type_name(field.annotation)}{bounds(field.metadata)} | "
                     f"`{default_text(field)}` | {MEANING[key]} |")
    return "\n".join(lines)


def generate() -> str:
    return "\n\n".join(f"#### `{section}`\n\n{table(section, model)}" for section, model in SECTIONS)


def replace_in(doc_text: str, generated: str) -> str:
    head, _, rest = doc_text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{generated}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)} in place")
    args = parser.parse_args()
    if args.write:
        DOC.write_text(replace_in(DOC.read_text(encoding="utf-8"), generate()), encoding="utf-8")
    else:
        print(generate())
    return 0


if __name__ == "__main__":
    sys.exit(main())
