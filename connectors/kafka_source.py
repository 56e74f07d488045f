"""Kafka as a bounded Beam source for scheduled runs.

A run reads, per partition, from the consumer group's committed offset to the end offset captured
when the run starts. Those [start, end) ranges are split into chunks so workers share the work, and
are committed only after every output of the run is durable (see pipeline/run.py).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import apache_beam as beam

from connectors.errors import KafkaAccessDenied, KafkaUnavailable
from connectors.kafka_config import KafkaConfig
from connectors.kafka_diagnose import connect_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaSettings:
    """Picklable Kafka connection settings for the launcher and Beam workers."""

    bootstrap_servers: str
    topic: str
    group_id: str
    client_config: dict[str, Any] = field(default_factory=dict)
    request_timeout_ms: int = 10000

    @classmethod
    def from_config(cls, c: KafkaConfig) -> "KafkaSettings":
        return cls(c.bootstrap_servers, c.topic, c.group_id, dict(c.client_config), c.request_timeout_ms)

    def client_kwargs(self) -> dict[str, Any]:
        # bootstrap_timeout_ms: give up (and say why) after one request timeout, not kafka-python's 30 s.
        kw = {"bootstrap_servers": self.bootstrap_servers.split(","),
              "request_timeout_ms": self.request_timeout_ms, "bootstrap_timeout_ms": self.request_timeout_ms}
        kw.update(self.client_config)
        return kw


@dataclass(frozen=True, order=True)
class OffsetRange:
    """Offsets [start, end) of one partition."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return max(0, self.end - self.start)


_PIPELINE_NEEDS = "the pipeline's principal needs READ and DESCRIBE on the topic and on its consumer group " \
                  "(`newsbeam kafka acls` prints them)"


def probe_bootstrap(s: KafkaSettings) -> None:
    """Fail fast with a clear reason when no bootstrap address accepts a TCP connection
    (the client itself retries for its whole timeout before giving up)."""
    import socket

    errors = []
    for addr in s.bootstrap_servers.split(","):
        host, _, port = addr.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)),
                                          timeout=min(5.0, s.request_timeout_ms / 1000)):
                return
        except OSError as exc:
            errors.append(exc.strerror or type(exc).__name__)
    raise KafkaUnavailable(f"Kafka broker unreachable at {s.bootstrap_servers}: {'; '.join(errors)}")


def _consumer(s: KafkaSettings, group_id: str | None):
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    try:
        return KafkaConsumer(group_id=group_id, enable_auto_commit=False,
                             auto_offset_reset="earliest", **s.client_kwargs())
    except KafkaError as exc:
        # kafka-python says "Unable to bootstrap" whatever failed: find out whether TCP, TLS or the login.
        raise KafkaUnavailable(connect_failure(s.bootstrap_servers, s.client_config, exc).line) from None


@dataclass(frozen=True)
class RetentionLoss:
    """Records of one partition that Kafka's retention deleted before the group read them:
    offsets [committed, log_start)."""

    topic: str
    partition: int
    committed: int
    log_start: int

    @property
    def records(self) -> int:
        return self.log_start - self.committed


@dataclass(frozen=True)
class Backlog:
    ranges: list[OffsetRange]
    lost: list[RetentionLoss] = field(default_factory=list)

    @property
    def lost_records(self) -> int:
        return sum(loss.records for loss in self.lost)

    def lost_by_partition(self) -> dict[int, int]:
        return {loss.partition: loss.records for loss in self.lost}


def partition_backlog(topic: str, partition: int, committed: int | None, log_start: int,
                      end: int) -> tuple[OffsetRange, RetentionLoss | None]:
    """Where a partition's run starts, and what retention deleted unread (pure).

    Without a committed offset the group never read this partition (a new group): it starts at
    the log start and nothing counts as lost."""
    if committed is None:
        return OffsetRange(topic, partition, log_start, end), None
    if committed < log_start:
        return OffsetRange(topic, partition, log_start, end), RetentionLoss(topic, partition, committed, log_start)
    return OffsetRange(topic, partition, committed, end), None


def plan_backlog(s: KafkaSettings) -> Backlog:
    """Committed offset (or the log start) to the current end offset, per partition, and the
    records retention deleted before the group read them (each logged as a warning)."""
    from kafka.errors import AuthorizationError

    probe_bootstrap(s)
    consumer = _consumer(s, s.group_id)
    try:
        return _plan(consumer, s)
    except AuthorizationError as exc:
        raise KafkaAccessDenied(f"Kafka denied the run access to topic {s.topic!r} / group {s.group_id!r} at "
                                f"{s.bootstrap_servers}: {type(exc).__name__}; {_PIPELINE_NEEDS}") from None
    finally:
        consumer.close(autocommit=False)


def _plan(consumer, s: KafkaSettings) -> Backlog:
    from kafka import TopicPartition

    partitions = consumer.partitions_for_topic(s.topic)
    if not partitions:
        return Backlog([])
    tps = [TopicPartition(s.topic, p) for p in sorted(partitions)]
    begin = consumer.beginning_offsets(tps)
    end = consumer.end_offsets(tps)
    ranges, lost = [], []
    for tp in tps:
        r, loss = partition_backlog(s.topic, tp.partition, consumer.committed(tp), begin[tp], end[tp])
        ranges.append(r)
        if loss:
            lost.append(loss)
            log.warning("%s[%d]: %d records deleted by Kafka retention before group %s read them "
                        "(committed offset %d, log start %d): raise the topic's retention.ms or "
                        "run more often", s.topic, loss.partition, loss.records, s.group_id,
                        loss.committed, loss.log_start)
    return Backlog(ranges, lost)


class BacklogWatch:
    """How many records wait for the group, asked over one long-lived connection: a continuous
    process looks every few seconds, and a new client per look (bootstrap, metadata) would cost
    more than the look. ``close()`` when done; a Kafka error closes the connection, and the next
    look opens a new one."""

    def __init__(self, s: KafkaSettings):
        self._settings, self._consumer = s, None

    def waiting(self) -> int:
        if self._consumer is None:
            probe_bootstrap(self._settings)
            self._consumer = _consumer(self._settings, self._settings.group_id)
        try:
            return sum(r.size for r in _plan(self._consumer, self._settings).ranges)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            try:
                consumer.close(autocommit=False)
            except Exception:  # noqa: BLE001 - already broken; nothing to hand back
                pass


def plan_ranges(s: KafkaSettings) -> list[OffsetRange]:
    """Committed offset (or the log start) to the current end offset, per partition."""
    return plan_backlog(s).ranges


def cap_ranges(ranges: list[OffsetRange], max_records: int | None) -> list[OffsetRange]:
    """The oldest ~max_records of the backlog, shared by partition backlog (rounded up so every
    non-empty partition advances). Deterministic in the planned offsets, so a retried run gets the
    same ranges and run id."""
    total = sum(r.size for r in ranges)
    if max_records is None or total <= max_records:
        return ranges
    out = []
    for r in ranges:
        take = -(-max_records * r.size // total)  # ceil
        out.append(OffsetRange(r.topic, r.partition, r.start, min(r.end, r.start + take)))
    return out


def split_ranges(ranges: list[OffsetRange], split_size: int) -> list[OffsetRange]:
    """Chunks of at most split_size records: the unit a worker reads."""
    out = []
    for r in ranges:
        for a in range(r.start, r.end, split_size):
            out.append(OffsetRange(r.topic, r.partition, a, min(a + split_size, r.end)))
    return out


def run_id_for(group_id: str, ranges: list[OffsetRange]) -> str:
    """Same group and offsets -> same id -> same file names, so a rerun overwrites, never adds."""
    h = hashlib.sha256(group_id.encode())
    for r in sorted(ranges):
        h.update(f"|{r.topic}:{r.partition}:{r.start}:{r.end}".encode())
    return h.hexdigest()[:16]


def commit_ranges(s: KafkaSettings, ranges: list[OffsetRange]) -> None:
    """Commit each partition's end offset for the group (the next offset to read)."""
    ends = {r.partition: r.end for r in ranges if r.size > 0}
    if ends:
        reset_offsets(s, ends)


def reset_offsets(s: KafkaSettings, to: dict[int, int]) -> None:
    """Set the group's committed offset of each partition (replay / backfill)."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = _consumer(s, s.group_id)
    try:
        consumer.commit({TopicPartition(s.topic, p): OffsetAndMetadata(o, "", -1) for p, o in to.items()})
    finally:
        consumer.close(autocommit=False)


def read_range(consumer, r: OffsetRange, poll_timeout_ms: int = 1000,
               max_empty_polls: int = 30) -> Iterator[dict]:
    """Yield the records of one range as dicts; stops at r.end (gaps from compaction are fine)."""
    from kafka import TopicPartition

    tp = TopicPartition(r.topic, r.partition)
    consumer.assign([tp])
    consumer.seek(tp, r.start)
    empty = 0
    while consumer.position(tp) < r.end:
        batch = consumer.poll(timeout_ms=poll_timeout_ms).get(tp, [])
        if not batch:
            empty += 1
            if empty >= max_empty_polls:
                raise KafkaUnavailable(f"no records from {r.topic}[{r.partition}] at offset "
                                       f"{consumer.position(tp)} (wanted up to {r.end})")
            continue
        empty = 0
        for m in batch:
            if m.offset >= r.end:
                return
            yield {"topic": m.topic, "partition": m.partition, "offset": m.offset,
                   "key": m.key, "value": m.value, "timestamp_ms": m.timestamp}


class _ReadRangeFn(beam.DoFn):
    def __init__(self, settings: KafkaSettings):
        self._settings = settings
        self._consumer = None

    def setup(self):
        self._consumer = _consumer(self._settings, None)

    def process(self, r: OffsetRange):
        yield from read_range(self._consumer, r)

    def teardown(self):
        if self._consumer is not None:
            self._consumer.close(autocommit=False)


class ReadOffsetRanges(beam.PTransform):
    """PBegin -> PCollection[dict(topic, partition, offset, key, value, timestamp_ms)]."""

    def __init__(self, settings: KafkaSettings, ranges: list[OffsetRange]):
        super().__init__()
        self._settings = settings
        self._ranges = [asdict(r) for r in ranges]

    def expand(self, pbegin):
        return (pbegin
                | "Ranges" >> beam.Create(self._ranges)
                | "ToRange" >> beam.Map(lambda d: OffsetRange(**d))
                # Reshuffle so the ranges spread over workers instead of staying in one bundle.
                | "Spread" >> beam.Reshuffle()
                | "Read" >> beam.ParDo(_ReadRangeFn(self._settings)))


def offsets_at(s: KafkaSettings, timestamp_ms: int) -> dict[int, int]:
    """Per partition, the first offset whose record timestamp is >= timestamp_ms (end if none)."""
    from kafka import TopicPartition

    consumer = _consumer(s, None)
    try:
        tps = [TopicPartition(s.topic, p) for p in sorted(consumer.partitions_for_topic(s.topic) or [])]
        found = consumer.offsets_for_times({tp: timestamp_ms for tp in tps})
        end = consumer.end_offsets(tps)
        return {tp.partition: (found[tp].offset if found.get(tp) else end[tp]) for tp in tps}
    finally:
        consumer.close(autocommit=False)


def topic_exists(s: KafkaSettings) -> int:
    """Partitions of the topic, 0 when it does not exist (listing never auto-creates it)."""
    consumer = _consumer(s, None)
    try:
        if s.topic not in consumer.topics():
            return 0
        return len(consumer.partitions_for_topic(s.topic) or ())
    finally:
        consumer.close(autocommit=False)


def committed_offsets(s: KafkaSettings) -> dict[int, int | None]:
    from kafka import TopicPartition

    consumer = _consumer(s, s.group_id)
    try:
        parts = sorted(consumer.partitions_for_topic(s.topic) or [])
        return {p: consumer.committed(TopicPartition(s.topic, p)) for p in parts}
    finally:
        consumer.close(autocommit=False)


def rewind(s: KafkaSettings, targets: dict[int, int]) -> dict[int, int]:
    """Move the group's committed offsets back to targets (never forward: that would skip
    records nobody processed yet). Returns the partitions that moved and their new offsets."""
    current = committed_offsets(s)
    moved = {p: o for p, o in targets.items()
             if p in current and (current[p] is None or o < current[p])}
    if moved:
        reset_offsets(s, moved)
    return moved
