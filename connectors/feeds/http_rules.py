"""Scheduling rules from HTTP answers, one small function each (as in Miniflux's fetcher).

All functions are pure: headers/status/time in, numbers out.
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def cache_control_max_age(headers: dict[str, str]) -> int | None:
    """Seconds from `Cache-Control: max-age=N`; `no-cache`/`no-store` give no hint."""
    value = headers.get("cache-control")
    if not value:
        return None
    match = _MAX_AGE.search(value)
    return int(match.group(1)) if match else None


def expires_in(headers: dict[str, str], now: datetime) -> int | None:
    """Seconds until `Expires`; None when absent, unparsable or already past."""
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    seconds = int((expires - now).total_seconds())
    return seconds if seconds > 0 else None


def retry_after(headers: dict[str, str], now: datetime) -> int | None:
    """Seconds from `Retry-After`, given either as delta-seconds or as an HTTP date."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0, int((when - now).total_seconds()))


def rss_ttl_seconds(ttl: str | int | None) -> int | None:
    """RSS `<ttl>` is in minutes."""
    try:
        minutes = int(str(ttl).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


def next_interval(base_interval: int, max_interval: int, *hints: int | None) -> int:
    """Poll no sooner than the feed's interval or any cache hint, but no later than the cap."""
    longest = max([base_interval, *[h for h in hints if h]])
    return min(longest, max(max_interval, base_interval))


def backoff_seconds(failures: int, base_interval: int, max_interval: int,
                    rng: random.Random | None = None) -> int:
    """Exponential backoff after `failures` consecutive errors, +/-20 % jitter so feeds spread out."""
    rng = rng or random
    raw = min(base_interval * 2 ** max(0, failures - 1), max_interval)
    return max(1, int(raw * rng.uniform(0.8, 1.2)))


def is_permanent_redirect(status: int) -> bool:
    return status in (301, 308)


def is_gone(status: int) -> bool:
    return status == 410


def is_not_modified(status: int) -> bool:
    return status == 304


def is_throttled(status: int) -> bool:
    """Answers that ask us to slow down; Retry-After applies to them."""
    return status in (429, 503)


def is_retryable_error(status: int) -> bool:
    return status == 429 or 500 <= status <= 599
