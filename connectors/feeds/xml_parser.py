"""RSS 0.9x/1.0/2.0 and Atom via feedparser; the HTTP part is ours (feedparser has no timeouts)."""
from __future__ import annotations

import calendar
import io
import re
from datetime import datetime, timezone

import feedparser

from .entity_guard import strip_unsafe_doctype
from .parsed import ParsedFeed, RawEntry

_XML_DECL_ENCODING = re.compile(rb"(<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")
_UTF16_32_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                  (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _as_utf8(data: bytes) -> bytes:
    """Re-encode UTF-16/32 documents so the entity guard's byte patterns can see their DOCTYPE."""
    for bom, codec in _UTF16_32_BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace").encode("utf-8")
            return _XML_DECL_ENCODING.sub(rb"\1\2utf-8\2", text, count=1)
    return data


def _utc(parsed) -> datetime | None:
    """feedparser gives UTC `time.struct_time`s."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc)
    except (OverflowError, ValueError, OSError):
        return None


def _content_html(entry) -> str:
    # Prefer HTML bodies; several <content> elements are joined in document order.
    contents = entry.get("content") or []
    html = [c.get("value", "") for c in contents if "html" in (c.get("type") or "")]
    plain = [c.get("value", "") for c in contents if "html" not in (c.get("type") or "")]
    return "\n".join(v for v in (html or plain) if v)


def _authors(entry) -> list[str]:
    names = [a.get("name") or a.get("email") or "" for a in entry.get("authors") or []]
    names = [n.strip() for n in names if n and n.strip()]
    if not names and entry.get("author"):
        names = [entry["author"].strip()]
    return list(dict.fromkeys(names))


def _tags(entry) -> list[str]:
    terms = [(t.get("term") or t.get("label") or "").strip() for t in entry.get("tags") or []]
    return list(dict.fromkeys(t for t in terms if t))


def _link(entry) -> str:
    if entry.get("link"):
        return entry["link"]
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link["href"]
    return ""


def _entry(entry) -> RawEntry:
    summary = entry.get("summary", "") or ""
    content = _content_html(entry)
    if content and content.strip() == summary.strip():
        summary = ""  # RSS without <description> gets content copied into summary by feedparser
    return RawEntry(
        guid=(entry.get("id") or "").strip(),
        link=_link(entry).strip(),
        title=entry.get("title", "") or "",
        summary_html=summary,
        content_html=content,
        authors=_authors(entry),
        tags=_tags(entry),
        # dict.get: FeedParserDict's own lookup answers "updated" with the published date.
        published=_utc(dict.get(entry, "published_parsed")),
        updated=_utc(dict.get(entry, "updated_parsed")),
        published_raw=dict.get(entry, "published") or dict.get(entry, "updated") or "",
        language=(entry.get("language") or None),
    )


def parse_xml_feed(body: bytes, headers: dict[str, str]) -> ParsedFeed:
    data, note = strip_unsafe_doctype(_as_utf8(body))
    # A stream, never bytes: feedparser treats bytes/str arguments as a possible file name or URL.
    # Sanitising and link resolution happen in our lxml-based sanitizer and `web_url`: feedparser's
    # pure-Python versions cost seconds on large feeds, and without a base URI (no
    # content-location) it skips a urljoin per element, ~25 % of its parse time. Links stay as
    # written (xml:base is not applied) and are resolved against the feed URL by the caller.
    result = feedparser.parse(io.BytesIO(data), response_headers=headers,
                              sanitize_html=False, resolve_relative_uris=False)
    feed = result.get("feed", {})
    errors = [note] if note else []
    if result.get("bozo"):
        errors.append(f"{type(result.get('bozo_exception')).__name__}: {result.get('bozo_exception')}")
    return ParsedFeed(
        title=feed.get("title", "") or "",
        link=feed.get("link", "") or "",
        language=feed.get("language") or headers.get("content-language") or None,
        ttl=feed.get("ttl"),
        entries=[_entry(e) for e in result.get("entries", [])],
        error="; ".join(errors) or None,
        format=result.get("version") or "",
    )
