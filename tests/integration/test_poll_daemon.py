"""`newsbeam poll --forever` as Kubernetes runs it: probes and metrics on one port, a ConfigMap
feed list edit reaching the running process, and a second poller on the same state refused."""
from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from configmap_volume import ConfigMapVolume
from connectors.single_writer import WriterLockHeld
from connectors.feeds.localserver import directory_files, serve, static_handler

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "deploy" / "local" / "sample_feeds"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except OSError as err:
        return 0, str(err)


def _metric(base: str, name: str) -> float:
    for line in _get(base + "/metrics")[1].splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.seen:
                m = re.search(pattern, line)
                if m:
                    self.seen.remove(line)
                    return m
            try:
                self.seen.append(self.lines.get(timeout=0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
        raise AssertionError(f"no stderr line matching {pattern!r}; got {self.seen}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


def test_probes_metrics_feed_list_reload_and_single_writer(kafka_bootstrap, unique, tmp_path):
    volume = ConfigMapVolume(tmp_path / "configmap")
    volume.root.mkdir()
    state = tmp_path / "state" / "poll-state.sqlite"
    env = {**os.environ, "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
           "NEWSBEAM_KAFKA__TOPIC": f"test.daemon.{unique}", "NEWSBEAM_FEEDS__STATE_PATH": str(state)}
    argv = [sys.executable, "-m", "pipeline.cli", "poll", "--forever", "--feeds", str(volume.path),
            "--metrics-port", "0"]
    with serve(static_handler(directory_files(SAMPLES))) as feeds:
        volume.publish(f"feeds:\n  - url: {feeds}/harbor-gazette.rss.xml\n")
        daemon = Daemon(argv, env)
        try:
            base = "http://" + daemon.wait_line(r"metrics on http://([\d.:]+)/metrics", 60).group(1)
            assert _get(base + "/healthz")[0] == 200
            _until(lambda: _get(base + "/readyz")[0] == 200, 120, "the first cycle (readyz)")
            first_items = _metric(base, "newsbeam_poll_items_new_total")
            assert first_items > 0 and _metric(base, "newsbeam_poll_feeds_configured") == 1

            # A second poller on the same state file: refused at once, naming the first one.
            second = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
            assert second.returncode == WriterLockHeld.exit_code == 5
            assert second.stderr.strip().splitlines() == [second.stderr.strip()]
            assert f"poll state {state} is in use by pid {daemon.proc.pid} on host" in second.stderr

            # kubectl edit configmap: the kubelet swaps the volume's ..data symlink.
            volume.publish(f"feeds:\n  - url: {feeds}/harbor-gazette.rss.xml\n"
                           f"  - url: {feeds}/meridian-daily.rss.xml\n")
            daemon.wait_line(r"reloaded: 1 added, 0 removed, 0 changed \(2 feeds\)", 60)
            _until(lambda: _metric(base, "newsbeam_poll_items_new_total") > first_items, 60,
                   "items of the added feed")
            assert _metric(base, "newsbeam_poll_feeds_configured") == 2
            health = json.loads(_get(base + "/healthz")[1])
            assert health["status"] == "ok" and health["cycles"] >= 2
        finally:
            daemon.stop()
