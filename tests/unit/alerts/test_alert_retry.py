import random
from datetime import datetime, timezone

import pytest

from connectors.alerts.retry import DeliveryError, RetryPolicy, backoff_delay, parse_retry_after, send_with_retries

NOW = datetime(2025, 1, 28, 10, 0, 0, tzinfo=timezone.utc)


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("7", NOW) == 7.0
    assert parse_retry_after("Tue, 28 Jan 2025 10:00:30 GMT", NOW) == 30.0
    assert parse_retry_after("Tue, 28 Jan 2025 09:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_grows_with_jitter_and_is_capped(attempt):
    policy = RetryPolicy(base_backoff_seconds=1.0, max_backoff_seconds=5.0)
    step = min(5.0, 2 ** (attempt - 1))
    delays = [backoff_delay(attempt, policy, random.Random(seed)) for seed in range(50)]
    assert all(step / 2 <= d <= step for d in delays)
    assert len(set(delays)) > 1


class Script:
    """Raises the scripted errors in order, then succeeds."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


def test_retries_retryable_errors_and_honours_retry_after():
    sleeps = []
    send = Script(DeliveryError("HTTP 500", retryable=True), DeliveryError("HTTP 429", retryable=True, retry_after=3))
    outcome = send_with_retries(send, RetryPolicy(max_attempts=4, base_backoff_seconds=0.5), sleeps.append, random.Random(1))
    assert (outcome.delivered, outcome.attempts) == (True, 3)
    assert 0.25 <= sleeps[0] <= 0.5 and sleeps[1] == 3


def test_stops_on_non_retryable_error():
    send = Script(DeliveryError("HTTP 404", retryable=False))
    outcome = send_with_retries(send, RetryPolicy(max_attempts=4), lambda s: None)
    assert (outcome.delivered, outcome.attempts, outcome.error) == (False, 1, "HTTP 404")


def test_gives_up_after_max_attempts():
    send = Script(*[DeliveryError("HTTP 503", retryable=True)] * 10)
    outcome = send_with_retries(send, RetryPolicy(max_attempts=3), lambda s: None)
    assert (outcome.delivered, outcome.attempts, send.calls) == (False, 3, 3)


def test_long_retry_after_is_deferred_to_next_run():
    sleeps = []
    send = Script(DeliveryError("HTTP 429", retryable=True, retry_after=3600))
    outcome = send_with_retries(send, RetryPolicy(max_retry_after_seconds=60), sleeps.append)
    assert not outcome.delivered and sleeps == [] and "next run" in outcome.error
