"""Helpers shared by the benchmarks: the BBC corpus, medians, and a measured child process.

Peak memory of a run is the peak of its whole process tree (Beam's multi_processing mode runs
its workers as child processes), sampled from /proc every 100 ms: both the largest single
process and the sum over the tree are reported, since either can be the limit that matters.
Each process is also named by its role (``process_role``: the bench's own child, a run's launcher
spawned by `newsbeam run`'s draining, a Beam SDK worker, ...) with its own exact peak: the kernel's
high-water mark (VmHWM in /proc/<pid>/status), which a 100 ms sample cannot miss, read at every
sample up to the process's exit (it only grows, so the last read is the peak but for the last
100 ms of a process's life).
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


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants."""
    tree = _children_of()
    pending, pids = [root], []
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending.extend(tree.get(pid, ()))
    return pids


def tree_rss_kb(root: int) -> tuple[int, int, int]:
    """(largest single RSS, sum of RSS, process count) over ``root`` and its descendants, KiB."""
    sizes = [_rss_kb(pid) for pid in tree_pids(root)]
    return max(sizes, default=0), sum(sizes), len(sizes)


def hwm_kb(pid: int) -> int:
    """The process's peak resident set so far (VmHWM, KiB), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def process_role(cmdline: list[str], is_root: bool) -> str:
    """What a process of a run's tree is, from its command line."""
    line = " ".join(cmdline)
    if is_root:
        return "bench child"
    if "sdk_worker_main" in line or "apache_beam.runners.worker" in line:
        return "SDK worker"
    if "resource_tracker" in line:
        return "mp resource tracker"
    if "multiprocessing.spawn" in line or "spawn_main" in line:
        return "run launcher"  # `newsbeam run`'s fresh process per capped run (pipeline/fresh_process.py)
    if "prism" in line:
        return "prism"
    return "other: " + (line[:60] or "?")


@dataclass
class ProcessPeak:
    pid: int
    role: str
    hwm_mb: float      # VmHWM at the last read before the process exited
    cmdline: str = ""


def peaks_by_role(processes: list[ProcessPeak]) -> dict[str, dict]:
    """role -> {count, max MB, median MB} of the processes' own peaks."""
    out: dict[str, dict] = {}
    for role in sorted({p.role for p in processes}):
        peaks = [p.hwm_mb for p in processes if p.role == role]
        out[role] = {"count": len(peaks), "max_mb": max(peaks), "median_mb": statistics.median(peaks)}
    return out


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
    processes: list[ProcessPeak] = field(default_factory=list)  # every process of the tree, own peak

    def roles(self) -> dict[str, dict]:
        return peaks_by_role(self.processes)

    def roles_line(self) -> str:
        """e.g. 'SDK worker x8 max 1,020 MB (median 990); run launcher x4 max 610 MB (...)'."""
        return "; ".join(f"{role} x{v['count']} max {v['max_mb']:,.0f} MB (median {v['median_mb']:,.0f})"
                         for role, v in self.roles().items())


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
    seen: dict[int, ProcessPeak] = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in tree_pids(proc.pid):
                hwm = hwm_kb(pid)
                if pid not in seen:
                    cmd = _cmdline(pid)
                    if not cmd:
                        continue
                    seen[pid] = ProcessPeak(pid, process_role(cmd, pid == proc.pid), 0.0, " ".join(cmd)[:200])
                if hwm:
                    seen[pid].hwm_mb = max(seen[pid].hwm_mb, hwm / 1024)
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
                       steal_s=steal_seconds() - steal_before,
                       processes=[p for p in seen.values() if p.hwm_mb])
