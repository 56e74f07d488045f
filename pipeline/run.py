"""One scheduled run: claim the consumer group, plan offsets, clean up after crashed runs, run
Beam, publish, commit.

Order matters for exactly-once effect:
  0. take the local lock (fast, one host) and the group's claim on S3 (every host: only one run
     per consumer group reads, writes and commits at a time; connectors/run_claim.py)
  1. capture [committed, end) per partition -> run id (same offsets -> same id -> same files)
  2. delete files of runs that never wrote a manifest (a crash left them; their offsets were
     never committed, so this run reprocesses those records)
  3. run the pipeline (files land under the run id; its counters in `_counters/<run_id>.json`)
  4. fence: the claim is still ours (renewed) and the group's offsets are where we planned from
  5. write `_runs/<run_id>.json` (files, row counts, offsets)   <- the run is now durable
  6. symlink manifests for other engines; register every committed run not yet in the Iceberg
     tables (only with iceberg.catalog; pipeline/iceberg.py, one commit per table); alerts for
     every committed run not yet alerted (failures are kept for a retry, never fatal)
  7. fence again, then commit the offsets                        <- the records are now done
A crash before 5 is undone by step 2 of the next run; a crash between 5 and 7 is finished by the
next run, which finds the manifest for the same offsets and only registers, alerts and commits (or,
with new records, finds the earlier ones already written (replayed) and registers and alerts the
committed run anyway; registering is idempotent: a run an Iceberg snapshot names is not added again).
A run that fails a fence was overtaken (docs/architecture.md, *One run per consumer group*): it
writes no manifest, commits nothing, removes its own files when that is safe, and exits with
RunFenced's status.

Failures are `connectors.errors` types (RunLocked / ClaimHeld, KafkaUnavailable, S3Unavailable,
RunFailed, RunFenced), each with its exit status; a run never reads Beam's error text except
through `errors.from_failure`.
"""
from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from connectors import run_ledger, s3, tables
from connectors.errors import (ClaimLost, ConfigError, KafkaUnavailable, OperatorError, RunFailed,
                               RunFenced, RunLocked, S3DeleteError, S3Unavailable, from_failure)
from connectors.fencing import describe_moved, may_remove_own_files, offsets_moved
from connectors.history import history_files
from connectors.kafka_source import (Backlog, KafkaSettings, OffsetRange, cap_ranges, commit_ranges,
                                     committed_offsets, plan_backlog, run_id_for, split_ranges)
from connectors.run_claim import RunClaim
from pipeline.alerting import alert_committed, failures, prime_alerts, retry_alerts
from pipeline.config import Config
from pipeline.fresh_process import no_log_setup, run_in_fresh_process
from pipeline.iceberg import register as register_in_iceberg

log = logging.getLogger(__name__)


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
    alerts: dict[str, int] | None = None    # dispatch summary; None: no alert rules / nothing to retry
    rewound: dict[int, int] | None = None   # partitions moved back by a backfill
    remaining: int = 0                      # records left after this run (max_records_per_run)
    retention_lost: dict[int, int] = field(default_factory=dict)  # partition -> records Kafka
    # deleted before the group read them (counted when the run planned its offsets)
    iceberg: dict[str, int] | None = None   # rows registered per Iceberg table; None: no catalog
    seconds: float = 0.0

    @property
    def alert_failures(self) -> int:
        return failures(self.alerts)

    def line(self) -> str:
        prefix = f"replay: rewound partitions {self.rewound or 'none'}; " if self.rewound is not None else ""
        lost = (f"; LOST {sum(self.retention_lost.values())} records to Kafka retention before reading "
                f"them (partition: records {self.retention_lost})" if self.retention_lost else "")
        registered = ""
        if self.iceberg is not None and self.status != "nothing to do":
            added = ", ".join(f"{t} +{n}" for t, n in sorted(self.iceberg.items()) if n)
            registered = "; iceberg: " + (added or ("registered, no rows" if self.iceberg else
                                                    "nothing new to register"))
        return prefix + self._line() + registered + lost

    def _line(self) -> str:
        if self.status == "nothing to do":
            return "run: nothing to do (no new records); nothing written, no offsets moved"
        rows = ", ".join(f"{t} {n}" for t, n in sorted(self.rows.items()))
        # counters that counted something (the manifest keeps them all, zeros included)
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counters.items())
                          if v and k not in ("items_decoded",))
        return (f"run {self.run_id}: {self.status}: {self.records} records -> {rows or 'no rows'}"
                f"{' (' + extra + ')' if extra else ''} in {self.seconds:.1f}s; {self.location}")


class RunLock:
    """Overlapping scheduled runs must not process the same offsets: one run per lock file.

    The file also names the run's S3 claim token (`note_claim`): the next run that takes this
    lock knows that run has ended, so it may take its claim over at once (`previous_claim`)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self._fh = None
        self.previous_claim: str | None = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._fh.seek(0)
            holder = self._fh.read().strip() or "unknown"
            self._fh.close()
            raise RunLocked(f"another run holds {self.path} ({holder.split(' claim ')[0]}); this run "
                            "exits without reading anything. Schedule runs further apart or wait for it.") from None
        self._fh.seek(0)
        _, _, token = self._fh.read().strip().partition(" claim ")
        self.previous_claim = token or None
        self._since = f"pid {os.getpid()} since {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"
        self._write(self._since)
        return self

    def _write(self, text: str) -> None:
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(text)
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def note_claim(self, token: str) -> None:
        self._write(f"{self._since} claim {token}")

    def __exit__(self, *exc):
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()


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
    except OperatorError:
        raise
    except Exception as exc:  # kafka-python's own errors: the broker did not answer as needed
        raise KafkaUnavailable(f"Kafka broker unreachable at {ks.bootstrap_servers}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:500]


def _plan(ks: KafkaSettings, max_records: int | None) -> tuple[Backlog, list[OffsetRange]]:
    try:
        backlog = plan_backlog(ks)
    except OperatorError:
        raise
    except Exception as exc:  # kafka-python's own errors (timeouts, metadata): the broker did not answer
        raise KafkaUnavailable(f"Kafka broker unreachable at {ks.bootstrap_servers}: {_first_line(exc)}") from None
    return backlog, cap_ranges(backlog.ranges, max_records)


def _run_pipeline(config: Config, beam_args, spec) -> dict[str, int]:
    """Run the job on the runner the Beam options name; returns the counters the job wrote."""
    import apache_beam as beam

    from pipeline import engines, job

    options = engines.pipeline_options(list(config.pipeline.beam_args) + list(beam_args or []),
                                       len(spec.splits))
    p = beam.Pipeline(options=options)
    job.build(p, spec)
    result = p.run()
    result.wait_until_finish()
    return run_ledger.read_counters(spec.s3, spec.run_id)


def _group_offsets(ks: KafkaSettings) -> dict[int, int | None]:
    try:
        return committed_offsets(ks)
    except OperatorError:
        raise
    except Exception as exc:  # kafka-python's own errors: the broker did not answer
        raise KafkaUnavailable(f"Kafka broker unreachable at {ks.bootstrap_servers}: {_first_line(exc)}") from None


def _check_still_ours(claim: RunClaim, ks: KafkaSettings, planned_from: dict[int, int | None]) -> None:
    """The fence before publishing: the claim renews (so it is ours for a fresh lease) and no
    other run moved the group's offsets since we planned. Raises ClaimLost otherwise."""
    claim.confirm()
    moved = offsets_moved(planned_from, _group_offsets(ks))
    if moved:
        raise ClaimLost(describe_moved(moved))


def _remove_fenced_files(ss: s3.S3Settings, claim: RunClaim, run_id: str) -> str:
    """Remove a fenced run's files when no other run can own the same names (connectors/fencing.py);
    returns what happened, as words for its message."""
    try:
        removable, why = may_remove_own_files(run_id, run_ledger.committed_runs(ss),
                                              claim.current_holder(), claim.body.token)
        if not removable:
            return why
        keys = [f.key for f in run_ledger.data_files(ss) if f.run == run_id]
        if keys:
            s3.delete_keys(ss, keys)
        return f"its {len(keys)} file(s) removed"
    except Exception as exc:
        return f"its files are left for the claim holder's clean-up ({type(exc).__name__})"


def _claim_failure(ss: s3.S3Settings, claim: RunClaim, exc: Exception) -> S3Unavailable:
    """One line for a claim that could not be read or written: refused (rights) or unreachable."""
    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    if code in ("AccessDenied", "Forbidden", "403"):
        return S3Unavailable(f"S3 denied the run claim {ss.url(claim.key)} at {s3.describe_endpoint(ss)} "
                             f"({code}): the run's identity needs s3:GetObject and s3:PutObject there; "
                             "this run read and wrote nothing, offsets not committed")
    return S3Unavailable(f"S3 unreachable at {s3.describe_endpoint(ss)}: run claim {ss.url(claim.key)}: "
                         f"{_first_line(exc)}; offsets not committed")


def _publish_symlinks(ss: s3.S3Settings, files: list[run_ledger.DataFile]) -> int:
    """Symlink manifests for engines that read file lists; a failure is logged and healed by the
    next run (they are rewritten whenever older than a committed run)."""
    from connectors.committed_files import publish_symlinks

    try:
        return len(publish_symlinks(ss, files))
    except Exception as exc:
        log.error("symlink manifests not updated (%s: %s); the next run rewrites them",
                  type(exc).__name__, _first_line(exc))
        return 0


def execute(config: Config, beam_args: list[str] | None = None, *, since: datetime | None = None,
            offsets: dict[int, int] | None = None) -> RunSummary:
    """One run. `since` / `offsets` first rewind the consumer group (backfill), under the same
    lock and claim, so a concurrent run cannot commit over the rewind."""
    started = time.monotonic()
    leaders = _leaders(config.nlp.leaders_file) if config.pipeline.nlp_enabled else None
    ks = KafkaSettings.from_config(config.kafka)
    ss = s3.S3Settings.from_config(config.s3)
    location = ss.url(ss.prefix)
    with RunLock(config.pipeline.lock_path) as lock:
        if since is None and not offsets:
            # Nothing new: done without touching S3 (the usual case every 15 minutes).
            planned, ranges = _plan(ks, config.pipeline.max_records_per_run)
            if sum(r.size for r in ranges) == 0:
                return RunSummary("nothing to do", location=location, ranges=ranges,
                                  retention_lost=planned.lost_by_partition(),
                                  alerts=retry_alerts(config.alerts), seconds=time.monotonic() - started)
        try:
            s3.check_reachable(ss)
        except S3Unavailable as exc:  # before anything is read
            raise type(exc)(f"{exc}; offsets not committed") from None  # keeps the cause: bucket, access...
        claim = RunClaim(ss, ks.group_id, config.pipeline.claim_lease_seconds)
        try:
            claim.acquire(successor_of=lock.previous_claim)  # ClaimHeld (a RunLocked) when taken
            lock.note_claim(claim.body.token)
        except OperatorError:
            raise
        except Exception as exc:
            raise _claim_failure(ss, claim, exc) from None
        try:
            return _claimed_run(config, beam_args, claim, ks, ss, leaders, since, offsets, started)
        finally:
            claim.release()


def _claimed_run(config: Config, beam_args, claim: RunClaim, ks: KafkaSettings, ss: s3.S3Settings,
                 leaders, since, offsets, started: float) -> RunSummary:
    """Steps 1-7 of the module docstring, with the group's claim held."""
    from pipeline import job

    location = ss.url(ss.prefix)
    history_days = config.pipeline.history_days
    rewound = replay(config, since, offsets) if since is not None or offsets else None
    if since is not None:
        # Rows of a backfilled period may sit in older dt= partitions: check them all.
        history_days = max(history_days, (datetime.now(timezone.utc) - since).days + 1)
    # Read before planning: an offset committed in between then shows up as moved (safe side).
    planned_from = _group_offsets(ks)
    planned, ranges = _plan(ks, config.pipeline.max_records_per_run)
    records = sum(r.size for r in ranges)
    if records == 0:
        return RunSummary("nothing to do", location=location, ranges=ranges, rewound=rewound,
                          retention_lost=planned.lost_by_partition(),
                          alerts=retry_alerts(config.alerts), seconds=time.monotonic() - started)
    run_id = run_id_for(ks.group_id, ranges)
    summary = RunSummary("written", run_id=run_id, records=records, ranges=ranges, location=location,
                         rewound=rewound, remaining=sum(r.size for r in planned.ranges) - records,
                         retention_lost=planned.lost_by_partition())
    try:
        claim.note_plan(run_id, [vars(r) for r in ranges])
        done = run_ledger.committed_runs(ss)  # one listing: alerts, clean-up, history
        prime_alerts(config.alerts, ss, committed=done)
        if run_id in done:
            # A previous attempt wrote everything but died before committing offsets.
            _publish_symlinks(ss, run_ledger.data_files(ss))
            summary.iceberg = register_in_iceberg(config, ss)
            summary.alerts = alert_committed(config.alerts, ss, run_id, committed=done)
            try:
                _check_still_ours(claim, ks, planned_from)
            except ClaimLost as exc:
                raise RunFenced(f"run {run_id} fenced: {exc}; its rows were committed by an earlier "
                                "attempt, offsets not committed: the run holding the claim commits "
                                "past them") from None
            commit_ranges(ks, ranges)
            summary.status = "committed earlier output"
            summary.seconds = time.monotonic() - started
            return summary
        existing = run_ledger.data_files(ss)  # one listing serves clean-up and history
        try:
            summary.removed_orphans = len(run_ledger.remove_uncommitted(ss, existing, done))
            # Counters of runs that died before their manifest: this run's must be its own.
            run_ledger.delete_counters(ss)
        except S3DeleteError as exc:
            # Left in place, a crashed run's files stay visible to every glob reader.
            raise S3DeleteError(f"{exc}; files of unfinished runs were not removed, so this run "
                                "writes nothing; offsets not committed", exc.failed) from None
        spec = job.JobSpec(
            run_id=run_id, kafka=ks, s3=ss,
            splits=tuple(split_ranges(ranges, config.pipeline.split_size)),
            shards=tables.shards_for(records, config.pipeline.rows_per_file),
            history_keys=tuple(history_files(existing, done, history_days)),
            near_dup_threshold=config.pipeline.near_dup_threshold,
            nlp_model=config.nlp.model if config.pipeline.nlp_enabled else None,
            nlp_models=tuple(sorted(config.nlp.language_models().items())),
            nlp_batch_size=config.nlp.batch_size, nlp_batch_chars=config.nlp.batch_chars,
            nlp_max_chars=config.nlp.max_chars, leaders=leaders,
            reported_speech=config.nlp.reported_speech)
        summary.counters = _run_pipeline(config, beam_args, spec)
        files = run_ledger.files_of_run(ss, run_id)
    except (S3DeleteError, RunFenced):
        raise  # say all they need already
    except Exception as exc:
        raise _failed(exc, f"run {run_id} failed", "the next run retries these records") from None
    summary.files = [f.key for f in files]
    for f in files:
        summary.rows[f.table] = summary.rows.get(f.table, 0) + f.rows
    try:
        _check_still_ours(claim, ks, planned_from)
    except ClaimLost as exc:
        left = _remove_fenced_files(ss, claim, run_id)
        raise RunFenced(f"run {run_id} fenced: {exc}; no manifest written, offsets not committed, "
                        f"{left}; the run holding the claim processes these records") from None
    except Exception as exc:
        raise _failed(exc, f"run {run_id} could not check its claim before its manifest",
                      "the next run retries these records") from None
    try:
        summary.manifest = run_ledger.write_manifest(ss, run_ledger.RunManifest(
            run_id=run_id, group_id=ks.group_id,
            finished_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            offsets=[vars(r) for r in ranges],
            files=[{"table": f.table, "key": f.key, "rows": f.rows} for f in files],
            rows=summary.rows, counters=summary.counters,
            retention_lost=[vars(loss) | {"records": loss.records} for loss in planned.lost]))
        run_ledger.delete_counters(ss, [run_id])  # the manifest holds them now
        # Files of runs committed before this one, and this run's own: an earlier attempt of the
        # same offsets (same run id) may have had other shards, removed above as orphans.
        own = {f.key for f in files}
        _publish_symlinks(ss, [f for f in existing if f.run in done and f.run != run_id]
                          + [f for f in map(run_ledger.parse_file_key, own) if f])
        summary.iceberg = register_in_iceberg(config, ss)
        # the claim is ours: no other run committed since `done` was listed
        summary.alerts = alert_committed(config.alerts, ss, run_id, committed=done | {run_id})
    except Exception as exc:
        raise _failed(exc, f"run {run_id} wrote its files but could not finish",
                      "the next run completes it") from None
    try:
        _check_still_ours(claim, ks, planned_from)
        commit_ranges(ks, ranges)
    except ClaimLost as exc:
        raise RunFenced(f"run {run_id} fenced after its manifest: {exc}; its rows are committed, "
                        "offsets not committed: the run holding the claim finds these records already "
                        "written and commits past them") from None
    except Exception as exc:
        raise _failed(exc, f"run {run_id} wrote its files but could not finish",
                      "the next run completes it") from None
    summary.seconds = time.monotonic() - started
    return summary


def _failed(exc: BaseException, what: str, then: str) -> OperatorError:
    """The same error type with the run's context around its reason: an S3 outage stays
    S3Unavailable (exit 4) whether it surfaced here or inside a Beam worker."""
    cause = from_failure(exc)
    reason = str(cause) if cause is not None else _first_line(exc)
    cls = type(cause) if cause is not None else RunFailed
    return cls(f"{what}: {reason}; offsets not committed, {then}")


def execute_in_fresh_process(config: Config, beam_args, since, offsets, log_setup=no_log_setup) -> RunSummary:
    """One run in a spawned process: whatever memory it takes is returned when it exits."""
    return run_in_fresh_process("pipeline.run:execute", (config, beam_args),
                                {"since": since, "offsets": offsets}, log_setup)


def drain(config: Config, beam_args, since=None, offsets=None, log_setup=no_log_setup,
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


def _leaders(path: str | None):
    """The leaders list of ``nlp.leaders_file``, read here by the launcher: it travels to the
    workers with the job, which on a cluster do not share this machine's disk."""
    if not path:
        return None
    from transforms.leaders import load_gazetteer

    try:
        return load_gazetteer(path)
    except Exception as exc:
        raise ConfigError(f"nlp.leaders_file {path}: cannot be read: {type(exc).__name__}: "
                          f"{_first_line(exc)}; nothing read, no offsets moved") from None
