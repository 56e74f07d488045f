"""Liveness and readiness of the long-running poller, for Kubernetes probes (pure logic; the HTTP
side is connectors/feeds/ops_http.py).

Alive = the poll loop moved recently: a cycle began, a feed finished or a cycle ended within
`stall_seconds`. A hung fetch, a Kafka send that never returns or a deadlocked thread stops
that, and the liveness probe then restarts the pod. Ready = alive and at least one cycle done
(the first cycle proves the feed list loaded and Kafka acknowledged).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

DEFAULT_STALL_SECONDS = 600.0


@dataclass(frozen=True)
class HealthReport:
    live: bool
    ready: bool
    cycles: int
    in_cycle: bool
    seconds_since_progress: float
    stall_seconds: float

    def as_dict(self) -> dict:
        return {"status": "ok" if self.live else "stalled", "ready": self.ready, "cycles": self.cycles,
                "in_cycle": self.in_cycle, "seconds_since_progress": round(self.seconds_since_progress, 1),
                "stall_seconds": self.stall_seconds}


class PollHealth:
    def __init__(self, stall_seconds: float = DEFAULT_STALL_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        if stall_seconds <= 0:
            raise ValueError("stall_seconds must be > 0")
        self.stall_seconds = stall_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last_progress = clock()
        self._cycles = 0
        self._in_cycle = False

    def progress(self) -> None:
        """The loop is moving: a cycle starts or a feed finished."""
        with self._lock:
            self._last_progress = self._clock()
            self._in_cycle = True

    def cycle_finished(self) -> None:
        with self._lock:
            self._last_progress = self._clock()
            self._cycles += 1
            self._in_cycle = False

    def report(self) -> HealthReport:
        with self._lock:
            idle = self._clock() - self._last_progress
            live = idle <= self.stall_seconds
            return HealthReport(live, live and self._cycles > 0, self._cycles, self._in_cycle, idle,
                                self.stall_seconds)
