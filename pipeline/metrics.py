"""Prometheus metrics for the scheduled run (textfile collector or Pushgateway).

A run is a short-lived process, so nothing can scrape it: its summary is either written as a
node_exporter textfile or pushed to a Pushgateway. Both are called only after a run whose data
is committed, so after a failure the previous file/group stays and
`newsbeam_run_last_success_timestamp_seconds` ages, which is what an alert should watch. The
poller is long-running and serves /metrics itself (connectors/feeds/poll_metrics.py,
connectors/feeds/ops_http.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

from transforms import counters as names


@dataclass(frozen=True)
class RunMetrics:
    """The numbers of one finished run (`pipeline.run.RunSummary`) that monitoring needs."""

    status: str
    records: int
    rows: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    replayed: int = 0
    quotes: int = 0
    leadership_statements: int = 0
    rejects: int = 0
    alert_failures: int = 0
    seconds: float = 0.0
    consumer_lag: int = 0
    finished_at: float = 0.0
    retention_lost: dict[int, int] = field(default_factory=dict)  # partition -> records

    @classmethod
    def from_summary(cls, summary, consumer_lag: int = 0, finished_at: float | None = None) -> "RunMetrics":
        counters = summary.counters or {}
        return cls(status=summary.status, records=summary.records, rows=dict(summary.rows or {}),
                   duplicates=counters.get(names.DUPLICATES_DROPPED, 0),
                   replayed=counters.get(names.REPLAYED_ROWS, 0),
                   quotes=counters.get(names.QUOTES, 0),
                   leadership_statements=counters.get(names.LEADERSHIP_STATEMENTS, 0),
                   rejects=counters.get(names.REJECTS, 0),
                   alert_failures=getattr(summary, "alert_failures", 0), seconds=summary.seconds,
                   consumer_lag=consumer_lag,
                   finished_at=time.time() if finished_at is None else finished_at,
                   retention_lost=dict(getattr(summary, "retention_lost", None) or {}))

    def registry(self) -> CollectorRegistry:
        """A fresh registry holding only this run's values (never the process-global one)."""
        reg = CollectorRegistry()

        def gauge(name: str, doc: str, value: float) -> None:
            Gauge(name, doc, registry=reg).set(value)

        # Values of the last successful run, so they are gauges even where the name ends in _total.
        gauge("newsbeam_run_records_total", "Kafka records read by the last run", self.records)
        rows = Gauge("newsbeam_run_rows", "Parquet rows written by the last run", ["table"], registry=reg)
        for table, n in sorted(self.rows.items()):
            rows.labels(table=table).set(n)
        gauge("newsbeam_run_duplicates_total", "items dropped as duplicates by the last run", self.duplicates)
        gauge("newsbeam_run_replayed_total", "records of a replay whose rows an earlier run wrote (skipped)",
              self.replayed)
        gauge("newsbeam_run_quotes_total", "quotes extracted by the last run", self.quotes)
        gauge("newsbeam_run_leadership_statements_total", "leadership statements found by the last run",
              self.leadership_statements)
        gauge("newsbeam_run_rejects_total", "records rejected by the last run", self.rejects)
        gauge("newsbeam_run_alert_failures", "alert deliveries the last run could not make (retried "
              "by the next run or `newsbeam alerts retry`)", self.alert_failures)
        gauge("newsbeam_run_duration_seconds", "wall time of the last run", self.seconds)
        gauge("newsbeam_run_last_success_timestamp_seconds", "Unix time the last successful run finished",
              self.finished_at)
        gauge("newsbeam_consumer_lag_records", "records in Kafka not yet processed after the last run",
              self.consumer_lag)
        lost = Gauge("newsbeam_run_retention_lost_records",
                     "records Kafka retention deleted before the last run could read them, per partition",
                     ["partition"], registry=reg)
        for partition, n in sorted(self.retention_lost.items()):
            lost.labels(partition=str(partition)).set(n)
        gauge("newsbeam_run_retention_lost_records_total",
              "records Kafka retention deleted before the last run could read them",
              sum(self.retention_lost.values()))
        return reg


def write_textfile(summary, path: str | Path, consumer_lag: int = 0) -> RunMetrics:
    """Write the run's metrics for node_exporter's textfile collector (`*.prom` in its directory).

    prometheus_client writes a temp file next to `path` and renames it, so the collector never
    reads a half-written file."""
    metrics = RunMetrics.from_summary(summary, consumer_lag)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), metrics.registry())
    return metrics


def push(summary, gateway_url: str, job: str = "newsbeam_run", consumer_lag: int = 0,
         timeout: float = 10.0) -> RunMetrics:
    """PUT the run's metrics to a Pushgateway; replaces the job's previous group."""
    metrics = RunMetrics.from_summary(summary, consumer_lag)
    push_to_gateway(gateway_url, job=job, registry=metrics.registry(), timeout=timeout)
    return metrics
