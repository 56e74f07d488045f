"""The same BBC articles through `newsbeam run` on a Dask cluster and on the DirectRunner.

    NEWSBEAM_BENCH_KAFKA=127.0.0.1:9092 NEWSBEAM_BENCH_S3=http://127.0.0.1:8333 \
        .venv/bin/python bench/engine.py [--sizes 100 250 500] [--repeats 3] [--workers 2]

- dask:   `--runner=DaskRunner` against a cluster of ``--workers`` workers (one thread each) that
          this script starts with deploy/local/dask.sh (ports NEWSBEAM_DASK_SCHEDULER_PORT /
          NEWSBEAM_DASK_WORKER_PORT, defaults 9670 / 9672 here; own folder .stack/dask-bench) and
          stops at the end. The cluster stays up across runs, as a cluster does: its workers load
          the spaCy model once, in the first run.
- direct: `--direct_num_workers=<workers> --direct_running_mode=multi_processing` (the deploy
          examples' setting), which starts its worker processes and loads the model in every run.

Per size N the first N BBC articles (all distinct texts) go into a fresh Kafka topic; every run
reads it with its own consumer group and S3 prefix, in its own process, through `newsbeam run`
with NLP on. Runs alternate (even repeats dask first, odd repeats direct first), and the sizes
are interleaved within each repeat (rotated from one repeat to the next). Wall seconds are
fitted per engine as a + b*N (least squares over every run): a is the fixed start-up cost of a run,
b the cost per article. Peak RSS: the largest process of a direct run's tree (its SDK workers),
and each Dask worker's own high-water mark (VmHWM) after all runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, load_bbc, median, run_measured  # noqa: E402
import e2e  # noqa: E402

SCHEDULER_PORT = os.environ.get("NEWSBEAM_DASK_SCHEDULER_PORT", "9670")
WORKER_PORT = os.environ.get("NEWSBEAM_DASK_WORKER_PORT", "9672")
ADDRESS = f"tcp://127.0.0.1:{SCHEDULER_PORT}"


def cluster(command: str, workers: int) -> None:
    env = {**os.environ, "NEWSBEAM_DASK_SCHEDULER_PORT": SCHEDULER_PORT,
           "NEWSBEAM_DASK_WORKER_PORT": WORKER_PORT, "NEWSBEAM_DASK_WORKERS": str(workers),
           "NEWSBEAM_DASK_DIR": str(ROOT / ".stack" / "dask-bench")}
    subprocess.run(["bash", str(ROOT / "deploy/local/dask.sh"), command], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def worker_peaks_mb() -> list[float]:
    from distributed import Client

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    with Client(ADDRESS, set_as_default=False, timeout=10) as client:
        return sorted(client.run(hwm).values())


def fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares a + b*n."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else float("nan")
    return my - b * mx, b


def one_run(engine: str, topic: str, n: int, tmp: str, workers: int) -> float:
    tag = f"{engine}-{n}-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, **e2e.run_env(topic, tag, tmp)}
    if engine == "dask":
        args = ["--runner=DaskRunner", f"--dask_client_address={ADDRESS}"]
    else:
        args = [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    res = run_measured([sys.executable, "-m", "pipeline.cli", "run", *args], env=env, cwd=ROOT)
    if res.returncode != 0 or f": written: {n} records" not in res.stdout:
        raise SystemExit(f"{engine} run failed: {res.stdout} {res.stderr[-2000:]}")
    e2e.remove_prefix(env)
    print(json.dumps({"engine": engine, "n": n, "wall_s": round(res.wall_s, 1),
                      "peak_single_mb": round(res.peak_single_mb), "load1": os.getloadavg()[0]}),
          flush=True)
    return res.wall_s, res.peak_single_mb


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 500])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    docs = load_bbc()
    tmp = str(ROOT / ".stack" / "bench-engine")
    Path(tmp).mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[tuple[int, float]]] = {"dask": [], "direct": []}
    direct_peaks = []
    cluster("up", args.workers)
    try:
        topics = {n: f"bench.engine.{n}.{uuid.uuid4().hex[:6]}" for n in args.sizes}
        for n, topic in topics.items():
            e2e.produce(topic, e2e.feed_items(docs, n, "distinct", f"eng{n}"))
        try:
            # Sizes interleaved within each repeat (rotated), so a machine getting busier over
            # the session does not pass for a cost per article.
            for r in range(args.repeats):
                sizes = args.sizes[r % len(args.sizes):] + args.sizes[:r % len(args.sizes)]
                for n in sizes:
                    order = ("dask", "direct") if r % 2 == 0 else ("direct", "dask")
                    for engine in order:
                        wall, peak = one_run(engine, topics[n], n, tmp, args.workers)
                        runs[engine].append((n, wall))
                        if engine == "direct":
                            direct_peaks.append(peak)
        finally:
            for topic in topics.values():
                e2e.delete_topic(topic)
        peaks = worker_peaks_mb()
    finally:
        cluster("down", args.workers)

    print(f"\n| engine | N | runs | median wall s | articles/s |\n|---|---:|---:|---:|---:|")
    for engine, points in runs.items():
        for n in args.sizes:
            walls = [w for x, w in points if x == n]
            print(f"| {engine} | {n} | {len(walls)} | {median(walls):.1f} | {n / median(walls):.1f} |")
    print("\n| engine | fixed a (s) | per article b (ms) | fit over |\n|---|---:|---:|---|")
    fits = {}
    for engine, points in runs.items():
        a, b = fits[engine] = fit(points)
        print(f"| {engine} | {a:.1f} | {b * 1000:.0f} | {len(points)} runs, N = {', '.join(map(str, args.sizes))} |")
    big = max(args.sizes)
    ratio = median([w for x, w in runs["dask"] if x == big]) / median([w for x, w in runs["direct"] if x == big])
    print(f"\nN={big}: dask / direct wall = {ratio:.2f} (medians); per-article dask / direct = "
          f"{fits['dask'][1] / fits['direct'][1]:.2f}; fixed cost dask - direct = "
          f"{fits['dask'][0] - fits['direct'][0]:+.1f} s")
    print(f"peak RSS: dask workers (VmHWM) {', '.join(f'{p:.0f}' for p in peaks)} MB; "
          f"direct largest process median {median(direct_peaks):.0f} MB (max {max(direct_peaks):.0f})")


if __name__ == "__main__":
    main(sys.argv[1:])
