"""One scheduled run: plan offsets, clean up after crashed runs, run Beam, publish, commit.

Order matters for exactly-once effect:
  1. capture [committed, end) per partition -> run id (same offsets -> same id -> same files)
  2. delete files of runs that never wrote a manifest (a crash left them; their offsets were
     never committed, so this run reprocesses those records)
  3. run the pipeline (files land under the run id)
  4. write `_runs/<run_id>.json` (files, row counts, offsets)   <- the run is now durable
  5. commit the offsets                                          <- the records are now done
A crash before 4 is undone by step 2 of the next run; a crash between 4 and 5 is finished by the
next run, which finds the manifest for the same offsets and only commits.
"""
from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from connectors import parquet_sink, s3, tables
from connectors.kafka_source import (KafkaSettings, KafkaUnavailable, OffsetRange, cap_ranges,
                                     commit_ranges, plan_backlog, run_id_for, split_ranges)
from pipeline.alerting import alert_on_run
from pipeline.config import Config


class RunError(RuntimeError):
    """A run failed; the message is one line an operator can act on. Offsets were not committed."""


@dataclass
class RunSummary:
    status: str                     # "written" | "nothing to do" | "committed earlier output"
    run_id: str | None = None
    records: int = 0
    ranges: list[OffsetRange] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    removed_orphans: int = 0
    location: str = ""
    manifest: str | None = None
    alerts: dict[str, int] | None = None
    rewound: dict[int, int] | None = None   # partitions moved back by a backfill
    remaining: int = 0                      # records left after this run (max_records_per_run)
    retention_lost: dict[int, int] = field(default_factory=dict)  # partition -> records Kafka
    # deleted before the group read them (counted when the run planned its offsets)
    seconds: float = 0.0

    def line(self) -> str:
        prefix = f"replay: rewound partitions {self.rewound or 'none'}; " if self.rewound is not None else ""
        lost = (f"; LOST {sum(self.retention_lost.values())} records to Kafka retention before reading "
                f"them (partition: records {self.retention_lost})" if self.retention_lost else "")
        return prefix + self._line() + lost

    def _line(self) -> str:
        if self.status == "nothing to do":
            return "run: nothing to do (no new records); nothing written, no offsets moved"
        rows = ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items()))
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counters.items()) if k not in ("items_decoded",))
        return (f"run {self.run_id}: {self.status}: {self.records} records -> {rows or 'no rows'}"
                f"{' (' + extra + ')' if extra else ''} in {self.seconds:.1f}s; {self.location}")


class RunLock:
    """Overlapping scheduled runs must not process the same offsets: one run per lock file."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._fh = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "unknown"
            self._fh.close()
            raise RunError(f"another run holds {self.path} ({holder}); this run exits without "
                           "reading anything. Schedule runs further apart or wait for it.") from None
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}")
        self._fh.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()


def history_keys(files: list[dict], done: set[str], days: int, today: datetime | None = None) -> list[str]:
    """Files (from data_files) of committed runs in the last `days` dt partitions that dedup
    checks against."""
    today = today or datetime.now(timezone.utc)
    oldest = (today - timedelta(days=days)).strftime("%Y-%m-%d")
    return sorted(f["key"] for f in files
                  if f["table"] in ("articles", "rejects", "duplicates") and f["run"] in done
                  and f["dt"] >= oldest)


def parse_offsets(text: str) -> dict[int, int]:
    """'0:120,1:98' -> {0: 120, 1: 98}"""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        p, sep, o = part.partition(":")
        if not sep or not p.isdigit() or not o.isdigit():
            raise ValueError(f"--from-offsets: expected PARTITION:OFFSET[,...], got {part!r}")
        out[int(p)] = int(o)
    return out


def replay(config: Config, since: datetime | None = None,
           offsets: dict[int, int] | None = None) -> dict[int, int]:
    """Rewind the consumer group for a backfill; the next run reprocesses into the same tables
    and dedup against history keeps every row single."""
    from connectors.kafka_source import offsets_at, rewind

    ks = KafkaSettings.from_config(config.kafka)
    try:
        targets = dict(offsets or {})
        if since is not None:
            targets.update(offsets_at(ks, int(since.timestamp() * 1000)))
        return rewind(ks, targets)
    except KafkaUnavailable as exc:
        raise RunError(str(exc)) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    # Beam wraps worker errors; surface our own one-line reasons when they are inside.
    for marker in ("S3 write failed", "S3 delete failed", "S3 unreachable", "Kafka broker unreachable",
                   "no records from"):
        i = text.find(marker)
        if i >= 0:
            return text[i:].splitlines()[0]
    return (text.splitlines() or [type(exc).__name__])[0][:500]


def execute(config: Config, beam_args: list[str] | None = None, *, since: datetime | None = None,
            offsets: dict[int, int] | None = None) -> RunSummary:
    """One run. `since` / `offsets` first rewind the consumer group (backfill), under the same
    lock, so a concurrent run cannot commit over the rewind."""
    from apache_beam.options.pipeline_options import PipelineOptions
    import apache_beam as beam

    from pipeline import job

    started = time.monotonic()
    ks = KafkaSettings.from_config(config.kafka)
    ss = s3.S3Settings.from_config(config.s3)
    location = ss.url(ss.prefix)
    history_days = config.pipeline.history_days
    with RunLock(config.pipeline.lock_path):
        if since is not None or offsets:
            summary_moved = replay(config, since, offsets)
            # Rows of a backfilled period may sit in older dt= partitions: check them all.
            if since is not None:
                history_days = max(history_days, (datetime.now(timezone.utc) - since).days + 1)
        else:
            summary_moved = None
        try:
            planned = plan_backlog(ks)
            backlog = planned.ranges
            ranges = cap_ranges(backlog, config.pipeline.max_records_per_run)
        except KafkaUnavailable as exc:
            raise RunError(str(exc)) from None
        except Exception as exc:
            raise RunError(f"Kafka broker unreachable at {ks.bootstrap_servers}: {_first_line(exc)}") from None
        records = sum(r.size for r in ranges)
        if records == 0:
            return RunSummary("nothing to do", location=location, ranges=ranges, rewound=summary_moved,
                              retention_lost=planned.lost_by_partition(),
                              seconds=time.monotonic() - started)
        try:
            s3.check_reachable(ss)
        except s3.S3Unavailable as exc:
            raise RunError(f"{exc}; offsets not committed") from None
        run_id = run_id_for(ks.group_id, ranges)
        summary = RunSummary("written", run_id=run_id, records=records, ranges=ranges, location=location,
                             rewound=summary_moved, remaining=sum(r.size for r in backlog) - records,
                             retention_lost=planned.lost_by_partition())
        try:
            done = parquet_sink.committed_runs(ss)
            if run_id in done:
                # A previous attempt wrote everything but died before committing offsets.
                summary.alerts = alert_on_run(config, ss, parquet_sink.files_of_run(ss, run_id))
                commit_ranges(ks, ranges)
                summary.status = "committed earlier output"
                summary.seconds = time.monotonic() - started
                return summary
            existing = parquet_sink.data_files(ss)  # one listing serves clean-up and history
            try:
                summary.removed_orphans = len(parquet_sink.remove_uncommitted(ss, existing, done))
            except s3.S3DeleteError as exc:
                # Left in place, a crashed run's files stay visible to every glob reader.
                raise RunError(f"{exc}; files of unfinished runs were not removed, so this run "
                               "writes nothing; offsets not committed") from None
            history = history_keys(existing, done, history_days)
            spec = job.JobSpec(
                run_id=run_id, kafka=ks, s3=ss,
                splits=tuple(split_ranges(ranges, config.pipeline.split_size)),
                shards=tables.shards_for(records, config.pipeline.rows_per_file),
                history_keys=tuple(history),
                near_dup_threshold=config.pipeline.near_dup_threshold,
                nlp_model=config.nlp.model if config.pipeline.nlp_enabled else None,
                nlp_models=tuple(sorted(config.nlp.language_models().items())),
                nlp_batch_size=config.nlp.batch_size, nlp_batch_chars=config.nlp.batch_chars,
                leaders_file=config.nlp.leaders_file)
            options = PipelineOptions(list(config.pipeline.beam_args) + list(beam_args or []))
            p = beam.Pipeline(options=options)
            job.build(p, spec)
            result = p.run()
            result.wait_until_finish()
            summary.counters = _counters(result)
            files = parquet_sink.files_of_run(ss, run_id)
        except RunError:
            raise
        except Exception as exc:
            raise RunError(f"run {run_id} failed: {_first_line(exc)}; offsets not committed, "
                           "the next run retries these records") from None
        summary.files = [f.key for f in files]
        for f in files:
            summary.rows[f.table] = summary.rows.get(f.table, 0) + f.rows
        try:
            summary.manifest = parquet_sink.write_manifest(ss, run_id, {
                "run_id": run_id, "group_id": ks.group_id,
                "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "offsets": [vars(r) for r in ranges],
                "files": [{"table": f.table, "key": f.key, "rows": f.rows} for f in files],
                "rows": summary.rows, "counters": summary.counters,
                "retention_lost": [vars(loss) | {"records": loss.records} for loss in planned.lost]})
            summary.alerts = alert_on_run(config, ss, files)
            commit_ranges(ks, ranges)
        except Exception as exc:
            raise RunError(f"run {run_id} wrote its files but could not finish: {_first_line(exc)}; "
                           "offsets not committed, the next run completes it") from None
        summary.seconds = time.monotonic() - started
        return summary


def execute_in_fresh_process(config: Config, beam_args, since, offsets, log_setup) -> RunSummary:
    """One run in a spawned process: whatever memory it takes is returned when it exits."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    from pipeline.fresh_process import execute_child

    proc = ctx.Process(target=execute_child, args=(child, config, beam_args, since, offsets, log_setup))
    proc.start()
    child.close()
    try:
        kind, value = parent.recv()
    except EOFError:
        proc.join()
        raise RunError(f"run process died (exit code {proc.exitcode}); offsets of unfinished work "
                       "were not committed, the next run retries it") from None
    proc.join()
    if kind == "error":
        raise RunError(value)
    return value


def keep_logging() -> None:
    """Default log set-up of a spawned run: none (a module-level function, so it pickles)."""


def drain(config: Config, beam_args, since=None, offsets=None, log_setup=keep_logging,
          on_run=lambda summary: None) -> list[RunSummary]:
    """Runs until the backlog is processed. Without a per-run cap: one run in this process.
    With one: every run in a fresh process, so peak memory is set by the cap, not the backlog;
    the backfill rewind (since/offsets) applies to the first run only."""
    if config.pipeline.max_records_per_run is None:
        summary = execute(config, beam_args, since=since, offsets=offsets)
        on_run(summary)
        return [summary]
    summaries = []
    while True:
        summary = execute_in_fresh_process(config, beam_args, since, offsets, log_setup)
        on_run(summary)
        summaries.append(summary)
        since, offsets = None, None
        if summary.status != "written" or summary.remaining <= 0:
            return summaries


def _counters(result) -> dict[str, int]:
    from apache_beam.metrics.metric import MetricsFilter

    from pipeline.job import NAMESPACE

    out: dict[str, int] = {}
    try:
        for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
            out[c.key.metric.name] = out.get(c.key.metric.name, 0) + (c.committed or c.attempted or 0)
    except Exception:  # some runners report no metrics; the row counts still come from S3
        pass
    return out

