"""Offset-range planning logic (the broker round trips are covered by integration tests)."""
from __future__ import annotations

from connectors.kafka_source import OffsetRange, run_id_for, split_ranges
from pipeline.run import parse_offsets

import pytest


def test_split_covers_every_offset_once():
    ranges = [OffsetRange("t", 0, 5, 17), OffsetRange("t", 1, 0, 0), OffsetRange("t", 2, 3, 4)]
    splits = split_ranges(ranges, 5)
    assert [(s.partition, s.start, s.end) for s in splits] == [(0, 5, 10), (0, 10, 15), (0, 15, 17), (2, 3, 4)]
    assert sum(s.size for s in splits) == sum(r.size for r in ranges)


def test_run_id_depends_on_offsets_and_group_only():
    a = [OffsetRange("t", 0, 0, 10), OffsetRange("t", 1, 0, 3)]
    assert run_id_for("g", a) == run_id_for("g", list(reversed(a)))
    assert run_id_for("g", a) != run_id_for("h", a)
    assert run_id_for("g", a) != run_id_for("g", [OffsetRange("t", 0, 0, 11), a[1]])
    assert len(run_id_for("g", a)) == 16


def test_parse_offsets():
    assert parse_offsets("0:120, 1:98") == {0: 120, 1: 98}
    with pytest.raises(ValueError, match="PARTITION:OFFSET"):
        parse_offsets("0=12")


def test_retention_loss_is_counted_only_for_offsets_the_group_had_not_read():
    from connectors.kafka_source import OffsetRange, RetentionLoss, partition_backlog

    assert partition_backlog("t", 0, 3, 8, 9) == (OffsetRange("t", 0, 8, 9), RetentionLoss("t", 0, 3, 8))
    assert partition_backlog("t", 0, 3, 8, 9)[1].records == 5
    assert partition_backlog("t", 1, 8, 8, 9) == (OffsetRange("t", 1, 8, 9), None)
    assert partition_backlog("t", 2, 12, 8, 20) == (OffsetRange("t", 2, 12, 20), None)
    # a group that never committed starts at the log start: nothing it had to read was lost
    assert partition_backlog("t", 3, None, 8, 9) == (OffsetRange("t", 3, 8, 9), None)
