"""HTTP for feeds and article pages: conditional GET, manual redirects, timeouts, size cap.

Bodies are streamed and abandoned at `max_body_bytes` (counted after gzip decoding, so a
compression bomb is capped too); the whole request also has a wall-clock deadline.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urljoin

import httpx

from .http_rules import is_permanent_redirect
from .settings import PollSettings
from .urlclean import host_key

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
               "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class FetchResult:
    url: str                      # the URL we were asked for
    final_url: str                # after redirects
    status: int = 0               # 0 when no HTTP answer was received
    headers: dict[str, str] = field(default_factory=dict)   # lowercased names
    body: bytes | None = None     # only for 2xx answers
    moved_permanently_to: str | None = None   # set when every redirect hop was 301/308
    error: str | None = None      # transport, timeout, size or guard failure


class HostLimiter:
    """At most `per_host` requests in flight to one host:port at a time."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def hold(self, url: str) -> Iterator[None]:
        key = host_key(url)
        with self._lock:
            slot = self._slots.setdefault(key, threading.BoundedSemaphore(self._per_host))
        with slot:
            yield


class BodyTooLarge(Exception):
    pass


class Fetcher:
    def __init__(self, settings: PollSettings, limiter: HostLimiter | None = None) -> None:
        self.settings = settings
        self.limiter = limiter or HostLimiter(settings.per_host_concurrency)
        self._client = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                                  write=settings.read_timeout, pool=settings.total_timeout),
            limits=httpx.Limits(max_connections=settings.global_concurrency * 2,
                                max_keepalive_connections=settings.global_concurrency),
            headers={"User-Agent": settings.user_agent},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept: str = FEED_ACCEPT, guard: Callable[[str], None] | None = None) -> FetchResult:
        """GET `url`, following up to `max_redirects` hops; `guard(url)` may veto each hop."""
        result = FetchResult(url=url, final_url=url)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.settings.total_timeout
        all_permanent = True
        current = url
        for _hop in range(self.settings.max_redirects + 1):
            try:
                if guard is not None:
                    guard(current)
                with self.limiter.hold(current):
                    status, answer_headers, body = self._get(current, headers, deadline)
            except BodyTooLarge:
                result.error = f"body larger than {self.settings.max_body_bytes} bytes"
                return result
            except httpx.TimeoutException as exc:
                result.error = f"timeout ({type(exc).__name__})"
                return result
            except httpx.HTTPError as exc:
                result.error = f"{type(exc).__name__}: {exc}"
                return result
            except Exception as exc:  # guard vetoes and oddities such as invalid URLs
                result.error = f"{type(exc).__name__}: {exc}"
                return result
            result.final_url, result.status, result.headers, result.body = (
                current, status, answer_headers, body)
            location = answer_headers.get("location")
            if status not in _REDIRECTS or not location:
                if current != url and all_permanent and 200 <= status < 400:
                    result.moved_permanently_to = current
                return result
            all_permanent = all_permanent and is_permanent_redirect(status)
            current = urljoin(current, location.strip())
        result.error = f"more than {self.settings.max_redirects} redirects"
        return result

    def _get(self, url: str, headers: dict[str, str], deadline: float):
        with self._client.stream("GET", url, headers=headers) as response:
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            if not 200 <= response.status_code < 300:
                return response.status_code, answer_headers, None
            declared = answer_headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.settings.max_body_bytes:
                raise BodyTooLarge
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.settings.max_body_bytes:
                    raise BodyTooLarge
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("total deadline exceeded")
                chunks.append(chunk)
            return response.status_code, answer_headers, b"".join(chunks)
