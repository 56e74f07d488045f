"""pipeline.metrics: textfile and Pushgateway output of a run, /metrics of the poller.
Every output is parsed back with prometheus_client's own parser; servers are on 127.0.0.1."""
from __future__ import annotations

import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.feeds.poller import CycleSummary, FeedOutcome, Unsent
from connectors.feeds import ops_http
from connectors.feeds.health import PollHealth
from connectors.feeds.poll_metrics import PollMetrics
from pipeline.metrics import RunMetrics, push, write_textfile
from pipeline.run import RunSummary


def _summary() -> RunSummary:
    return RunSummary("written", run_id="r-1", records=120,
                      rows={"articles": 100, "quotes": 40, "entities": 310, "rejects": 3},
                      counters={"items_decoded": 117, "duplicates_dropped": 17, "quotes": 40,
                                "leadership_statements": 5, "rejects": 3},
                      retention_lost={0: 4, 2: 1}, seconds=12.5)


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _check_run_samples(samples: dict, finished_after: float) -> None:
    assert samples[("newsbeam_run_records_total", ())] == 120
    for table, n in {"articles": 100, "quotes": 40, "entities": 310, "rejects": 3}.items():
        assert samples[("newsbeam_run_rows", (("table", table),))] == n
    assert samples[("newsbeam_run_duplicates_total", ())] == 17
    assert samples[("newsbeam_run_quotes_total", ())] == 40
    assert samples[("newsbeam_run_leadership_statements_total", ())] == 5
    assert samples[("newsbeam_run_rejects_total", ())] == 3
    assert samples[("newsbeam_run_duration_seconds", ())] == 12.5
    assert samples[("newsbeam_consumer_lag_records", ())] == 7
    assert samples[("newsbeam_run_retention_lost_records", (("partition", "0"),))] == 4
    assert samples[("newsbeam_run_retention_lost_records", (("partition", "2"),))] == 1
    assert samples[("newsbeam_run_retention_lost_records_total", ())] == 5
    assert samples[("newsbeam_run_last_success_timestamp_seconds", ())] >= finished_after


def test_textfile_round_trips_through_the_prometheus_parser(tmp_path):
    before = time.time()
    path = tmp_path / "textfile" / "newsbeam_run.prom"
    write_textfile(_summary(), path, consumer_lag=7)
    _check_run_samples(_samples(path.read_text()), before)
    # Written via a temp file and a rename: nothing else is left in the collector's directory.
    assert [p.name for p in path.parent.iterdir()] == ["newsbeam_run.prom"]


def test_textfile_is_replaced_by_the_next_run(tmp_path):
    path = tmp_path / "newsbeam_run.prom"
    write_textfile(_summary(), path)
    write_textfile(RunSummary("nothing to do"), path)
    samples = _samples(path.read_text())
    assert samples[("newsbeam_run_records_total", ())] == 0
    assert not any(name == "newsbeam_run_rows" for name, _ in samples)


def test_missing_counters_read_as_zero():
    # Some Beam runners report no metrics; the run summary then has rows but no counters.
    m = RunMetrics.from_summary(RunSummary("written", records=4, rows={"articles": 4}), finished_at=1.0)
    assert (m.duplicates, m.quotes, m.leadership_statements, m.rejects) == (0, 0, 0, 0)
    assert m.rows == {"articles": 4} and m.finished_at == 1.0


def test_alert_failures_of_a_committed_run_are_a_metric(tmp_path):
    """Deliveries that failed plus alerting that could not run at all; 0 without alert rules."""
    path = tmp_path / "newsbeam_run.prom"
    write_textfile(RunSummary("written", records=3, alerts={"sent": 2, "failed": 2, "errors": 1}), path)
    assert _samples(path.read_text())[("newsbeam_run_alert_failures", ())] == 3
    write_textfile(RunSummary("written", records=3, alerts=None), path)
    assert _samples(path.read_text())[("newsbeam_run_alert_failures", ())] == 0


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def _record(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((self.command, self.path, body.decode()))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = _record

    def log_message(self, *args):
        pass


def test_push_sends_the_run_to_a_pushgateway():
    before = time.time()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        push(_summary(), f"http://127.0.0.1:{server.server_address[1]}", consumer_lag=7, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Receiver.received) == 1
    method, path, body = _Receiver.received[0]
    assert method == "PUT" and path == "/metrics/job/newsbeam_run"
    _check_run_samples(_samples(body), before)


def _cycle() -> CycleSummary:
    return CycleSummary(outcomes=[FeedOutcome("http://a/1", "ok", new_items=4,
                                              unsent=[Unsent("x", "record too large for Kafka")]),
                                  FeedOutcome("http://a/2", "ok", new_items=1),
                                  FeedOutcome("http://a/3", "not_modified"),
                                  FeedOutcome("http://b/1", "failed", error="HTTP 500"),
                                  FeedOutcome("http://b/2", "parked", error="HTTP 404")],
                        skipped_parked=2)


@pytest.fixture
def served_poll_metrics():
    metrics = PollMetrics()
    server, thread = ops_http.serve(0, "127.0.0.1", metrics.registry, PollHealth())
    yield metrics, server.server_address
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _scrape(address) -> dict:
    host, port = address[:2]
    assert host == "127.0.0.1"
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as resp:
        return _samples(resp.read().decode())


def test_poller_endpoint_serves_cycle_counts(served_poll_metrics):
    metrics, address = served_poll_metrics
    metrics.observe_cycle(_cycle(), finished_at=1_700_000_000)
    s = _scrape(address)
    assert s[("newsbeam_poll_feeds_polled_total", ())] == 5
    assert s[("newsbeam_poll_feeds_not_modified_total", ())] == 1
    assert s[("newsbeam_poll_feeds_failed_total", ())] == 1
    assert s[("newsbeam_poll_items_new_total", ())] == 5
    assert s[("newsbeam_poll_items_unsent_total", ())] == 1
    assert s[("newsbeam_poll_feeds_parked", ())] == 3
    assert s[("newsbeam_poll_last_cycle_timestamp_seconds", ())] == 1_700_000_000


def test_poller_counters_accumulate_and_parked_is_current(served_poll_metrics):
    metrics, address = served_poll_metrics
    metrics.observe_cycle(_cycle())
    # Next cycle: the three parked feeds are skipped, one feed has news.
    metrics.observe_cycle(CycleSummary(outcomes=[FeedOutcome("http://a/1", "ok", new_items=2)],
                                       skipped_parked=3))
    s = _scrape(address)
    assert s[("newsbeam_poll_feeds_polled_total", ())] == 6
    assert s[("newsbeam_poll_items_new_total", ())] == 7
    assert s[("newsbeam_poll_feeds_parked", ())] == 3


def test_two_poll_metrics_do_not_collide():
    # Each instance has its own registry, so tests and embedded uses can create several.
    a, b = PollMetrics(), PollMetrics()
    a.observe_cycle(_cycle())
    assert b.registry.get_sample_value("newsbeam_poll_feeds_polled_total") == 0
    assert a.registry.get_sample_value("newsbeam_poll_feeds_polled_total") == 5
