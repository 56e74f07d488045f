"""poll_forever with a watched feed list: a ConfigMap update made while the poller sleeps wakes
it, and the next cycle polls the new feed (feeds served on 127.0.0.1; the sink is a list)."""
from __future__ import annotations

import threading
from pathlib import Path

from connectors.feeds.localserver import directory_files, serve, static_handler
from connectors.feeds.poller import poll_forever
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec_watch import FeedListWatcher
from connectors.feeds.state import StateStore
from configmap_volume import ConfigMapVolume

SAMPLES = Path(__file__).resolve().parents[3] / "deploy" / "local" / "sample_feeds"


def test_new_feed_in_the_configmap_is_polled_without_a_restart(tmp_path):
    volume = ConfigMapVolume(tmp_path / "config")
    volume.root.mkdir()
    produced, cycles, stop = [], [], threading.Event()
    with serve(static_handler(directory_files(SAMPLES))) as base:
        volume.publish(f"feeds:\n  - url: {base}/harbor-gazette.rss.xml\n")
        watcher = FeedListWatcher(volume.path)

        def on_cycle(summary):
            cycles.append({o.feed_url: o.new_items for o in summary.outcomes})
            if len(cycles) == 1:
                # Published while the poller sleeps (every feed is due again only in 900 s).
                threading.Timer(0.5, volume.publish, [f"feeds:\n  - url: {base}/harbor-gazette.rss.xml\n"
                                                      f"  - url: {base}/northwind-wire.atom.xml\n"]).start()
            if len(cycles) == 2:
                stop.set()

        def reload():
            watcher.poll()
            return watcher.specs

        with StateStore(tmp_path / "state.sqlite") as state:
            thread = threading.Thread(target=poll_forever, args=(watcher.specs, state, produced.extend,
                                                                 PollSettings()),
                                      kwargs={"stop": stop, "on_cycle": on_cycle, "reload": reload,
                                              "wake": watcher.changed, "wake_check_seconds": 0.2,
                                              "max_sleep_seconds": 120, "max_cycles": 2}, daemon=True)
            thread.start()
            thread.join(timeout=60)
            assert not thread.is_alive(), "the poller did not wake up for the new feed list"
    harbor, northwind = f"{base}/harbor-gazette.rss.xml", f"{base}/northwind-wire.atom.xml"
    assert list(cycles[0]) == [harbor] and cycles[0][harbor] > 0
    # Second cycle: only the new feed was due, and it was polled.
    assert cycles[1] == {northwind: cycles[1][northwind]} and cycles[1][northwind] > 0
    assert {i.feed_url for i in produced} == {harbor, northwind}
