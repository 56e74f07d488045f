"""connectors.feeds.spec_watch: a running poller picks up feed list edits, including a Kubernetes
ConfigMap volume update (a new timestamped folder, then the `..data` symlink swapped), and keeps
the previous list when the new one does not load."""
from __future__ import annotations

import os

from connectors.feeds.spec import FeedSpec
from configmap_volume import ConfigMapVolume
from connectors.feeds.spec_watch import FeedListWatcher, diff_feed_lists


def _feeds(*urls: str, interval: int | None = None) -> str:
    lines = ["feeds:"]
    for url in urls:
        lines.append(f"  - url: {url}")
        if interval:
            lines.append(f"    interval: {interval}")
    return "\n".join(lines) + "\n"


def test_configmap_update_is_picked_up(tmp_path):
    volume = ConfigMapVolume(tmp_path)
    volume.publish(_feeds("https://a.example/rss", "https://b.example/rss"))
    watcher = FeedListWatcher(volume.path)
    assert [s.url for s in watcher.specs] == ["https://a.example/rss", "https://b.example/rss"]
    assert watcher.poll() is None

    volume.publish(_feeds("https://a.example/rss", "https://c.example/rss", interval=None))
    change = watcher.poll()
    assert (change.added, change.removed, change.changed, change.total) == \
        (("https://c.example/rss",), ("https://b.example/rss",), (), 2)
    assert change.line(volume.path) == f"feed list {volume.path} reloaded: 1 added, 1 removed, 0 changed (2 feeds)"
    assert [s.url for s in watcher.specs] == ["https://a.example/rss", "https://c.example/rss"]
    assert watcher.poll() is None and watcher.reloads == 1


def test_same_bytes_republished_is_not_a_change(tmp_path):
    volume = ConfigMapVolume(tmp_path)
    volume.publish(_feeds("https://a.example/rss"))
    watcher = FeedListWatcher(volume.path)
    volume.publish(_feeds("https://a.example/rss"))     # new inode, same content
    assert watcher.poll() is None and watcher.reloads == 0


def test_broken_update_keeps_the_previous_list_until_fixed(tmp_path):
    volume = ConfigMapVolume(tmp_path)
    volume.publish(_feeds("https://a.example/rss"))
    watcher = FeedListWatcher(volume.path)
    volume.publish("feeds:\n  - url: ftp://not-http.example/\n")
    change = watcher.poll()
    assert change.error and "feed url must be http(s)" in change.error
    assert change.line(volume.path).startswith(f"feed list {volume.path} not reloaded: ValidationError")
    assert change.line(volume.path).endswith("still polling the previous 1 feeds")
    assert [s.url for s in watcher.specs] == ["https://a.example/rss"]
    assert watcher.poll() is None           # reported once, not every cycle
    volume.publish(_feeds("https://a.example/rss", interval=600))
    change = watcher.poll()
    assert change.changed == ("https://a.example/rss",) and not change.error
    assert watcher.specs[0].interval == 600 and watcher.errors == 1


def test_plain_file_replaced_by_an_editor(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text(_feeds("https://a.example/rss"))
    watcher = FeedListWatcher(path)
    tmp = tmp_path / "feeds.yaml.new"
    tmp.write_text(_feeds("https://a.example/rss", "https://b.example/rss"))
    os.replace(tmp, path)
    assert watcher.poll().added == ("https://b.example/rss",)
    path.unlink()
    assert watcher.poll().error.startswith("FileNotFoundError")
    assert len(watcher.specs) == 2


def test_diff_compares_settings_not_only_urls():
    a = [FeedSpec(url="https://a.example/rss"), FeedSpec(url="https://b.example/rss")]
    b = [FeedSpec(url="https://a.example/rss", enabled=False), FeedSpec(url="https://b.example/rss")]
    assert diff_feed_lists(a, b).changed == ("https://a.example/rss",)
    assert diff_feed_lists(a, a).changed == ()
