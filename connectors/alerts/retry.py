"""Retry policy for one delivery within a run: exponential backoff with jitter, Retry-After."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


class DeliveryError(Exception):
    """A failed send. `retryable` says whether trying again in this run can help
    (5xx, 429, timeouts, refused connections) or not (other 4xx, bad config)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 60.0


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    attempts: int
    error: str | None = None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Delay after failed attempt number `attempt` (1-based): equal jitter, so the wait is at
    least half the exponential step (no hammering) and receivers are not hit in lockstep."""
    step = min(policy.max_backoff_seconds, policy.base_backoff_seconds * 2 ** (attempt - 1))
    return step / 2 + rng.uniform(0, step / 2)


def send_with_retries(
    send: Callable[[], None],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Outcome:
    """Call `send` until it succeeds, fails for good, or the attempts run out."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            send()
            return Outcome(True, attempt)
        except DeliveryError as exc:
            error = str(exc)
            if not exc.retryable or attempt >= policy.max_attempts:
                return Outcome(False, attempt, error)
            if exc.retry_after is not None:
                if exc.retry_after > policy.max_retry_after_seconds:
                    return Outcome(False, attempt, f"{error} (Retry-After {exc.retry_after:.0f}s deferred to next run)")
                delay = exc.retry_after
            else:
                delay = backoff_delay(attempt, policy, rng)
            sleep(delay)
