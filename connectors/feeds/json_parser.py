"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1); feedparser does not read it."""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone

from .item import as_text
from .parsed import ParsedFeed, RawEntry
from .urlclean import resolve


def looks_like_json(body: bytes) -> bool:
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _iso_utc(value) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _text_only(node):
    """JSON may escape half a UTF-16 pair ("\\ud800"); such a string cannot be encoded, so one
    entry carrying it would stop the sink for the whole cycle. Replaced by U+FFFD everywhere."""
    if isinstance(node, str):
        return as_text(node)
    if isinstance(node, list):
        return [_text_only(v) for v in node]
    if isinstance(node, dict):
        return {as_text(k): _text_only(v) for k, v in node.items()}
    return node


def _authors(item: dict, feed: dict) -> list[str]:
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    if not authors:
        authors = feed.get("authors") or ([feed["author"]] if isinstance(feed.get("author"), dict) else [])
    names = [a.get("name", "").strip() for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return list(dict.fromkeys(n for n in names if n))


def _entry(item: dict, feed: dict, base_url: str) -> RawEntry:
    content = _text(item.get("content_html"))
    if not content and _text(item.get("content_text")):
        content = "<p>" + html.escape(item["content_text"]).replace("\n\n", "</p><p>") + "</p>"
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    item_id = item.get("id")
    return RawEntry(
        guid=str(item_id).strip() if isinstance(item_id, (str, int)) and not isinstance(item_id, bool) else "",
        link=resolve(_text(item.get("url")) or _text(item.get("external_url")), base_url),
        title=_text(item.get("title")),
        summary_html=html.escape(_text(item.get("summary"))),
        content_html=content,
        authors=_authors(item, feed),
        tags=list(dict.fromkeys(t.strip() for t in tags if isinstance(t, str) and t.strip())),
        published=_iso_utc(item.get("date_published")),
        updated=_iso_utc(item.get("date_modified")),
        published_raw=_text(item.get("date_published")) or _text(item.get("date_modified")),
        language=_text(item.get("language")) or None,
    )


def parse_json_feed(body: bytes, base_url: str) -> ParsedFeed:
    try:
        document = _text_only(json.loads(body.decode("utf-8-sig", errors="replace")))
    except (ValueError, RecursionError) as exc:
        return ParsedFeed(error=f"invalid JSON: {exc}", format="json")
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith("https://jsonfeed.org/"):
        return ParsedFeed(error="JSON document is not a JSON Feed (no jsonfeed.org version)", format="json")
    items = document.get("items")
    error = None if isinstance(items, list) else "JSON Feed has no 'items' list"
    entries = [_entry(item, document, base_url) for item in (items or []) if isinstance(item, dict)]
    return ParsedFeed(
        title=_text(document.get("title")),
        link=_text(document.get("home_page_url")),
        language=_text(document.get("language")) or None,
        entries=entries,
        error=error,
        format="json" + str(document.get("version", "")).rstrip("/").rsplit("/", 1)[-1],
    )
