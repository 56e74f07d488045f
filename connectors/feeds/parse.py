"""Pick the parser for a fetched body: JSON Feed or XML (RSS/RDF/Atom)."""
from __future__ import annotations

from .json_parser import looks_like_json, parse_json_feed
from .parsed import ParsedFeed
from .xml_parser import parse_xml_feed


def parse_feed(body: bytes, headers: dict[str, str], base_url: str) -> ParsedFeed:
    content_type = headers.get("content-type", "").lower()
    if looks_like_json(body) or "json" in content_type and not body.lstrip().startswith(b"<"):
        return parse_json_feed(body, base_url)
    return parse_xml_feed(body, headers)
