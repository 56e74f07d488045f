"""The poller against misbehaving servers on 127.0.0.1: caching answers, moves, throttling,
errors, slowness, huge bodies, broken XML, entity bombs and GUIDs that change on every poll."""
from __future__ import annotations

import threading
import tracemalloc
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from connectors.feeds import poller
from connectors.feeds.localserver import Request, Response, serve, static_handler
from connectors.feeds.poller import SinkError, poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore


def rss(items: list[tuple[str, str]], extra_channel: str = "") -> bytes:
    """A small RSS 2.0 document from (guid, link) pairs."""
    body = "".join(
        f"<item><title>Story {n}</title><link>{link}</link><guid isPermaLink=\"false\">{guid}</guid>"
        f"<pubDate>Mon, 27 Jan 2025 0{n % 10}:00:00 GMT</pubDate><description>Text {n}.</description></item>"
        for n, (guid, link) in enumerate(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            f"<link>https://example.org/</link>{extra_channel}{body}</channel></rss>").encode()


FEED = rss([(f"g{n}", f"https://example.org/story/{n}") for n in range(3)])


class Recorder:
    """Wraps a handler function and records every request path and header set."""

    def __init__(self, handle):
        self.handle = handle
        self.requests: list[Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
        return self.handle(request)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)


@pytest.fixture
def settings(tmp_path) -> PollSettings:
    return PollSettings(state_path=str(tmp_path / "state.sqlite3"), connect_timeout=2, read_timeout=2,
                        total_timeout=10, max_consecutive_failures=3, default_interval_seconds=600)


@pytest.fixture
def store(settings):
    with StateStore(settings.state_path) as state:
        yield state


def later(hours: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


def test_second_poll_answered_304_produces_nothing_and_skips_parsing(settings, store, monkeypatch):
    server = Recorder(static_handler({"/feed": FEED}))
    parses = []
    real_parse = poller.parse_feed
    monkeypatch.setattr(poller, "parse_feed", lambda *a: parses.append(1) or real_parse(*a))
    with serve(server) as base:
        specs, sink = [FeedSpec(url=base + "/feed")], []
        first = poll_once(specs, store, sink.extend, settings)
        second = poll_once(specs, store, sink.extend, settings, now=later(1))
    assert first.new_items == 3 and len(sink) == 3
    assert [o.kind for o in second.outcomes] == ["not_modified"]
    assert second.new_items == 0 and len(sink) == 3
    assert len(parses) == 1
    assert server.requests[1].headers.get("if-none-match") == store.get(specs[0].url).etag
    assert server.requests[1].headers.get("if-modified-since")


def test_feed_not_yet_due_is_not_fetched(settings, store):
    server = Recorder(static_handler({"/feed": FEED}))
    with serve(server) as base:
        specs = [FeedSpec(url=base + "/feed")]
        poll_once(specs, store, lambda items: None, settings)
        summary = poll_once(specs, store, lambda items: None, settings)
    assert summary.polled == 0 and server.hits("/feed") == 1


def test_permanent_redirect_updates_stored_url(settings, store):
    feed = static_handler({"/new": FEED})

    def handle(request):
        if request.path == "/old":
            return Response(301, {"Location": "/new"})
        return feed(request)

    server = Recorder(handle)
    with serve(server) as base:
        specs = [FeedSpec(url=base + "/old")]
        poll_once(specs, store, lambda items: None, settings)
        assert store.get(base + "/old").current_url == base + "/new"
        poll_once(specs, store, lambda items: None, settings, now=later(1))
    assert server.hits("/old") == 1 and server.hits("/new") == 2


def test_temporary_redirect_keeps_stored_url(settings, store):
    feed = static_handler({"/elsewhere": FEED})
    handle = lambda r: Response(302, {"Location": "/elsewhere"}) if r.path == "/feed" else feed(r)
    with serve(Recorder(handle)) as base:
        summary = poll_once([FeedSpec(url=base + "/feed")], store, lambda items: None, settings)
    assert summary.new_items == 3
    assert store.get(base + "/feed").current_url == base + "/feed"


def test_gone_disables_feed(settings, store):
    server = Recorder(lambda r: Response(410, {"Content-Type": "text/plain"}, b"gone"))
    with serve(server) as base:
        specs = [FeedSpec(url=base + "/feed")]
        first = poll_once(specs, store, lambda items: None, settings)
        second = poll_once(specs, store, lambda items: None, settings, now=later(48))
    assert [o.kind for o in first.outcomes] == ["disabled"]
    assert store.get(specs[0].url).disabled
    assert second.polled == 0 and server.hits("/feed") == 1
    assert "disabled 1" in second.line()


@pytest.mark.parametrize("retry_after", ["7200", "http-date"])
def test_429_retry_after_schedules_next_poll_after_it(settings, store, retry_after):
    from email.utils import format_datetime

    now = datetime.now(timezone.utc)
    value = retry_after if retry_after.isdigit() else format_datetime(now + timedelta(seconds=7200), usegmt=True)
    with serve(Recorder(lambda r: Response(429, {"Retry-After": value}, b"slow down"))) as base:
        specs = [FeedSpec(url=base + "/feed")]
        summary = poll_once(specs, store, lambda items: None, settings, now=now)
    state = store.get(specs[0].url)
    assert [o.kind for o in summary.outcomes] == ["failed"]
    assert state.next_poll_at >= now.timestamp() + 7200 - 2
    assert state.consecutive_failures == 1


def test_server_errors_back_off_and_park_after_n_failures(settings, store):
    server = Recorder(lambda r: Response(500, {}, b"boom"))
    waits = []
    with serve(server) as base:
        specs = [FeedSpec(url=base + "/feed")]
        now = datetime.now(timezone.utc)
        kinds = []
        for _ in range(settings.max_consecutive_failures + 2):
            summary = poll_once(specs, store, lambda items: None, settings, now=now)
            kinds += [o.kind for o in summary.outcomes]
            state = store.get(specs[0].url)
            waits.append(state.next_poll_at - now.timestamp())
            now = datetime.fromtimestamp(state.next_poll_at + 1, tz=timezone.utc)
    assert kinds == ["failed", "failed", "parked"]
    assert server.hits("/feed") == settings.max_consecutive_failures
    # exponential with +/-20 % jitter: each wait clearly longer than the one before
    assert waits[1] > waits[0] * 1.3 and waits[2] > waits[1] * 1.3
    assert store.get(specs[0].url).parked and "parked 1" in summary.line()
    assert "HTTP 500" in store.get(specs[0].url).last_error


def test_success_resets_failure_count(settings, store):
    answers = iter([Response(503, {}, b"busy")])
    feed = static_handler({"/feed": FEED})
    with serve(Recorder(lambda r: next(answers, None) or feed(r))) as base:
        specs = [FeedSpec(url=base + "/feed")]
        poll_once(specs, store, lambda items: None, settings)
        assert store.get(specs[0].url).consecutive_failures == 1
        summary = poll_once(specs, store, lambda items: None, settings, now=later(10))
    assert summary.new_items == 3 and store.get(specs[0].url).consecutive_failures == 0


def test_server_slower_than_read_timeout_fails_cleanly(settings, store):
    fast = settings.model_copy(update={"read_timeout": 0.3})
    with serve(Recorder(lambda r: Response(200, {"Content-Type": "application/rss+xml"}, FEED,
                                           delay_seconds=2))) as base:
        summary = poll_once([FeedSpec(url=base + "/feed")], store, lambda items: None, fast)
    assert [o.kind for o in summary.outcomes] == ["failed"]
    assert "timeout" in summary.outcomes[0].error.lower()


def _fifty_megabytes():
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title><item><description>'
    yield head
    chunk = b"x" * 65536
    for _ in range(50 * 1024 * 1024 // len(chunk)):
        yield chunk


@pytest.mark.parametrize("declared_length", [False, True])
def test_50mb_body_is_cut_off_at_the_limit_with_bounded_memory(settings, store, declared_length):
    limited = settings.model_copy(update={"max_body_bytes": 2_000_000})
    headers = {"Content-Type": "application/rss+xml"}
    if declared_length:
        headers["Content-Length"] = str(50 * 1024 * 1024)
    with serve(Recorder(lambda r: Response(200, headers, _fifty_megabytes()))) as base:
        tracemalloc.start()
        try:
            summary = poll_once([FeedSpec(url=base + "/feed")], store, lambda items: None, limited)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert [o.kind for o in summary.outcomes] == ["failed"]
    assert "larger than 2000000 bytes" in summary.outcomes[0].error
    assert peak < 12_000_000, f"peak traced memory {peak} bytes"


def test_malformed_xml_keeps_good_entries_and_records_the_error(settings, store):
    broken = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title>'
              b"<item><title>First good</title><link>https://example.org/a</link><guid>a</guid></item>"
              b"<item><title>Second good</title><link>https://example.org/b</link><guid>b</guid></item>"
              b"<item><title>Fish & chips <b>unclosed</title><link>https://example.org/c</link><guid>c</guid></item>"
              b"</channel>")  # no </rss> either
    with serve(Recorder(lambda r: Response(200, {"Content-Type": "application/rss+xml"}, broken))) as base:
        sink = []
        summary = poll_once([FeedSpec(url=base + "/feed")], store, sink.extend, settings)
        state = store.get(base + "/feed")
    assert [o.kind for o in summary.outcomes] == ["ok"]
    assert {"First good", "Second good"} <= {item.title for item in sink}
    assert state.last_parse_error and "SAXParseException" in state.last_parse_error
    assert summary.outcomes[0].error == state.last_parse_error


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(entities) + "\n]>\n"
            '<rss version="2.0"><channel><title>Bomb &lol9;</title>'
            "<item><title>Laugh &lol9;</title><link>https://example.org/bomb</link><guid isPermaLink=\"false\">bomb</guid>"
            "<description>&lol9;</description></item></channel></rss>").encode()


def test_billion_laughs_keeps_memory_bounded(settings, store):
    with serve(Recorder(lambda r: Response(200, {"Content-Type": "application/rss+xml"}, billion_laughs()))) as base:
        sink = []
        tracemalloc.start()
        try:
            summary = poll_once([FeedSpec(url=base + "/feed")], store, sink.extend, settings)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert summary.outcomes[0].kind == "ok"
    from connectors.feeds.identity import GUID, item_id
    assert [item.item_id for item in sink] == [item_id(base + "/feed", GUID, "bomb")]
    assert len(sink[0].title) < 100 and "lollol" not in sink[0].summary_text
    assert "unsafe entity" in store.get(base + "/feed").last_parse_error
    assert peak < 20_000_000, f"peak traced memory {peak} bytes"


def test_guids_changing_on_every_poll_yield_no_new_items(settings, store):
    links = [f"https://example.org/story/{n}?utm_source=rss" for n in range(4)]

    def handle(request):  # fresh GUIDs on every request, no validators: always a full 200
        return Response(200, {"Content-Type": "application/rss+xml"},
                        rss([(uuid.uuid4().hex, link) for link in links]))

    with serve(Recorder(handle)) as base:
        specs, sink = [FeedSpec(url=base + "/feed")], []
        first = poll_once(specs, store, sink.extend, settings)
        second = poll_once(specs, store, sink.extend, settings, now=later(1))
        third = poll_once(specs, store, sink.extend, settings, now=later(2))
    assert first.new_items == 4 and second.new_items == 0 and third.new_items == 0
    assert len({item.item_id for item in sink}) == 4


def test_sink_failure_marks_nothing_seen_and_keeps_validators(settings, store):
    def failing(items):
        raise ConnectionError("broker went away")

    with serve(Recorder(static_handler({"/feed": FEED}))) as base:
        specs = [FeedSpec(url=base + "/feed")]
        with pytest.raises(SinkError, match="broker went away"):
            poll_once(specs, store, failing, settings)
        assert store.get(specs[0].url).etag is None  # so the next poll is a full 200, not a 304
        sink = []
        summary = poll_once(specs, store, sink.extend, settings, now=later(1))
    assert summary.new_items == 3 and len(sink) == 3


def test_per_host_limit_bounds_concurrent_requests(settings, store):
    in_flight, peak = Counter(), Counter()
    lock = threading.Lock()
    feed = static_handler({f"/f{n}": rss([(f"g{n}", f"https://example.org/{n}")]) for n in range(8)})

    def handle(request):
        with lock:
            in_flight["now"] += 1
            peak["max"] = max(peak["max"], in_flight["now"])
        try:
            threading.Event().wait(0.2)  # keep requests overlapping
            return feed(request)
        finally:
            with lock:
                in_flight["now"] -= 1

    limited = settings.model_copy(update={"per_host_concurrency": 2, "global_concurrency": 8})
    with serve(handle) as base:
        summary = poll_once([FeedSpec(url=f"{base}/f{n}") for n in range(8)], store, lambda items: None, limited)
    assert summary.count("ok") == 8
    assert peak["max"] == 2


@pytest.mark.parametrize("headers, body, expected_wait", [
    ({"Cache-Control": "public, max-age=7200"}, FEED, 7200),
    ({}, rss([("g", "https://example.org/g")], extra_channel="<ttl>180</ttl>"), 10800),
    ({"Cache-Control": "max-age=60"}, FEED, 600),  # never sooner than the feed's own interval
])
def test_cache_hints_and_rss_ttl_stretch_the_interval(settings, store, headers, body, expected_wait):
    answer = Response(200, {"Content-Type": "application/rss+xml", **headers}, body)
    now = datetime.now(timezone.utc)
    with serve(lambda r: answer) as base:
        poll_once([FeedSpec(url=base + "/feed")], store, lambda items: None, settings, now=now)
    assert store.get(base + "/feed").next_poll_at == pytest.approx(now.timestamp() + expected_wait)


def test_poll_forever_runs_cycles_until_stopped(settings, store):
    from connectors.feeds.poller import poll_forever

    summaries = []
    stop = threading.Event()

    def on_cycle(summary):
        summaries.append(summary)
        if len(summaries) == 2:
            stop.set()

    with serve(static_handler({"/feed": FEED})) as base:
        poll_forever([FeedSpec(url=base + "/feed", interval=3600)], store, lambda items: None, settings,
                     stop=stop, max_cycles=5, on_cycle=on_cycle, max_sleep_seconds=0.05)
    assert [s.new_items for s in summaries] == [3, 0]
    assert summaries[1].polled == 0  # not due again for an hour


def test_a_document_that_breaks_processing_is_a_failure_not_a_crash(settings, store, monkeypatch):
    def exploding_parse(body, headers, url):
        if url.endswith("/bad"):
            raise RecursionError("maximum recursion depth exceeded")
        return real_parse(body, headers, url)

    real_parse = poller.parse_feed
    monkeypatch.setattr(poller, "parse_feed", exploding_parse)
    with serve(static_handler({"/bad": FEED, "/good": FEED})) as base:
        summary = poll_once([FeedSpec(url=base + "/bad"), FeedSpec(url=base + "/good")], store,
                            lambda items: None, settings)
    kinds = {o.feed_url.rsplit("/", 1)[1]: o.kind for o in summary.outcomes}
    assert kinds == {"bad": "failed", "good": "ok"}
    assert "RecursionError" in store.get(base + "/bad").last_error
