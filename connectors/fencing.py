"""The fence a run passes before it publishes, and what a fenced run may clean up.

Plain decisions over what the run read (its planned-from offsets, the claim object, the
committed runs); pipeline/run.py does the reading and acts on the answers. The design is in
docs/architecture.md ("One run per consumer group, across hosts").
"""
from __future__ import annotations

from connectors.run_claim import ClaimBody


def offsets_moved(planned_from: dict[int, int | None], now: dict[int, int | None]) -> dict[int, tuple]:
    """Partitions whose committed offset differs from the one the run planned from:
    {partition: (planned from, now)}. Any difference fences the run: another run committed
    (it took over these records) or an operator rewound the group for a backfill."""
    return {p: (planned_from.get(p), now.get(p)) for p in sorted(set(planned_from) | set(now))
            if planned_from.get(p) != now.get(p)}


def describe_moved(moved: dict[int, tuple]) -> str:
    return ("the consumer group's committed offsets moved since this run planned: "
            + ", ".join(f"partition {p} {a} -> {b}" for p, (a, b) in moved.items()))


def may_remove_own_files(run_id: str, committed: set[str], holder: ClaimBody | None,
                         own_token: str) -> tuple[bool, str]:
    """Whether a fenced run may delete the files named by its run id, and why (for its message).

    Runs of the same offsets have the same run id and write the same file names, so deleting
    could remove another run's files: they stay when a committed run has this id, and when the
    current holder planned this id or has not planned yet (it may still plan it). They are the
    holder's orphans then, and its clean-up removes them. A run still holding its own claim
    (fenced because the offsets moved) may remove them: nobody plans until it releases."""
    if run_id in committed:
        return False, "its files belong to a committed run of the same offsets and stay"
    if holder is not None and holder.token == own_token:
        return True, "removed"
    if holder is None or not holder.run_id or holder.run_id == run_id:
        return False, "its files are left for the claim holder's clean-up"
    return True, "removed"
