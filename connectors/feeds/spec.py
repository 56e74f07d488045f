"""The feed list: `FeedSpec` records loaded from YAML (`feeds: [{url, name, ...}]`)."""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator


class FeedSpec(BaseModel):
    model_config = {"extra": "forbid", "frozen": True}

    url: str
    name: str | None = None
    interval: int | None = Field(None, ge=1, description="seconds between polls; None = default")
    enabled: bool = True
    tags: tuple[str, ...] = ()
    full_text: bool = False

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError(f"feed url must be http(s): {value!r}")
        return value


def parse_feed_list(document: dict | None) -> list[FeedSpec]:
    """Feed specs from an already-loaded YAML document; duplicate URLs keep the first entry."""
    entries = (document or {}).get("feeds") or []
    if not isinstance(entries, list):
        raise ValueError("'feeds' must be a list of {url: ...} mappings")
    specs: dict[str, FeedSpec] = {}
    for entry in entries:
        spec = FeedSpec(url=entry) if isinstance(entry, str) else FeedSpec(**entry)
        specs.setdefault(spec.url, spec)
    return list(specs.values())


def load_feed_list(path: str | Path) -> list[FeedSpec]:
    with open(path, encoding="utf-8") as handle:
        return parse_feed_list(yaml.safe_load(handle))


def dump_feed_list(specs: list[FeedSpec], path: str | Path) -> None:
    """Write specs back as YAML, omitting fields left at their defaults."""
    feeds = []
    for spec in specs:
        entry = spec.model_dump(exclude_defaults=True)
        if "tags" in entry:
            entry["tags"] = list(entry["tags"])
        feeds.append(entry)
    Path(path).write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")
