"""The fence decisions: moved offsets, and when a fenced run may delete its own files."""
from __future__ import annotations

from connectors.fencing import describe_moved, may_remove_own_files, offsets_moved
from connectors.run_claim import ClaimBody


def _holder(token="other", run_id=None):
    return ClaimBody(token=token, group_id="g", host="h", pid=1, lease_seconds=60, created_at="t",
                     renewed_at="t", expires_at="t", run_id=run_id)


def test_any_committed_offset_change_counts_as_moved():
    assert offsets_moved({0: 5, 1: None}, {0: 5, 1: None}) == {}
    assert offsets_moved({0: 5, 1: None}, {0: 9, 1: None}) == {0: (5, 9)}      # another run committed
    assert offsets_moved({0: 5}, {0: 2}) == {0: (5, 2)}                        # a backfill rewound
    assert offsets_moved({0: None}, {0: None, 1: 3}) == {1: (None, 3)}          # a partition appeared
    assert "partition 0 5 -> 9" in describe_moved({0: (5, 9)})


def test_fenced_run_keeps_files_another_run_may_own():
    rid = "a" * 16
    assert may_remove_own_files(rid, {rid}, _holder(run_id="b" * 16), "me") == (
        False, "its files belong to a committed run of the same offsets and stay")
    assert not may_remove_own_files(rid, set(), _holder(run_id=rid), "me")[0]     # same offsets
    assert not may_remove_own_files(rid, set(), _holder(run_id=None), "me")[0]    # not planned yet
    assert not may_remove_own_files(rid, set(), None, "me")[0]                    # unreadable
    assert may_remove_own_files(rid, set(), _holder(run_id="b" * 16), "me")[0]    # other offsets
    assert may_remove_own_files(rid, set(), _holder(token="me", run_id=rid), "me")[0]  # still ours
