"""Continuous mode latency: from an item's poll to its Parquet row and to its alert.

A local feed (127.0.0.1, this process) publishes one new item per second (the last 20 items in
the feed, as a news site's RSS does); `newsbeam poll --forever` polls it every second into a
fresh Kafka topic; `newsbeam run --continuous` turns the records into Parquet on S3 and sends
alerts to a local webhook (this process). Every item is a BBC article with one leadership
statement appended (`"...," President Emmanuel Macron said ...`, a different quote per item), so
every item gives one row in `articles` and one alert.

    poll time   the item's `fetched_at` (set by the poller when it fetched the feed; whole seconds)
    row time    when this process first sees the item's row in a committed run (manifest
                listing every 0.5 s)
    alert time  when the webhook receives the alert naming the item's link

Reported: p50 / p95 / max of row time - poll time and alert time - poll time over all items
(whole-second resolution of fetched_at: +-1 s); and the continuous process's CPU while idle:
user+sys seconds from /proc over --idle-seconds after the last item, as a share of one core.
The feed starts publishing once the continuous process says its model is loaded (start-up is
not latency).

    NEWSBEAM_BENCH_KAFKA=127.0.0.1:9092 NEWSBEAM_BENCH_S3=http://127.0.0.1:8333 \\
    .venv/bin/python bench/continuous_latency.py [--items 200] [--idle-seconds 30]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from common import ROOT, load_bbc

KAFKA = os.environ.get("NEWSBEAM_BENCH_KAFKA", "127.0.0.1:9092")
S3_ENDPOINT = os.environ.get("NEWSBEAM_BENCH_S3", "http://127.0.0.1:8333")
WINDOW = 20  # items the feed shows at once


def feed_xml(docs: list, published: list[float], base: str) -> bytes:
    items = []
    for k in range(len(published) - 1, max(-1, len(published) - 1 - WINDOW), -1):
        doc = docs[k % len(docs)]
        quote = (f"\"We will hold the talks on question {k} in Paris next week,\" President Emmanuel "
                 f"Macron said on Monday.")
        body = "".join(f"<p>{escape(p)}</p>" for p in (doc.body.split("\n") + [quote]) if p.strip())
        when = format_datetime(datetime.fromtimestamp(published[k], timezone.utc))
        items.append(f"<item><title>{escape(doc.title)} ({k})</title><link>{base}/item/{k}</link>"
                     f"<guid>{base}/item/{k}</guid><pubDate>{when}</pubDate>"
                     f"<description>{escape(body)}</description></item>")
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>bench</title>"
            f"<link>{base}</link><description>one item per second</description>{''.join(items)}"
            "</channel></rss>").encode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _epoch(value) -> float:
    """fetched_at as the table holds it (a timestamp, naive UTC or aware) -> seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()

    from connectors import run_ledger, s3
    from connectors.feeds.localserver import Response, serve
    from pipeline.config import load_config

    docs = load_bbc()
    tag = uuid.uuid4().hex[:8]
    work = Path(tempfile.mkdtemp(prefix="nb-latency-"))
    published: list[float] = []
    started = threading.Event()
    alerts: dict[str, float] = {}  # link -> first time an alert named it

    def handler(request):
        if request.path.startswith("/feed"):
            if started.is_set():
                now = time.time()
                while len(published) < args.items and (not published or published[0] + len(published) <= now):
                    published.append(published[0] + len(published) if published else now)
            return Response(200, {"Content-Type": "application/rss+xml"}, feed_xml(docs, published, base))
        return Response(404)

    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            now = time.time()
            for link in body.get("links", []):
                alerts.setdefault(link.get("url", ""), now)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    with serve(handler) as base:
        config_path = work / "newsbeam.yaml"
        config_path.write_text(json.dumps({
            "kafka": {"bootstrap_servers": KAFKA, "topic": f"bench.latency.{tag}", "group_id": f"bench-latency-{tag}"},
            "s3": {"bucket": "newsbeam", "prefix": f"bench/latency-{tag}", "endpoint_url": S3_ENDPOINT,
                   "access_key_id": "newsbeam", "secret_access_key": "newsbeam-local-secret"},
            "pipeline": {"lock_path": str(work / "run.lock"), "continuous_idle_seconds": 1.0},
            "feeds": {"state_path": str(work / "poll.sqlite"), "feeds_file": str(work / "feeds.yaml"),
                      "default_interval_seconds": 1},
            "alerts": {"ledger_path": str(work / "alerts.sqlite"),
                       "rules": [{"name": "presidents", "roles": ["president"], "sinks": ["hook"]}],
                       "sinks": [{"type": "webhook", "name": "hook",
                                  "url": f"http://127.0.0.1:{hook_server.server_address[1]}/hook"}]},
        }))
        (work / "feeds.yaml").write_text(json.dumps({"feeds": [{"url": f"{base}/feed", "name": "bench", "interval": 1}]}))
        env = {**os.environ, "NEWSBEAM_CONFIG": str(config_path)}
        newsbeam = [sys.executable, "-m", "pipeline.cli"]
        # Messages go to stderr (connectors/console.py): read it up to "model loaded", then keep
        # copying it to run.err so the pipe never fills.
        runner = subprocess.Popen(newsbeam + ["run", "--continuous"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        log = open(work / "run.err", "w")
        lines = []
        for line in runner.stderr:
            lines.append(line)
            log.write(line)
            if "model loaded" in line:
                break
        if not lines or "model loaded" not in lines[-1]:
            raise SystemExit(f"continuous run did not start: {''.join(lines)[-2000:]}")

        def copy_rest():
            for line in runner.stderr:
                log.write(line)
            log.flush()

        threading.Thread(target=copy_rest, daemon=True).start()
        poller = subprocess.Popen(newsbeam + ["poll", "--forever"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=open(work / "poll.err", "w"))
        started.set()
        ss = s3.S3Settings.from_config(load_config(None, env).s3)
        rows: dict[str, tuple[float, str]] = {}  # url -> (seen, fetched_at)
        seen_runs: set[str] = set()
        deadline = time.monotonic() + args.timeout
        import pyarrow.parquet as pq

        fs = s3.filesystem(ss)
        try:
            while time.monotonic() < deadline and (len(rows) < args.items or len(alerts) < args.items):
                now = time.time()
                new = run_ledger.committed_runs(ss) - seen_runs
                if new:
                    for f in run_ledger.data_files(ss, ("articles",)):
                        if f.run in new:
                            for r in pq.read_table(f"{ss.bucket}/{f.key}", filesystem=fs,
                                                   columns=["url", "fetched_at"]).to_pylist():
                                rows.setdefault(r["url"], (now, r["fetched_at"]))
                    seen_runs |= new
                time.sleep(0.5)
            idle_from = cpu_seconds(runner.pid)
            time.sleep(args.idle_seconds)
            idle_cpu = cpu_seconds(runner.pid) - idle_from
        finally:
            for proc in (poller, runner):
                proc.send_signal(signal.SIGTERM)
            for proc in (poller, runner):
                try:
                    proc.wait(timeout=300)
                except subprocess.TimeoutExpired:
                    proc.kill()
    fetched = {url: _epoch(f) for url, (_, f) in rows.items()}
    to_row = [seen - fetched[url] for url, (seen, _) in rows.items()]
    to_alert = [t - fetched[url] for url, t in alerts.items() if url in fetched]
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {args.items} items published, one per second; "
          f"rows {len(rows)}, alerts {len(alerts)}; runner exit {runner.returncode}; load1 {os.getloadavg()[0]:.1f}")
    print("| from poll to | items | p50 s | p95 s | max s |")
    print("|---|---:|---:|---:|---:|")
    for label, values in (("Parquet row (committed run)", to_row), ("alert at the webhook", to_alert)):
        if values:
            print(f"| {label} | {len(values)} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | "
                  f"{max(values):.1f} |")
    print(f"idle: the continuous process used {idle_cpu:.2f} s of CPU in {args.idle_seconds:.0f} s with nothing "
          f"arriving ({100 * idle_cpu / args.idle_seconds:.2f} % of one core); work dir {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
