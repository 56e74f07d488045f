"""`newsbeam poll --forever --metrics-port`: each cycle updates counters served over HTTP, next to
the /healthz and /readyz probes; a feed list reload shows in the metrics."""
from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request

import pytest

from connectors.feeds.cli import PollerOps, add_poll_arguments, run_poll
from connectors.feeds.poller import CycleSummary, FeedOutcome
from connectors.feeds.spec_watch import FeedListWatcher
from pipeline.config import Config


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture
def ops(tmp_path, capsys):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: http://a/feed\n")
    ops = PollerOps(argparse.Namespace(metrics_port=0, metrics_addr="127.0.0.1", health_stall_seconds=600),
                    FeedListWatcher(feeds))
    base = capsys.readouterr().err.split("metrics on ")[1].split("/metrics")[0]
    yield ops, base, feeds
    ops.server.shutdown()
    ops.server.server_close()


def test_cycle_reporter_serves_poll_metrics(ops, capsys):
    ops, base, _ = ops
    summary = CycleSummary(outcomes=[FeedOutcome("http://a/feed", "ok", new_items=3),
                                     FeedOutcome("http://b/feed", "not_modified"),
                                     FeedOutcome("http://c/feed", "failed", error="HTTP 500")])
    ops.report(summary)
    ops.report(summary)
    assert "polled 3 · not modified 1 · failed 1" in capsys.readouterr().err
    status, body = _get(base + "/metrics")
    samples = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert status == 200
    assert float(samples["newsbeam_poll_items_new_total"]) == 6
    assert float(samples["newsbeam_poll_feeds_failed_total"]) == 2
    assert float(samples["newsbeam_poll_feeds_configured"]) == 1


def test_probes_live_at_once_ready_after_a_cycle(ops):
    ops, base, _ = ops
    assert _get(base + "/healthz")[0] == 200
    status, body = _get(base + "/readyz")
    assert status == 503 and json.loads(body)["cycles"] == 0
    ops.health.progress()
    ops.report(CycleSummary())
    status, body = _get(base + "/readyz")
    assert status == 200 and json.loads(body) | {"seconds_since_progress": 0} == {
        "status": "ok", "ready": True, "cycles": 1, "in_cycle": False, "seconds_since_progress": 0,
        "stall_seconds": 600}
    assert _get(base + "/nothing")[0] == 404


def test_feed_list_reload_is_reported_and_counted(ops, capsys):
    ops, base, feeds = ops
    feeds.write_text("feeds:\n  - url: http://a/feed\n  - url: http://b/feed\n")
    assert [s.url for s in ops.reload()] == ["http://a/feed", "http://b/feed"]
    assert "reloaded: 1 added, 0 removed, 0 changed (2 feeds)" in capsys.readouterr().err
    feeds.write_text("feeds: {not a list}\n")
    assert len(ops.reload()) == 2
    assert "not reloaded" in capsys.readouterr().err
    body = _get(base + "/metrics")[1]
    samples = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert float(samples["newsbeam_poll_feeds_configured"]) == 2
    assert float(samples["newsbeam_poll_feed_list_reloads_total"]) == 1
    assert float(samples["newsbeam_poll_feed_list_errors_total"]) == 1


def _args(argv):
    parser = argparse.ArgumentParser()
    add_poll_arguments(parser)
    return parser.parse_args(argv)


def test_metrics_port_without_forever_is_refused(tmp_path, capsys):
    # An option that would do nothing is an error, not silently ignored.
    (tmp_path / "f.yaml").write_text("feeds: []\n")
    assert run_poll(_args(["--once", "--metrics-port", "9464", "--feeds", str(tmp_path / "f.yaml")]), Config()) == 2
    assert "use it with --forever" in capsys.readouterr().err


def test_bad_feed_list_is_one_line(tmp_path, capsys):
    (tmp_path / "f.yaml").write_text("feeds:\n  - url: gopher://x\n")
    assert run_poll(_args(["--feeds", str(tmp_path / "f.yaml")]), Config()) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: feed list {tmp_path / 'f.yaml'}: ValidationError: url: Value error, feed url must be " \
                  "http(s): 'gopher://x'"
