"""`newsbeam`: poll feeds into Kafka, run the Beam pipeline into Parquet on S3, and operate it.

Typical schedule: `newsbeam poll --once` every few minutes, `newsbeam run` every 15 minutes.
Configuration: --config FILE (or NEWSBEAM_CONFIG) plus NEWSBEAM_<SECTION>__<KEY> environment
overrides; `newsbeam config check` validates it and probes Kafka, S3, alerts and the spaCy
model; see docs/operations.md. --config, -v and --log-format may come before or after the
subcommand; --log-format json makes every line a JSON object. Exit status: 0 ok, 1 run failed,
2 configuration, usage or unreadable input, 3 Kafka unavailable, 4 S3 unavailable (or no such
bucket, or access denied), 5 another run holds the lock or the group's claim, 6 alerts not
delivered (data committed), 7 fenced (another run took over), 8 the Iceberg catalog failed
(iceberg:, offsets not committed).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from connectors import console
from connectors.errors import ConfigError, OperatorError, UsageError
from pipeline.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
STACK_SCRIPT = ROOT / "deploy" / "local" / "stack.sh"
EXIT_FAILED = 1


def _config(args) -> Config:
    """Load and validate the whole configuration, then redact its secrets from every log line."""
    import os

    from pipeline.logs import configure_logging, secret_values

    config = load_config(getattr(args, "config", None))
    configure_logging(args.log_format, "INFO" if args.verbose else "WARNING",
                      secrets=secret_values(os.environ, config))
    return config


def _check_beam_options(config: Config, beam_args: list[str]) -> None:
    """An option neither newsbeam nor Beam knows is an error (Beam would drop it with a warning)."""
    from pipeline.beam_options import unknown_beam_options

    unknown = unknown_beam_options(beam_args, runner_args=list(config.pipeline.beam_args))
    if unknown:
        raise UsageError(f"unknown option(s) {' '.join(unknown)}: neither newsbeam nor Apache Beam "
                         "defines them (`newsbeam run --help` lists newsbeam's; Beam's are those of "
                         "its PipelineOptions, e.g. --runner, --direct_num_workers)")
    unknown = unknown_beam_options(list(config.pipeline.beam_args))
    if unknown:
        raise ConfigError(f"invalid configuration:\n  pipeline.beam_args: unknown Beam option(s) "
                          f"{' '.join(unknown)}")


# ----------------------------------------------------------------------------- stack
def cmd_stack(args, _extra) -> int:
    _config(args)  # every command validates the configuration first
    if not STACK_SCRIPT.is_file():
        raise UsageError(f"{STACK_SCRIPT} not found (the local stack ships with the source tree)")
    return console.relay(["bash", str(STACK_SCRIPT), args.action])


# ----------------------------------------------------------------------------- run
def failure_json(exc: BaseException) -> dict:
    """`run --json` on failure: the error's type, exit status and one-line reason."""
    if isinstance(exc, OperatorError):
        return {"status": "failed", "error": type(exc).__name__, "exit_code": exc.exit_code, "message": str(exc)}
    first = str(exc).splitlines()[0] if str(exc) else ""
    return {"status": "failed", "error": type(exc).__name__, "exit_code": EXIT_FAILED,
            "message": f"{type(exc).__name__}: {first}" if first else type(exc).__name__}


def run_json(summary) -> dict:
    """`run --json`: one object per run (a drained backlog prints several)."""
    return {"status": summary.status, "run_id": summary.run_id, "alerts": summary.alerts,
            "records": summary.records, "remaining": summary.remaining, "rows": summary.rows,
            "counters": summary.counters, "files": summary.files, "manifest": summary.manifest,
            "retention_lost": summary.retention_lost, "iceberg": summary.iceberg}


def cmd_run(args, beam_args) -> int:
    import functools
    from datetime import datetime, timezone

    config = _config(args)  # before importing Beam: config errors come first and alone
    _check_beam_options(config, beam_args)
    from pipeline.run import drain, parse_offsets

    progress = _RunProgress()
    summaries = []

    def report(summary) -> None:
        summaries.append(summary)
        progress.advance(summary)
        fields = run_json(summary)
        # with --json the objects are the answer on stdout; the lines become messages on stderr
        say = console.info if args.json else console.result
        say(summary.line(), run=fields)
        _export_run_metrics(config, args, summary)
        if summary.alerts is not None:
            say("alerts: " + ", ".join(f"{k} {v}" for k, v in summary.alerts.items()), alerts=summary.alerts)
        if args.json:
            console.data(json.dumps(fields, ensure_ascii=False, default=str))

    if args.continuous:
        return _run_continuous(config, args, beam_args, report)
    try:
        try:
            since = (datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=timezone.utc)
                     if args.since else None)
            offsets = parse_offsets(args.from_offsets or "")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        drain(config, beam_args, since=since, offsets=offsets, on_run=report,
              log_setup=functools.partial(_quiet_libraries, args.log_format, args.verbose))
    finally:
        progress.close()
    return _alerts_exit(summaries)


def _run_continuous(config: Config, args, beam_args, report) -> int:
    """`run --continuous` (pipeline/continuous.py): micro-batches until SIGTERM / SIGINT."""
    import threading

    from pipeline import continuous

    if args.since or args.from_offsets:
        raise UsageError("--continuous cannot start with a backfill (--since / --from-offsets): "
                         "rewind with one `newsbeam run --since ...` first, then start it")
    import logging

    stop = threading.Event()
    continuous.stop_on_signals(stop)
    if not args.verbose:  # client libraries log every retry; our own lines say what failed
        for name in ("kafka", "apache_beam", "botocore", "urllib3"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    continuous.warm_up(config)
    console.info(f"run --continuous: model loaded; micro-batches of at most "
                 f"{continuous.batch_config(config).pipeline.max_records_per_run} records, looking at Kafka every "
                 f"{config.pipeline.continuous_idle_seconds:g} s while idle; SIGTERM stops after the batch in flight")
    batches = continuous.serve(config, beam_args, stop, on_run=report)
    console.result(f"run --continuous: stopped after {batches} micro-batch(es) that wrote rows", batches=batches)
    return 0


def _alerts_exit(summaries) -> int:
    """The data is committed; undelivered alerts still make the command fail, with their own code.
    Each run retries earlier failures, so what counts is what the last alerting run left."""
    from connectors.errors import AlertsFailed

    alerting = [s for s in summaries if s.alerts is not None]
    if alerting and alerting[-1].alert_failures:
        raise AlertsFailed(f"{alerting[-1].alert_failures} alert delivery(ies) failed; rows are written and "
                           "offsets committed. `newsbeam alerts list` shows why; the next run or "
                           "`newsbeam alerts retry` sends them")
    return 0


class _RunProgress:
    """A records bar (on a terminal, connectors/console.py decides) while `newsbeam run` drains a
    backlog in several runs (the total is known once the first run reports what remains)."""

    def __init__(self):
        self._bar = None

    def advance(self, summary) -> None:
        if summary.status != "written":
            return
        if self._bar is None:
            if summary.remaining <= 0:
                return
            self._bar = console.progress(summary.records + summary.remaining, unit="rec", desc="run")
        self._bar.update(summary.records)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _export_run_metrics(config: Config, args, summary) -> None:
    """Prometheus: textfile-collector file and/or Pushgateway, only after a successful run, so
    newsbeam_run_last_success_timestamp_seconds goes stale when runs fail."""
    textfile = args.metrics_textfile or config.pipeline.metrics_textfile
    gateway = args.pushgateway or config.pipeline.pushgateway_url
    if not (textfile or gateway):
        return
    from pipeline import metrics
    from pipeline.status import kafka_lag

    lag = kafka_lag(config).get("lag", 0)
    try:
        if textfile:
            metrics.write_textfile(summary, textfile, consumer_lag=lag)
        if gateway:
            metrics.push(summary, gateway, consumer_lag=lag)
    except Exception as exc:  # metrics never fail a run whose data is already committed
        console.warning(f"newsbeam run: metrics not exported: {type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------------- poll / feeds
def cmd_poll(args, _extra) -> int:
    from connectors.feeds.cli import run_poll

    return run_poll(args, _config(args))


def cmd_feeds(args, _extra) -> int:
    from connectors.feeds.cli import run_feeds

    return run_feeds(args, _config(args))


# ----------------------------------------------------------------------------- kafka
def cmd_kafka(args, _extra) -> int:
    from connectors.kafka_cli import run_kafka

    return run_kafka(args, _config(args))


# ----------------------------------------------------------------------------- alerts
def cmd_alerts(args, _extra) -> int:
    from connectors.alerts.cli import run_alerts

    config = _config(args)
    if args.alerts_command == "retry":
        return _retry_alerts(config)
    return run_alerts(args, config.alerts)


def _retry_alerts(config: Config) -> int:
    """`newsbeam alerts retry`: what earlier runs could not deliver (failed, or pending after a
    crash) and every committed run not yet alerted (one that died after its manifest), under the
    run lock like every dispatch, so it never races a run on the ledger."""
    from connectors import s3
    from connectors.errors import AlertsFailed
    from pipeline.alerting import alert_committed, failures
    from pipeline.run import RunLock

    with RunLock(config.pipeline.lock_path):
        summary = alert_committed(config.alerts, s3.S3Settings.from_config(config.s3))
    if summary is None:
        console.result(f"nothing to retry (no alert rules, or no ledger at {config.alerts.ledger_path} yet)")
        return 0
    console.result("alerts: " + ", ".join(f"{k} {v}" for k, v in summary.items()), alerts=summary)
    if failures(summary):
        raise AlertsFailed(f"{failures(summary)} alert delivery(ies) still failing; `newsbeam alerts list` "
                           "shows why")
    return 0


# ----------------------------------------------------------------------------- config
def cmd_config(args, _extra) -> int:
    from pipeline.config_check import Check, exit_code, run_checks

    import os

    config = _config(args)  # invalid: exit 2 with one line per problem, before any probe
    source = args.config or os.environ.get("NEWSBEAM_CONFIG") or "built-in defaults"
    checks = [Check("config", "ok", f"valid ({source} + environment)")] + run_checks(config)
    for check in checks:
        console.result(check.line(), check=check.name, status=check.status, detail=check.detail,
                       **({"error": check.error.__name__} if check.error else {}))
    return exit_code(checks)


# ----------------------------------------------------------------------------- query
def cmd_query(args, _extra) -> int:
    from connectors import s3
    from connectors.query import run_query

    config = _config(args)
    ss = s3.S3Settings.from_config(config.s3)
    iceberg = None
    if config.iceberg.enabled and not args.files:
        from pipeline.iceberg import metadata_locations

        iceberg = metadata_locations(config, ss)  # CatalogError (exit 8) when it does not answer
    # a script that asked for JSON logs gets JSON rows unless it chose another format
    fmt = args.format or ("json" if args.log_format == "json" else "table")
    run_query(ss, args.sql, fmt, args.output, iceberg=iceberg)
    return 0


# ----------------------------------------------------------------------------- compact
def cmd_compact(args, _extra) -> int:
    from pipeline.iceberg import compact, parse_duration

    config = _config(args)
    older_than = parse_duration(args.older_than)
    for result in compact(config, args.table, older_than, dry_run=args.dry_run):
        console.result(("dry run: " if args.dry_run else "") + result.line(args.dry_run),
                       table=result.table, dry_run=args.dry_run)
    return 0


# ----------------------------------------------------------------------------- extract / eval
def _nlp_defaults(args) -> None:
    """--model / --gazetteer left unset fall back to the config's nlp section."""
    config = _config(args)
    if args.model is None:
        args.model = config.nlp.model
    if getattr(args, "gazetteer", "unset") is None:
        args.gazetteer = config.nlp.leaders_file
    if getattr(args, "max_chars", "unset") is None:
        args.max_chars = config.nlp.max_chars
    if getattr(args, "reported_speech", "unset") is None:
        args.reported_speech = config.nlp.reported_speech


def cmd_extract(args, _extra) -> int:
    from transforms.cli_extract import run_extract

    _nlp_defaults(args)
    return run_extract(args)


def cmd_eval(args, _extra) -> int:
    from transforms.cli_extract import run_eval

    _nlp_defaults(args)
    return run_eval(args)


# ----------------------------------------------------------------------------- status
def cmd_status(args, _extra) -> int:
    from pipeline import status

    report = status.collect(_config(args))
    if args.json:
        console.document(report)
    else:
        for line in status.render(report).splitlines():
            console.result(line)
    # a probe: 1 whenever Kafka or S3 does not answer (kept stable for health checks)
    return 0 if report["kafka"]["ok"] and report["s3"]["ok"] else EXIT_FAILED


# ----------------------------------------------------------------------------- demo
def cmd_demo(args, beam_args) -> int:
    from pipeline import demo

    config = _config(args)
    _check_beam_options(config, beam_args)
    return demo.main(config, beam_args)


def _table_names() -> tuple[str, ...]:
    from connectors.tables import SCHEMAS

    return tuple(SCHEMAS)


class _Parser(argparse.ArgumentParser):
    """argparse with its output through connectors/console.py: a mistake is one line (and exit 2),
    --help is written like any other output."""

    last_error: str | None = None

    def error(self, message: str):
        text = f"{self.prog}: {message} (`{self.prog} --help` lists the options)"
        _Parser.last_error = text
        console.error(text, error=UsageError.__name__, exit_code=UsageError.exit_code)
        self.exit(UsageError.exit_code)

    def _print_message(self, message: str, file=None) -> None:
        if not message:
            return
        if file is None or file is sys.stdout:
            console.data(message.rstrip("\n"))
        else:
            console.info(message.rstrip("\n"))


class _Version(argparse.Action):
    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        own, libraries = versions()
        console.result(f"newsbeam {own} (" + ", ".join(f"{k} {v}" for k, v in libraries.items()) + ")",
                       version=own, libraries=libraries)
        parser.exit()


def versions() -> tuple[str, dict[str, str]]:
    """newsbeam's version and those of the libraries a bug report needs, from the installed
    packages' metadata (nothing is imported)."""
    import platform
    from importlib import metadata

    def of(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    libraries = {"python": platform.python_version()}
    for name, dist in (("apache-beam", "apache-beam"), ("kafka-python", "kafka-python"), ("duckdb", "duckdb"),
                       ("pyarrow", "pyarrow"), ("spacy", "spacy"), ("boto3", "boto3")):
        libraries[name] = of(dist)
    return of("newsbeam"), libraries


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="newsbeam", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False)
    parser.add_argument("--version", action=_Version,
                        help="print newsbeam's version and those of its main libraries, then exit")
    _add_global_flags(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("stack", help="start, stop or check the local Kafka + S3 stack",
                       description="Local development stack on 127.0.0.1: Apache Kafka 4 (KRaft, jars "
                       "from Maven Central via mvn) and SeaweedFS S3. Data in .stack/ (git-ignored). "
                       "Ports: NEWSBEAM_KAFKA_PORT, NEWSBEAM_S3_PORT (see deploy/local/common.sh).")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(func=cmd_stack)

    p = sub.add_parser("run", help="process new Kafka records into Parquet tables on S3",
                       description="One bounded run: reads what the consumer group has not processed "
                       "(committed offset to the end offset at start), dedups, extracts quotes and "
                       "entities, writes articles/quotes/entities/rejects/duplicates Parquet under "
                       "s3://BUCKET/PREFIX/<table>/dt=YYYY-MM-DD/ and its manifest, registers the files "
                       "in the Iceberg tables when iceberg.catalog is set, then commits the offsets. "
                       "Any option not listed here is passed to Apache Beam, e.g. --runner=PrismRunner, "
                       "--direct_num_workers=2, --direct_running_mode=multi_processing, when Beam "
                       "defines it (any PipelineOptions, runner-specific ones included); an option "
                       "neither defines is an error. On a Dask cluster: --runner=DaskRunner "
                       "--dask_client_address=tcp://HOST:8786 (only the Beam job goes there; see "
                       "docs/operations.md, Scaling out). A backlog "
                       "above pipeline.max_records_per_run is processed in several runs, each in a "
                       "fresh process, so memory stays bounded.",
                       epilog="exit status: 0 done (or nothing to do); 1 failed, 3 Kafka unavailable, "
                       "4 S3 unavailable (or no bucket, access denied), 5 another run is going: the lock "
                       "or the consumer group's claim on S3 (offsets not committed in all four); 6 rows "
                       "written and offsets committed but alerts not delivered; 7 fenced: another run took "
                       "over these records (see the message); 8 the Iceberg catalog failed (files and "
                       "manifest written, offsets not committed: the next run registers them); 2 "
                       "configuration or an unknown option")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object per run on stdout (the summary lines go to stderr), and "
                   "one with status \"failed\", the error type, exit code and reason on failure")
    p.add_argument("--continuous", action="store_true",
                   help="keep running: one long-lived process with the model loaded runs a bounded "
                   "micro-batch (at most pipeline.continuous_batch_records records) whenever records "
                   "wait, each one a full run (same files, manifest, alerts, offset commit), and "
                   "looks at Kafka every pipeline.continuous_idle_seconds while idle. SIGTERM or "
                   "SIGINT stops it after the micro-batch in flight; a failed micro-batch is "
                   "retried after a backoff instead of exiting")
    p.add_argument("--since", metavar="YYYY-MM-DD",
                   help="backfill: first rewind the consumer group to the records Kafka received on "
                   "or after this UTC date; rows already written are not written again")
    p.add_argument("--from-offsets", metavar="P:O[,P:O...]",
                   help="backfill: first rewind these partitions to these offsets")
    p.add_argument("--metrics-textfile", metavar="PATH",
                   help="write Prometheus metrics for node_exporter's textfile collector "
                   "(default: pipeline.metrics_textfile)")
    p.add_argument("--pushgateway", metavar="URL",
                   help="push run metrics to a Prometheus Pushgateway (default: pipeline.pushgateway_url)")
    p.set_defaults(func=cmd_run, beam=True)

    p = sub.add_parser("poll", help="fetch feeds and produce new items to Kafka",
                       description="Polls the feed list (feeds.feeds_file or --feeds) politely: "
                       "conditional GET, per-host limits, backoff, parking of broken feeds. Each new "
                       "entry becomes one JSON record (connectors/feeds/feed_item.schema.json) keyed by "
                       "its item id; an item counts as seen only after Kafka acknowledged it.")
    from connectors.feeds.cli import add_feeds_arguments, add_poll_arguments

    add_poll_arguments(p)
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("feeds", help="feed health table, OPML import, unpark a feed")
    add_feeds_arguments(p)
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("kafka", help="managed Kafka: create the topics, print the ACLs of each component",
                       description="Set-up for a Kafka cluster that does not auto-create topics (MSK, "
                       "Confluent Cloud, ...): `kafka init` creates them idempotently, `kafka acls` prints "
                       "what the poller, the pipeline and the alert sink need (docs/operations.md).")
    from connectors.kafka_cli import add_kafka_arguments

    add_kafka_arguments(p)
    p.set_defaults(func=cmd_kafka)

    p = sub.add_parser("alerts", help="send a sample alert, list recent alerts",
                       description="Alerts on new leadership statements, once per statement and "
                       "rule (docs/alerts.md).")
    from connectors.alerts.cli import add_alerts_arguments

    add_alerts_arguments(p)
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("query", help="run SQL over the tables with DuckDB (Iceberg when a catalog is configured)",
                       description="Views articles, quotes, entities, rejects and duplicates (with the dt "
                       "column), one per table that has data. With iceberg.catalog set they read the Iceberg "
                       "tables as committed now (DuckDB's iceberg extension; dt is the UTC date of "
                       "fetched_at); else the committed Parquet files under s3://BUCKET/PREFIX/<table>/dt=*/. "
                       "The result is an aligned table for people, or written by DuckDB as CSV (header; every "
                       "value quoted, NULL an empty unquoted field), JSON lines or Parquet. Tabs, "
                       "newlines and quotes inside values never break a row.",
                       epilog="exit status: 0 done; 2 the SQL failed or a bad option; 4 S3 unreachable, "
                       "bucket missing or access denied; 8 the Iceberg catalog did not answer")
    p.add_argument("sql", help='e.g. "SELECT speaker_name, count(*) FROM quotes GROUP BY 1"')
    p.add_argument("--files", action="store_true",
                   help="read the plain Parquet files even when an Iceberg catalog is configured")
    p.add_argument("--format", choices=["table", "csv", "json", "parquet"],
                   help="table (default; json under --log-format json), csv, json (one object per row), "
                   "parquet (needs --output)")
    p.add_argument("--output", "-o", metavar="FILE|s3://...",
                   help="write the result there instead of stdout (a local file appears only once complete)")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("compact", help="Iceberg tables: rewrite a day's small files into large ones, expire old snapshots",
                       description="Registers every committed run not yet in the Iceberg tables, then "
                       "rewrites the small files of every day partition that ended more than "
                       "--older-than ago into files of about iceberg.target_file_mb, one replace "
                       "commit per table (readers see all old files or all new ones, never a mix; "
                       "every row is kept), and expires snapshots whose runs were committed more than "
                       "iceberg.snapshot_retention_hours ago. The plain Parquet layout and its _runs/ "
                       "manifests are not touched: compacted files live under the Iceberg table's own "
                       "location. Takes the run lock (pipeline.lock_path). Needs iceberg.catalog.",
                       epilog="exit status: 0 done; 2 no catalog configured or a bad option; 4 S3 "
                       "unavailable; 5 a run holds the lock; 8 the catalog failed (nothing half done)")
    p.add_argument("--table", action="append", choices=list(_table_names()), metavar="TABLE",
                   help="only this table (repeatable; default all five: " + ", ".join(_table_names()) + ")")
    p.add_argument("--older-than", default="1d", metavar="DURATION",
                   help="compact day partitions that ended longer ago than this: 1d (default), 12h, 30m")
    p.add_argument("--dry-run", action="store_true", help="say what would be rewritten, change nothing")
    p.set_defaults(func=cmd_compact)

    from transforms.cli_extract import add_eval_arguments, add_extract_arguments

    p = add_extract_arguments(sub.add_parser(
        "extract", help="quotes with speakers, leadership flags and entities of texts, as JSON lines"))
    p.set_defaults(func=cmd_extract, model=None)

    p = add_eval_arguments(sub.add_parser(
        "eval", help="score quote and speaker extraction against PolNeAR (brat standoff gold)"))
    p.set_defaults(func=cmd_eval, model=None)

    p = sub.add_parser("status", help="health: Kafka and consumer lag, S3 and the last run, feeds",
                       epilog="exit status: 0 when Kafka and S3 answer, 1 otherwise")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("config", help="validate the configuration and probe what it points at",
                       description="`config check` validates the file and the NEWSBEAM_* environment "
                       "(one line per problem, exit 2), then probes Kafka (bootstrap, topic, consumer "
                       "group), S3 (bucket; put, list and delete a probe object under the prefix), the "
                       "alert sinks' secrets, the spaCy model, pipeline.beam_args and the feed list, "
                       "one line per check.",
                       epilog="exit status: 0 all ok; else the first failure's: 2 configuration, "
                       "3 Kafka, 4 S3")
    config_sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_sub.add_parser("check", help="validate, then probe every service (one line per check)")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("demo", help="end-to-end demo on the local stack with bundled sample feeds",
                       description="Starts the local stack, serves deploy/local/sample_feeds on "
                       "127.0.0.1, polls them into Kafka, runs the pipeline and queries the Parquet on "
                       "S3 with DuckDB. Beam options are passed through as for `run`.")
    p.set_defaults(func=cmd_demo, beam=True)
    _add_global_flags_below(parser)
    return parser


def _add_global_flags(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--config, -v, --log-format. On subcommands without defaults (SUPPRESS), so a flag given
    after the subcommand sets the value and one not given keeps what came before it."""
    keep = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument("--config", metavar="FILE", **keep,
                        help="YAML configuration (default: $NEWSBEAM_CONFIG, else built-in defaults)")
    parser.add_argument("-v", "--verbose", action="store_true", **({"default": False} if defaults else keep),
                        help="log at INFO and show client library logs (Kafka, Beam, S3) too")
    parser.add_argument("--log-format", choices=["text", "json"], **({"default": "text"} if defaults else keep),
                        help="json: every line (logs, results, progress, errors) one JSON object, for log "
                        "shippers and scripts (default text)")


def _add_global_flags_below(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in dict.fromkeys(action.choices.values()):
                subparser.allow_abbrev = False
                _add_global_flags(subparser, defaults=False)
                _add_global_flags_below(subparser)


def _quiet_libraries(fmt: str, verbose: bool) -> None:
    """Client libraries log every retry; our own messages say what failed. -v shows them."""
    import logging

    from pipeline.logs import configure_logging

    configure_logging(fmt, "INFO" if verbose else "WARNING")
    if not verbose:
        for name in ("kafka", "apache_beam", "botocore", "urllib3"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        # Beam warns about optional GCP client libraries on import, through the root logger.
        logging.getLogger().addFilter(lambda r: "apitools" not in r.getMessage())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # lines written while parsing (a usage error, --version) already take the asked format
    console.configure(_format_in(argv))
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
    except SystemExit as exc:
        if exc.code and _run_json_in(argv):
            console.data(json.dumps({"status": "failed", "error": UsageError.__name__,
                                     "exit_code": UsageError.exit_code, "message": _Parser.last_error or ""}))
        raise
    console.configure(args.log_format, command=args.command)
    _quiet_libraries(args.log_format, args.verbose)
    if extra and not getattr(args, "beam", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    with console.adopt_stderr():  # JSON: children's and libraries' stderr lines become JSON too
        return _dispatch(args, extra)


def _dispatch(args, extra) -> int:
    run_json = args.command == "run" and getattr(args, "json", False)
    try:
        return args.func(args, extra)
    except OperatorError as exc:
        if run_json:  # a script reading --json gets an object on failure too
            console.data(json.dumps(failure_json(exc), ensure_ascii=False))
        # configuration problems concern every command alike; the rest name the command
        prefix = "newsbeam" if type(exc) is ConfigError else f"newsbeam {_command_name(args)}"
        console.error(f"{prefix}: {exc}", error=type(exc).__name__, exit_code=exc.exit_code)
        return exc.exit_code
    except Exception as exc:  # a bug: its traceback, through the same output path
        import traceback

        if run_json:
            console.data(json.dumps(failure_json(exc), ensure_ascii=False))
        trace = "".join(traceback.format_exception(exc)).rstrip("\n")
        first = str(exc).splitlines()[0] if str(exc) else ""
        line = f"newsbeam {_command_name(args)}: unexpected {type(exc).__name__}: {first} (a bug: please report it)"
        if console.is_json():
            console.error(line, error=type(exc).__name__, exit_code=EXIT_FAILED, exc=trace)
        else:
            console.error(f"{trace}\n{line}")
        return EXIT_FAILED


def _command_name(args) -> str:
    """`kafka init`, `alerts retry`, `run`: the command as typed, for the error line."""
    action = next((getattr(args, k) for k in ("kafka_command", "alerts_command", "feeds_command", "config_command")
                   if getattr(args, k, None)), None)
    return f"{args.command} {action}" if action else args.command


def _format_in(argv: list[str]) -> str:
    """--log-format as given anywhere on the line, before argparse has read it."""
    fmt = "text"
    for i, arg in enumerate(argv):
        if arg == "--log-format" and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif arg.startswith("--log-format="):
            fmt = arg.split("=", 1)[1]
    return fmt if fmt in console.FORMATS else "text"


def _run_json_in(argv: list[str]) -> bool:
    return "run" in argv and "--json" in argv


if __name__ == "__main__":
    sys.exit(main())
