"""connectors.feeds.health: when the poller counts as alive and ready (a fake clock, no waiting)."""
from __future__ import annotations

import pytest

from connectors.feeds.health import PollHealth


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_alive_while_the_loop_moves_stalled_when_it_stops():
    clock = Clock()
    health = PollHealth(stall_seconds=300, clock=clock)
    report = health.report()
    assert report.live and not report.ready          # started, no cycle yet
    health.progress()
    clock.now += 250
    health.progress()                                 # a feed finished: still moving
    clock.now += 250
    assert health.report().live and health.report().in_cycle
    clock.now += 51                                   # 301 s without progress: hung
    report = health.report()
    assert not report.live and not report.ready
    assert report.as_dict()["status"] == "stalled" and report.as_dict()["seconds_since_progress"] == 301


def test_ready_after_the_first_cycle_until_it_stalls():
    clock = Clock()
    health = PollHealth(stall_seconds=60, clock=clock)
    health.progress()
    health.cycle_finished()
    assert health.report().ready and health.report().cycles == 1
    clock.now += 61
    assert not health.report().ready


def test_stall_must_be_positive():
    with pytest.raises(ValueError):
        PollHealth(stall_seconds=0)
