"""What every format parser returns: a format-neutral `ParsedFeed` of `RawEntry`s."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class RawEntry:
    guid: str = ""
    link: str = ""                  # absolute when the parser could resolve it
    title: str = ""
    summary_html: str = ""
    content_html: str = ""
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    published: datetime | None = None   # timezone-aware UTC
    updated: datetime | None = None
    published_raw: str = ""          # the date as written, for hash ids
    language: str | None = None


@dataclass
class ParsedFeed:
    title: str = ""
    link: str = ""
    language: str | None = None
    ttl: str | None = None           # RSS <ttl>, minutes
    entries: list[RawEntry] = field(default_factory=list)
    error: str | None = None         # parser complaint (feedparser "bozo"); entries may still be good
    format: str = ""                 # e.g. "rss20", "atom10", "json1"
