"""`FeedItem`: the Kafka wire record (docs/architecture.md), one per feed entry."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FeedItem:
    item_id: str
    url: str
    title: str
    summary_html: str
    summary_text: str
    content_html: str
    content_text: str
    authors: list[str]
    tags: list[str]
    published: str
    updated: str | None
    published_missing: bool
    language: str | None
    feed_url: str
    feed_title: str
    fetched_at: str
    schema_version: int = field(default=SCHEMA_VERSION)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict) -> "FeedItem":
        """Strict inverse of `to_dict`: unknown or missing fields and wrong types raise ValueError."""
        names = {f.name for f in fields(cls)}
        missing, unknown = names - data.keys(), data.keys() - names
        if missing or unknown:
            raise ValueError(f"FeedItem fields: missing {sorted(missing)}, unknown {sorted(unknown)}")
        if data["schema_version"] != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {data['schema_version']!r}")
        for name, expected in _FIELD_TYPES.items():
            value = data[name]
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ValueError(f"FeedItem.{name}: {type(value).__name__} is not {expected}")
        for name in ("authors", "tags"):
            if not all(isinstance(v, str) for v in data[name]):
                raise ValueError(f"FeedItem.{name} must hold strings")
        return cls(**{k: list(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str | bytes) -> "FeedItem":
        return cls.from_dict(json.loads(text))


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "item_id": str, "url": str, "title": str,
    "summary_html": str, "summary_text": str, "content_html": str, "content_text": str,
    "authors": list, "tags": list,
    "published": str, "updated": (str, type(None)), "published_missing": bool,
    "language": (str, type(None)),
    "feed_url": str, "feed_title": str, "fetched_at": str,
}
