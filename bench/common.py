"""Helpers shared by the benchmarks: the BBC corpus, medians, and a measured child process.

Peak memory of a run is the peak of its whole process tree (Beam's multi_processing mode runs
its workers as child processes), sampled from /proc every 100 ms: both the largest single
process and the sum over the tree are reported, since either can be the limit that matters.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
BBC = SHARED / "data" / "bbc"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Appended, not prepended: a PYTHONPATH pointing at a patched copy of the tree must win.
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def load_bbc() -> list:
    """The BBC corpus as dedup_eval.BbcDoc (doc_id, title, body), sorted by category/file."""
    from transforms.dedup_eval import load_bbc as _load

    if not BBC.is_dir():
        raise SystemExit(f"BBC corpus not found at {BBC} (expected ../shared beside the repo)")
    return _load(BBC)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kb(root: int) -> tuple[int, int, int]:
    """(largest single RSS, sum of RSS, process count) over ``root`` and its descendants, KiB."""
    tree = _children_of()
    pending, sizes = [root], []
    while pending:
        pid = pending.pop()
        sizes.append(_rss_kb(pid))
        pending.extend(tree.get(pid, ()))
    return max(sizes, default=0), sum(sizes), len(sizes)


@dataclass
class ChildResult:
    returncode: int
    wall_s: float
    cpu_s: float              # user + sys of the child and the descendants it waited for
    peak_single_mb: float
    peak_tree_mb: float
    processes_max: int        # most processes alive in the tree at one sample
    stdout: str = ""
    stderr: str = ""
    samples: int = 0
    extra: dict = field(default_factory=dict)
    steal_s: float = float("nan")  # CPU time the hypervisor gave other guests meanwhile (all cores)


def steal_seconds() -> float:
    """The machine's cumulative steal time (/proc/stat), NaN where the kernel does not report it.

    On a shared VM a run can be slowed by other guests without any load on this machine: steal
    during a run is the one number that tells such an outlier from a slower code path."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def run_measured(cmd: list[str], env: dict[str, str] | None = None, timeout_s: float = 3600,
                 interval_s: float = 0.1, cwd: Path | None = None) -> ChildResult:
    """Run ``cmd`` to completion, sampling the RSS of its process tree every ``interval_s``."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    peak = {"single": 0, "tree": 0, "count": 0, "samples": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            single, total, count = tree_rss_kb(proc.pid)
            peak["single"] = max(peak["single"], single)
            peak["tree"] = max(peak["tree"], total)
            peak["count"] = max(peak["count"], count)
            peak["samples"] += 1
            done.wait(interval_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    before, steal_before = os.times(), steal_seconds()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return ChildResult(proc.returncode, wall, cpu, peak["single"] / 1024, peak["tree"] / 1024,
                       peak["count"], out, err, peak["samples"],
                       steal_s=steal_seconds() - steal_before)
