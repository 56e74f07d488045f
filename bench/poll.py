"""Poll 1,000 feeds served from 127.0.0.1 in one cycle (half answer 200 with ~10 new items,
half answer 304) and report feeds/s and peak memory.

Baseline, measured in the same run: plain concurrent GETs of the same URLs (same client, same
concurrency, no parsing or state), so the ratio shows what parsing + normalising + SQLite cost.
Median of several runs. The server runs in a child process so it does not share our GIL.

    .venv/bin/python bench/poll.py [--feeds 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from connectors.feeds.localserver import serve, static_handler  # noqa: E402
from connectors.feeds.poller import poll_once  # noqa: E402
from connectors.feeds.settings import PollSettings  # noqa: E402
from connectors.feeds.spec import FeedSpec  # noqa: E402
from connectors.feeds.state import StateStore  # noqa: E402

CONCURRENCY = 16


def feed_document(n: int, items: int = 10) -> bytes:
    body = "".join(
        f"<item><title>Feed {n} story {i}</title><link>https://site{n}.example/story/{i}?utm_source=rss</link>"
        f'<guid isPermaLink="false">f{n}-s{i}</guid><pubDate>Mon, 27 Jan 2025 {i % 24:02d}:00:00 GMT</pubDate>'
        f"<description><![CDATA[<p>Summary of story {i} from feed {n}. “Quoted,” the minister said.</p>]]></description>"
        f"<content:encoded><![CDATA[{''.join(f'<p>Paragraph {p} of story {i}: the council met on Tuesday and agreed a budget.</p>' for p in range(6))}]]></content:encoded>"
        f"</item>" for i in range(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Bench feed {n}</title><link>https://site{n}.example/</link>{body}</channel></rss>").encode()


def _server_process(count: int, conn) -> None:
    files = {f"/feed/{n}": feed_document(n) for n in range(count)}
    with serve(static_handler(files)) as base:
        conn.send(base)
        conn.recv()  # block until the parent says stop (or dies: EOFError)


def baseline_seconds(urls: list[str]) -> float:
    with httpx.Client(limits=httpx.Limits(max_connections=CONCURRENCY * 2)) as client, \
            ThreadPoolExecutor(CONCURRENCY) as pool:
        start = time.perf_counter()
        list(pool.map(lambda u: client.get(u).content, urls))
        return time.perf_counter() - start


def poll_seconds(urls: list[str]) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        # one local server stands in for 1,000 hosts, so the per-host limit is lifted
        settings = PollSettings(state_path=f"{tmp}/state.sqlite3", global_concurrency=CONCURRENCY,
                                per_host_concurrency=CONCURRENCY)
        specs = [FeedSpec(url=u) for u in urls]
        with StateStore(settings.state_path) as state:
            poll_once(specs[::2], state, lambda items: None, settings)  # warm half: ETags stored
            start = time.perf_counter()
            summary = poll_once(specs, state, lambda items: None, settings,
                                now=datetime.now(timezone.utc) + timedelta(hours=1))
            elapsed = time.perf_counter() - start
    assert summary.count("not_modified") == len(urls) // 2 and summary.count("ok") == len(urls) - len(urls) // 2
    return elapsed, summary.line()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_server_process, args=(args.feeds, child), daemon=True)
    server.start()
    try:
        base = parent.recv()
        urls = [f"{base}/feed/{n}" for n in range(args.feeds)]
        baselines, polls, line = [], [], ""
        for _ in range(args.runs):
            baselines.append(baseline_seconds(urls))
            elapsed, line = poll_seconds(urls)
            polls.append(elapsed)
    finally:
        parent.send("stop")
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    poll_median, base_median = statistics.median(polls), statistics.median(baselines)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cycle: {line}")
    print(f"poll cycle   : {args.feeds / poll_median:7.0f} feeds/s (median of {args.runs}: {poll_median:.2f} s)")
    print(f"plain GETs   : {args.feeds / base_median:7.0f} feeds/s (baseline, median {base_median:.2f} s)")
    print(f"ratio        : {poll_median / base_median:.2f}x the time of plain GETs")
    print(f"peak RSS     : {peak_mb:.0f} MB (this process)")


if __name__ == "__main__":
    main()
