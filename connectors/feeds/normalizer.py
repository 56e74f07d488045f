"""RawEntry -> FeedItem: sanitised HTML, clean text, UTC dates, feed context."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .item import FeedItem, iso_utc, sane_dates
from .parsed import ParsedFeed, RawEntry
from .sanitizer import clean_html_and_text, html_to_text


def one_line(html_or_text: str) -> str:
    """Titles: markup removed, all whitespace (including paragraph breaks) collapsed."""
    return " ".join(html_to_text(html_or_text).split())


@dataclass(frozen=True)
class FeedContext:
    """What every item of one fetched feed shares; built once per feed, not per entry."""
    feed_url: str          # as configured
    base_url: str          # where the document came from: base for relative links
    feed_title: str
    language: str | None
    fetched_at: datetime

    @classmethod
    def of(cls, parsed: ParsedFeed, feed_url: str, base_url: str, fetched_at: datetime) -> "FeedContext":
        return cls(feed_url, base_url, one_line(parsed.title), parsed.language or None, fetched_at)


def normalize_entry(entry: RawEntry, *, item_id: str, url: str, feed: FeedContext) -> FeedItem:
    """`url` is the entry's canonical web URL ('' if none), computed once by the caller."""
    # Relative links inside an article are relative to the article's page, else to the feed.
    base = url or feed.base_url
    summary_html, summary_text = clean_html_and_text(entry.summary_html, base)
    content_html, content_text = clean_html_and_text(entry.content_html, base)
    # Dates outside the sane window (0001-01-01 placeholders, typos far in the future) count
    # as missing; published falls back to updated, then to the fetch time (FeedItem's rule).
    published, updated, published_missing = sane_dates(_utc(entry.published), _utc(entry.updated),
                                                       feed.fetched_at.astimezone(timezone.utc))
    return FeedItem(
        item_id=item_id,
        url=url,
        title=one_line(entry.title),
        summary_html=summary_html,
        summary_text=summary_text,
        content_html=content_html,
        content_text=content_text,
        authors=list(entry.authors),
        tags=list(entry.tags),
        published=iso_utc(published),
        updated=iso_utc(updated) if updated else None,
        published_missing=published_missing,
        language=entry.language or feed.language,
        feed_url=feed.feed_url,
        feed_title=feed.feed_title,
        fetched_at=iso_utc(feed.fetched_at),
    )


def _utc(moment: datetime | None) -> datetime | None:
    # Parsers give aware datetimes; a naive one is taken as UTC rather than the host's zone.
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
