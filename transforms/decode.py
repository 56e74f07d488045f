"""Kafka record value -> a valid `FeedItem` with sane dates, or `DecodeError` with the reason.

The record's rules are FeedItem's (connectors/feeds/item.py), the same ones the poller builds
with and the JSON schema is generated from; this module adds only the byte-level steps (UTF-8,
JSON) and applies the date window:
  - `fetched_at` outside the window rejects the record (the poller's clock is wrong). The
    window's reference is the time the record reached Kafka (its timestamp), so a replay
    decides exactly as the first run did; the current time only when the record has none;
  - `published` / `updated` outside the window (relative to `fetched_at`) are treated as missing.
So every field later stages parse is checked here: a poison record becomes a `rejects` row at
stage `decode`, never an exception in a later step.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from connectors.feeds.item import (EARLIEST, MAX_AHEAD, FeedItem, InvalidFeedItem, in_window,
                                   iso_utc, parse_timestamp, sane_dates)


class DecodeError(ValueError):
    """Why a record could not be turned into a feed item (one line)."""


def received_time(timestamp_ms: int | None) -> datetime | None:
    """A Kafka record timestamp (ms; -1 or None when absent) -> aware UTC datetime."""
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=timezone.utc)


def decode_item(value: bytes | None, received_at: datetime | None = None) -> FeedItem:
    if value is None:
        raise DecodeError("empty record value (tombstone)")
    try:
        data = json.loads(value.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DecodeError(f"value is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(f"value is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # [[[[...]]]] deeper than the parser's stack
        raise DecodeError("value is JSON nested too deeply to be a feed item") from None
    try:
        item = FeedItem.from_dict(data)
    except InvalidFeedItem as exc:
        raise DecodeError(str(exc)) from None
    return with_sane_dates(item, received_at or datetime.now(timezone.utc))


def with_sane_dates(item: FeedItem, received_at: datetime) -> FeedItem:
    fetched = parse_timestamp(item.fetched_at)
    if not in_window(fetched, received_at):
        raise DecodeError(f"field 'fetched_at' is {item.fetched_at!r}, outside the sane window "
                          f"{EARLIEST:%Y-%m-%d} .. {iso_utc(received_at + MAX_AHEAD)} (the time it "
                          "reached Kafka plus one day): the poller's clock is wrong")
    # published_missing means `published` is only the fetch time: no date of the feed's own.
    published, updated, missing = sane_dates(
        None if item.published_missing else parse_timestamp(item.published),
        parse_timestamp(item.updated) if item.updated else None, fetched)
    return replace(item, published=iso_utc(published), updated=iso_utc(updated) if updated else None,
                   published_missing=missing)
