"""Prometheus counters of the long-running poller, fed one `CycleSummary` per cycle
(`poll_forever(on_cycle=...)`) and served with the probes by connectors/feeds/ops_http.py."""
from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge


class PollMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.polled = Counter("newsbeam_poll_feeds_polled", "feeds fetched", registry=r)
        self.not_modified = Counter("newsbeam_poll_feeds_not_modified", "fetches answered 304 / unchanged",
                                    registry=r)
        self.failed = Counter("newsbeam_poll_feeds_failed", "fetches that failed", registry=r)
        self.items_new = Counter("newsbeam_poll_items_new", "new items produced to Kafka", registry=r)
        self.items_unsent = Counter("newsbeam_poll_items_unsent",
                                    "new items Kafka can never accept (too large even without HTML)", registry=r)
        self.items_rejected = Counter("newsbeam_poll_items_rejected",
                                      "items produced as dead-letter stubs (too large for Kafka)", registry=r)
        self.parked = Gauge("newsbeam_poll_feeds_parked", "feeds parked after repeated failures", registry=r)
        self.last_cycle = Gauge("newsbeam_poll_last_cycle_timestamp_seconds",
                                "Unix time the last poll cycle finished", registry=r)
        self.configured = Gauge("newsbeam_poll_feeds_configured", "feeds in the feed list being polled",
                                registry=r)
        self.list_reloads = Counter("newsbeam_poll_feed_list_reloads", "times a changed feed list was loaded",
                                    registry=r)
        self.list_errors = Counter("newsbeam_poll_feed_list_errors",
                                   "changed feed lists that did not load (the previous list stayed)", registry=r)

    def observe_cycle(self, summary, finished_at: float | None = None) -> None:
        """Add one `connectors.feeds.poller.CycleSummary` to the counters."""
        self.polled.inc(summary.polled)
        self.not_modified.inc(summary.count("not_modified"))
        self.failed.inc(summary.count("failed"))
        self.items_new.inc(summary.new_items)
        self.items_unsent.inc(getattr(summary, "unsent", 0))
        self.items_rejected.inc(getattr(summary, "rejected_items", 0))
        # Parked feeds are skipped, so each cycle sees all of them: the skipped ones plus those
        # that were parked during this cycle.
        self.parked.set(summary.skipped_parked + summary.count("parked"))
        self.last_cycle.set(time.time() if finished_at is None else finished_at)

    def observe_feed_list(self, change, feeds: int) -> None:
        """A `spec_watch.FeedListChange` (or None at start) and the number of feeds now polled."""
        if change is not None:
            (self.list_errors if change.error else self.list_reloads).inc()
        self.configured.set(feeds)
