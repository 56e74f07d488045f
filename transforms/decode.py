"""Kafka record -> validated feed item dict, or a reject with the reason.

The wire format is documented by connectors/feeds/feed_item.schema.json (schema_version 1).
"""
from __future__ import annotations

import json

SUPPORTED_SCHEMA_VERSIONS = {1}
# field -> accepted types; None allowed only where listed in NULLABLE
REQUIRED: dict[str, tuple[type, ...]] = {
    "item_id": (str,), "url": (str,), "title": (str,), "fetched_at": (str,), "feed_url": (str,),
}
# RSS 2.0 items may lack a link or a title, Atom entries a link: the schema allows "" for these.
MAY_BE_EMPTY = {"url", "title"}
OPTIONAL: dict[str, tuple[type, ...]] = {
    "summary_html": (str,), "summary_text": (str,), "content_html": (str,), "content_text": (str,),
    "authors": (list,), "tags": (list,), "published": (str,), "updated": (str,),
    "published_missing": (bool,), "language": (str,), "feed_title": (str,),
}


class DecodeError(ValueError):
    """Why a record could not be turned into a feed item."""


def decode_item(value: bytes | None) -> dict:
    if value is None:
        raise DecodeError("empty record value (tombstone)")
    try:
        item = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DecodeError(f"value is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(item, dict):
        raise DecodeError(f"value is a JSON {type(item).__name__}, expected an object")
    version = item.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise DecodeError(f"schema_version {version!r} not supported (expected one of "
                          f"{sorted(SUPPORTED_SCHEMA_VERSIONS)})")
    for name, types in REQUIRED.items():
        if not isinstance(item.get(name), types):
            raise DecodeError(f"field {name!r} missing or not a {types[0].__name__}")
        if item[name] == "" and name not in MAY_BE_EMPTY:
            raise DecodeError(f"field {name!r} is empty")
    for name, types in OPTIONAL.items():
        if item.get(name) is not None and not isinstance(item[name], types):
            raise DecodeError(f"field {name!r} has type {type(item[name]).__name__}, "
                              f"expected {types[0].__name__}")
    return item
