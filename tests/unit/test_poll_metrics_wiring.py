"""`newsbeam poll --forever --metrics-port`: each cycle updates counters served over HTTP."""
from __future__ import annotations

import argparse
import urllib.request

from connectors.feeds.cli import _cycle_reporter
from connectors.feeds.poller import CycleSummary, FeedOutcome


def test_cycle_reporter_serves_poll_metrics(capsys):
    report = _cycle_reporter(argparse.Namespace(metrics_port=0, metrics_addr="127.0.0.1"))
    url = capsys.readouterr().err.split("metrics on ")[1].strip()
    summary = CycleSummary(outcomes=[FeedOutcome("http://a/feed", "ok", new_items=3),
                                     FeedOutcome("http://b/feed", "not_modified"),
                                     FeedOutcome("http://c/feed", "failed", error="HTTP 500")])
    report(summary)
    report(summary)
    assert "polled 3 · not modified 1 · failed 1" in capsys.readouterr().err
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    samples = dict(line.rsplit(" ", 1) for line in body.splitlines() if line and not line.startswith("#"))
    assert float(samples["newsbeam_poll_items_new_total"]) == 6
    assert float(samples["newsbeam_poll_feeds_failed_total"]) == 2
