"""Poll cycles: pick due feeds, fetch them concurrently, hand new items to the sink, update state.

`sink(items)` must return only once the items are durable (Kafka acknowledged them); only then
are they marked seen, so a crash between fetch and ack re-produces rather than loses items.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence

from connectors import console

from . import http_rules
from .fetcher import Fetcher, FetchResult
from .fulltext import fetch_article_html
from .identity import identify
from .item import FeedItem
from .normalizer import FeedContext, iso_utc, normalize_entry
from .parse import parse_feed
from .parsed import ParsedFeed, RawEntry
from .settings import PollSettings
from .spec import FeedSpec
from .state import FeedState, StateStore
from .urlclean import host_key, web_url

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Unsent:
    """An item the sink can never deliver (e.g. larger than the broker accepts): it is marked seen,
    since retrying cannot help, and counted with its reason, never dropped silently."""
    item_id: str
    reason: str


@dataclass(frozen=True)
class DeadLettered:
    """An item the sink could not deliver as it is, delivered instead as a dead-letter stub (its
    texts emptied, `reason` in the stub's `reject_reason`): the run writes it to `rejects` at
    stage `poll`. Counted as rejected, not new."""
    item_id: str
    reason: str


# The sink returns the items it did not deliver as they are (Unsent, DeadLettered) or None;
# anything else it must make durable.
Sink = Callable[[list[FeedItem]], "Iterable[Unsent | DeadLettered] | None"]


class SinkError(RuntimeError):
    """The sink (Kafka) failed; the cycle stops and nothing unacknowledged is marked seen."""


@dataclass
class FeedOutcome:
    feed_url: str
    kind: str                 # ok | not_modified | failed | parked | disabled
    new_items: int = 0
    error: str | None = None  # fetch/HTTP failure, or the parser's complaint on success
    unsent: list[Unsent] = field(default_factory=list)  # items the sink could never deliver
    rejected_items: int = 0   # produced as dead-letter stubs (e.g. too large for Kafka)


@dataclass
class CycleSummary:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    skipped_parked: int = 0
    skipped_disabled: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)

    @property
    def polled(self) -> int:
        return len(self.outcomes)

    @property
    def new_items(self) -> int:
        return sum(o.new_items for o in self.outcomes)

    @property
    def unsent(self) -> int:
        return sum(len(o.unsent) for o in self.outcomes)

    @property
    def rejected_items(self) -> int:
        return sum(o.rejected_items for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        """The numbers of `line()`, for JSON output."""
        return {"polled": self.polled, "not_modified": self.count("not_modified"), "failed": self.count("failed"),
                "parked": self.skipped_parked + self.count("parked"),
                "disabled": self.skipped_disabled + self.count("disabled"),
                "new_items": self.new_items, "rejected_items": self.rejected_items,
                "unsent": self.unsent}

    def line(self) -> str:
        """`polled N · not modified N · failed N · parked N · new items N`; parked counts feeds parked
        now or earlier; ` · rejected items N` (dead-letter stubs, not new) and ` · disabled N`
        (410 Gone) are appended only when there are any."""
        parked = self.skipped_parked + self.count("parked")
        disabled = self.skipped_disabled + self.count("disabled")
        text = (f"polled {self.polled} · not modified {self.count('not_modified')} · "
                f"failed {self.count('failed')} · parked {parked} · new items {self.new_items}")
        rejected = self.rejected_items
        return (text + (f" · rejected items {rejected}" if rejected else "")
                + (f" · disabled {disabled}" if disabled else "")
                + (f" · NOT SENT {self.unsent} (see the log)" if self.unsent else ""))


# -- item selection (pure apart from the state look-ups) --------------------------------------

@dataclass
class NewEntry:
    entry: RawEntry
    item_id: str
    url: str              # canonical web URL, '' if none
    remembered_link: str  # '' when the link is shared within the document (not an identity)


def select_new_entries(parsed: ParsedFeed, spec: FeedSpec, feed_state: FeedState, store: StateStore,
                       base_url: str, now_ts: float) -> list[NewEntry]:
    """Entries not produced before (identity.py); seen ones are kept fresh in the seen-set.

    An entry is seen when its id, an id an older poller gave it (upgrade), or the first id
    remembered for its link (feeds whose GUIDs change on every poll) is in the seen-set. An entry a
    document repeats is produced every time it appears: the run drops the repeats as duplicates
    that name the row they repeat, so each entry of the document is accounted for.
    """
    entries = parsed.entries
    links = [web_url(e.link, base_url) for e in entries]
    feed_urls = {spec.url, feed_state.current_url, base_url}
    idents = identify(spec.url, entries, links, feed_urls)
    remembered = store.known_link_ids(spec.url, [i.identity_link for i in idents])
    aliases = [{i.item_id, *i.legacy_ids, *([remembered[i.identity_link]] if i.identity_link in remembered else [])}
               for i in idents]
    seen = store.seen_ids(spec.url, [a for group in aliases for a in group])
    store.touch_seen(spec.url, seen, now_ts)
    fresh, migrated = [], []
    for entry, ident, link, group in zip(entries, idents, links, aliases):
        if group & seen:
            if ident.item_id not in seen:  # seen under an older id: remember the current one too
                migrated.append((ident.item_id, ident.identity_link))
            continue
        fresh.append(NewEntry(entry, ident.item_id, link, ident.identity_link))
    if migrated:
        store.mark_produced(spec.url, migrated, now_ts)
    return fresh


# -- one feed -----------------------------------------------------------------------------------

@dataclass
class _PollJob:
    spec: FeedSpec
    store: StateStore
    fetcher: Fetcher
    sink: Sink
    settings: PollSettings
    now: datetime

    @property
    def interval(self) -> int:
        return self.spec.interval or self.settings.default_interval_seconds


def _schedule(ctx: _PollJob, state: FeedState, seconds: int) -> None:
    state.next_poll_at = ctx.now.timestamp() + seconds


def _record_failure(ctx: _PollJob, state: FeedState, error: str,
                    result: FetchResult | None) -> FeedOutcome:
    state.consecutive_failures += 1
    state.last_error, state.last_error_at = error, ctx.now.timestamp()
    wait = http_rules.backoff_seconds(state.consecutive_failures, ctx.interval, ctx.settings.max_interval_seconds)
    if result is not None and http_rules.is_throttled(result.status):
        wait = max(wait, http_rules.retry_after(result.headers, ctx.now) or 0)
    _schedule(ctx, state, wait)
    if state.consecutive_failures >= ctx.settings.max_consecutive_failures:
        state.parked = True
        log.warning("feed %s parked after %d consecutive failures: %s",
                    ctx.spec.url, state.consecutive_failures, error)
        return FeedOutcome(ctx.spec.url, "parked", error=error)
    return FeedOutcome(ctx.spec.url, "failed", error=error)


def _record_success(ctx: _PollJob, state: FeedState, result: FetchResult, ttl: str | None) -> None:
    state.consecutive_failures = 0
    state.last_success_at = ctx.now.timestamp()
    interval = http_rules.next_interval(
        ctx.interval, ctx.settings.max_interval_seconds,
        http_rules.cache_control_max_age(result.headers), http_rules.expires_in(result.headers, ctx.now),
        http_rules.rss_ttl_seconds(ttl))
    _schedule(ctx, state, interval)


def _fill_full_text(ctx: _PollJob, fresh: list[NewEntry]) -> None:
    for new in fresh:
        if new.entry.content_html.strip() or not new.url:
            continue
        html, error = fetch_article_html(ctx.fetcher, new.url, ctx.settings.allow_private_addresses)
        if error:
            log.info("full text for %s not fetched: %s", new.url, error)
        new.entry.content_html = html


def _produce(ctx: _PollJob, state: FeedState, parsed: ParsedFeed,
             base_url: str) -> tuple[int, list[Unsent], int]:
    """(new items produced, items never delivered, items delivered as dead-letter stubs)"""
    fresh = select_new_entries(parsed, ctx.spec, state, ctx.store, base_url, ctx.now.timestamp())
    if ctx.spec.full_text:
        _fill_full_text(ctx, fresh)
    feed = FeedContext.of(parsed, ctx.spec.url, base_url, fetched_at=datetime.now(timezone.utc))
    items = [normalize_entry(new.entry, item_id=new.item_id, url=new.url, feed=feed) for new in fresh]
    unsent: list[Unsent] = []
    rejected = 0
    if items:
        try:
            result = ctx.sink(items)
            # sinks that return nothing (or a count) delivered everything
            outcomes = list(result) if isinstance(result, (list, tuple)) else []
        except Exception as exc:
            raise SinkError(f"sink failed for feed {ctx.spec.url}: {exc}") from exc
        unsent = [u for u in outcomes if isinstance(u, Unsent)]
        rejected = sum(1 for u in outcomes if isinstance(u, DeadLettered))
        for u in unsent:
            log.warning("feed %s: item %s not sent: %s", ctx.spec.url, u.item_id, u.reason)
        # A dead-letter stub is durable too (the run records it in rejects): all are seen.
        ctx.store.mark_produced(ctx.spec.url, [(n.item_id, n.remembered_link) for n in fresh],
                                ctx.now.timestamp())
    return len(items) - len(unsent) - rejected, unsent, rejected


def poll_feed(ctx: _PollJob) -> FeedOutcome:
    state = ctx.store.get(ctx.spec.url)
    result = ctx.fetcher.fetch(state.current_url, etag=state.etag, last_modified=state.last_modified)
    state.last_status = result.status or None
    if result.moved_permanently_to:
        log.info("feed %s moved permanently to %s", state.current_url, result.moved_permanently_to)
        state.current_url = result.moved_permanently_to

    if result.error:
        outcome = _record_failure(ctx, state, result.error, result)
    elif http_rules.is_not_modified(result.status):
        _record_success(ctx, state, result, ttl=None)
        outcome = FeedOutcome(ctx.spec.url, "not_modified")
    elif http_rules.is_gone(result.status):
        state.disabled = True
        state.last_error, state.last_error_at = "HTTP 410 Gone: feed disabled", ctx.now.timestamp()
        outcome = FeedOutcome(ctx.spec.url, "disabled", error=state.last_error)
    elif result.body is None:
        outcome = _record_failure(ctx, state, f"HTTP {result.status}", result)
    else:
        outcome = _process_body(ctx, state, result)
    ctx.store.save(state)
    return outcome


def _process_body(ctx: _PollJob, state: FeedState, result: FetchResult) -> FeedOutcome:
    try:
        parsed = parse_feed(result.body, result.headers, result.final_url)
        if not parsed.entries and not parsed.title and parsed.error:
            return _record_failure(ctx, state, f"not a feed: {parsed.error}", result)
        new_items, unsent, rejected_items = _produce(ctx, state, parsed, result.final_url)
    except SinkError:
        raise
    except Exception as exc:  # one odd document must not end the cycle for every other feed
        log.exception("feed %s could not be processed", ctx.spec.url)
        return _record_failure(ctx, state, f"processing failed: {type(exc).__name__}: {exc}", result)
    # Validators are stored only after the sink succeeded: a 304 must never hide unsent items.
    state.etag = result.headers.get("etag")
    state.last_modified = result.headers.get("last-modified")
    state.title = parsed.title or state.title
    state.last_parse_error = parsed.error
    state.items_produced += new_items
    _record_success(ctx, state, result, parsed.ttl)
    error = parsed.error
    if unsent:
        note = f"{len(unsent)} item(s) not sent: {unsent[0].reason}"
        state.last_parse_error = note if not error else f"{error}; {note}"
        error = state.last_parse_error
    return FeedOutcome(ctx.spec.url, "ok", new_items=new_items, error=error, unsent=unsent,
                       rejected_items=rejected_items)


# -- cycles -------------------------------------------------------------------------------------

def _interleave_by_host(specs: Sequence[tuple[FeedSpec, FeedState]]) -> list[tuple[FeedSpec, FeedState]]:
    """Round-robin over hosts so a host's per-host limit does not idle the whole pool."""
    queues: dict[str, deque] = defaultdict(deque)
    for pair in specs:
        queues[host_key(pair[1].current_url)].append(pair)
    ordered = []
    while queues:
        for host in list(queues):
            ordered.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return ordered


def poll_once(specs: Sequence[FeedSpec], state: StateStore, sink: Sink, settings: PollSettings, *,
              now: datetime | None = None, fetcher: Fetcher | None = None,
              on_feed_done: Callable[[], None] | None = None) -> CycleSummary:
    """Poll every enabled, due, unparked feed once; raises SinkError if the sink fails.
    `on_feed_done` is called after each feed (the health check's sign of progress)."""
    now = now or datetime.now(timezone.utc)
    summary = CycleSummary()
    due = []
    for spec in specs:
        if not spec.enabled:
            continue
        feed_state = state.get(spec.url)
        if feed_state.disabled:
            summary.skipped_disabled += 1
        elif feed_state.parked:
            summary.skipped_parked += 1
        elif feed_state.next_poll_at <= now.timestamp():
            due.append((spec, feed_state))
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(settings)
    stop = threading.Event()

    def run(spec: FeedSpec) -> FeedOutcome | None:
        if stop.is_set():
            return None
        try:
            return poll_feed(_PollJob(spec, state, fetcher, sink, settings, now))
        except SinkError:
            stop.set()
            raise

    sink_error: SinkError | None = None
    try:
        with ThreadPoolExecutor(settings.global_concurrency, thread_name_prefix="poll") as pool, \
                console.progress(len(due), unit="feed", leave=False) as bar:
            futures = [pool.submit(run, spec) for spec, _ in _interleave_by_host(due)]
            for future in as_completed(futures):
                bar.update(1)
                if on_feed_done is not None:
                    on_feed_done()
                try:
                    outcome = future.result()
                except SinkError as exc:
                    sink_error = sink_error or exc
                    continue
                if outcome is not None:
                    summary.outcomes.append(outcome)
    finally:
        if own_fetcher:
            fetcher.close()
    if sink_error:
        raise sink_error
    state.prune_seen((now - timedelta(days=settings.seen_horizon_days)).timestamp())
    return summary


def poll_forever(specs: Sequence[FeedSpec], state: StateStore, sink: Sink, settings: PollSettings, *,
                 stop: threading.Event | None = None, max_cycles: int | None = None,
                 on_cycle: Callable[[CycleSummary], None] | None = None,
                 max_sleep_seconds: float = 60.0,
                 reload: Callable[[], Sequence[FeedSpec]] | None = None,
                 progress: Callable[[], None] | None = None,
                 wake: Callable[[], bool] | None = None, wake_check_seconds: float = 5.0) -> None:
    """Cycle until `stop` is set (or `max_cycles` ran), sleeping until the next feed is due.
    `reload()`, when given, returns the feed list before each cycle (a ConfigMap edit reaches the
    running poller); `wake()` is asked every `wake_check_seconds` of a sleep whether to start the
    next cycle early (the feed list file changed); `progress()` is called when a cycle starts and
    after each feed."""
    stop = stop or threading.Event()
    on_cycle = on_cycle or (lambda s: console.info(s.line(), cycle=s.counts()))
    cycles = 0
    with Fetcher(settings) as fetcher:
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            if reload is not None:
                specs = reload()
            if progress is not None:
                progress()
            on_cycle(poll_once(specs, state, sink, settings, fetcher=fetcher, on_feed_done=progress))
            cycles += 1
            urls = {spec.url for spec in specs if spec.enabled}
            pending = [f.next_poll_at for f in state.all_feeds()
                       if f.feed_url in urls and not (f.parked or f.disabled)]
            wait = min(pending, default=0) - datetime.now(timezone.utc).timestamp()
            _sleep(min(max(wait, 1.0), max_sleep_seconds), stop, wake, wake_check_seconds)


def _sleep(seconds: float, stop: threading.Event, wake: Callable[[], bool] | None, step: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or stop.wait(min(left, step) if wake is not None else left):
            return
        if wake is not None and wake():
            return


def _iso(ts: float | None) -> str | None:
    return iso_utc(datetime.fromtimestamp(ts, tz=timezone.utc)) if ts else None


def feeds_status_rows(state: StateStore) -> list[dict]:
    """Health table for `newsbeam feeds status`: one row per feed the state store knows."""
    rows = []
    for feed in state.all_feeds():
        if feed.disabled:
            status = "disabled"
        elif feed.parked:
            status = "parked"
        elif feed.consecutive_failures:
            status = f"failing ({feed.consecutive_failures})"
        else:
            status = "ok"
        rows.append({
            "feed": feed.feed_url if feed.current_url == feed.feed_url else f"{feed.feed_url} -> {feed.current_url}",
            "status": status,
            "last_success": _iso(feed.last_success_at),
            "last_error": feed.last_error if feed.consecutive_failures or feed.disabled or feed.parked
            else feed.last_parse_error,
            "next_poll": None if feed.parked or feed.disabled else _iso(feed.next_poll_at),
            "items": feed.items_produced,
        })
    return rows
