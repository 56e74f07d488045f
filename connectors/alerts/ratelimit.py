"""Token bucket used to keep each sink under its configured rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Refills `rate_per_second` tokens per second up to `capacity`; `acquire` waits for one.

    `clock` and `sleep` are injectable so the logic can be tested without real waiting."""

    def __init__(
        self,
        rate_per_second: float,
        capacity: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0 or capacity < 1:
            raise ValueError("rate_per_second must be > 0 and capacity >= 1")
        self.rate = rate_per_second
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping until it is available. Returns the seconds waited."""
        waited = 0.0
        with self._lock:
            self._refill()
            while self._tokens < 1.0:
                delay = (1.0 - self._tokens) / self.rate
                self._sleep(delay)
                waited += delay
                self._refill()
            self._tokens -= 1.0
        return waited


def bucket_for(rate_per_minute: float | None, burst: int) -> TokenBucket | None:
    return None if rate_per_minute is None else TokenBucket(rate_per_minute / 60.0, burst)
