"""RawEntry -> FeedItem: sanitised HTML, clean text, UTC dates, feed context."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from .item import FeedItem
from .parsed import ParsedFeed, RawEntry
from .sanitizer import clean_html_and_text, html_to_text


def iso_utc(moment: datetime) -> str:
    """`2025-01-28T10:00:00Z`; formatted by hand because strftime does not zero-pad tiny years."""
    m = moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


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
    # Published falls back to updated (some Atom feeds only carry <updated>), then to fetch time.
    published = entry.published or entry.updated
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
        published=iso_utc(published or feed.fetched_at),
        updated=iso_utc(entry.updated) if entry.updated else None,
        published_missing=published is None,
        language=entry.language or feed.language,
        feed_url=feed.feed_url,
        feed_title=feed.feed_title,
        fetched_at=iso_utc(feed.fetched_at),
    )
