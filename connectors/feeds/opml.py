"""OPML import: subscription lists exported by other feed readers -> `FeedSpec`s."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from .entity_guard import strip_unsafe_doctype
from .spec import FeedSpec


def parse_opml(data: bytes) -> list[FeedSpec]:
    """Every `<outline xmlUrl=...>`; enclosing outline titles and `category` become tags."""
    cleaned, _note = strip_unsafe_doctype(data)
    root = ElementTree.fromstring(cleaned)
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise ValueError("not an OPML document (no <opml><body>)")
    specs: dict[str, FeedSpec] = {}

    def walk(element, folders: tuple[str, ...]) -> None:
        for outline in element.findall("outline"):
            label = (outline.get("title") or outline.get("text") or "").strip()
            url = (outline.get("xmlUrl") or "").strip()
            if url.lower().startswith(("http://", "https://")):
                categories = [c.strip().strip("/") for c in (outline.get("category") or "").split(",")]
                tags = tuple(dict.fromkeys([*folders, *(c for c in categories if c)]))
                specs.setdefault(url, FeedSpec(url=url, name=label or None, tags=tags))
            walk(outline, folders + ((label,) if label and not url else ()))

    walk(body, ())
    return list(specs.values())


def merge_specs(existing: list[FeedSpec], imported: list[FeedSpec]) -> tuple[list[FeedSpec], int]:
    """Append imported feeds whose URL is not yet listed; returns (merged, number added)."""
    known = {spec.url for spec in existing}
    added = [spec for spec in imported if spec.url not in known]
    return [*existing, *added], len(added)
