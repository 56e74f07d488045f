import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from connectors.feeds import http_rules as rules

NOW = datetime(2025, 1, 28, 10, 0, tzinfo=timezone.utc)


def test_cache_control_max_age():
    assert rules.cache_control_max_age({"cache-control": "public, max-age=1800"}) == 1800
    assert rules.cache_control_max_age({"cache-control": "no-cache"}) is None
    assert rules.cache_control_max_age({}) is None


def test_expires():
    future = format_datetime(NOW + timedelta(hours=2), usegmt=True)
    assert rules.expires_in({"expires": future}, NOW) == 7200
    assert rules.expires_in({"expires": format_datetime(NOW - timedelta(hours=1), usegmt=True)}, NOW) is None
    assert rules.expires_in({"expires": "0"}, NOW) is None


def test_retry_after_seconds_and_date():
    assert rules.retry_after({"retry-after": "120"}, NOW) == 120
    date = format_datetime(NOW + timedelta(minutes=5), usegmt=True)
    assert rules.retry_after({"retry-after": date}, NOW) == 300
    assert rules.retry_after({"retry-after": "soon"}, NOW) is None


def test_rss_ttl():
    assert rules.rss_ttl_seconds("60") == 3600
    assert rules.rss_ttl_seconds(None) is None and rules.rss_ttl_seconds("abc") is None
    assert rules.rss_ttl_seconds("0") is None


def test_next_interval_takes_longest_hint_under_cap():
    assert rules.next_interval(900, 86400, None, 3600, None) == 3600
    assert rules.next_interval(900, 86400, 60) == 900
    assert rules.next_interval(900, 86400, 10 ** 9) == 86400


def test_backoff_grows_exponentially_with_bounded_jitter():
    rng = random.Random(7)
    waits = [rules.backoff_seconds(n, 600, 86400, rng) for n in range(1, 6)]
    for n, wait in enumerate(waits, start=1):
        assert 0.8 * 600 * 2 ** (n - 1) <= wait <= 1.2 * 600 * 2 ** (n - 1)
    assert rules.backoff_seconds(30, 600, 86400, rng) <= 1.2 * 86400
    assert len({rules.backoff_seconds(3, 600, 86400, rng) for _ in range(20)}) > 1  # jitter spreads feeds


def test_status_classes():
    assert rules.is_permanent_redirect(301) and rules.is_permanent_redirect(308)
    assert not rules.is_permanent_redirect(302)
    assert rules.is_gone(410) and rules.is_not_modified(304)
    assert rules.is_throttled(429) and rules.is_throttled(503) and not rules.is_throttled(500)
    assert rules.is_retryable_error(502) and not rules.is_retryable_error(404)
