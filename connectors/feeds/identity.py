"""Stable item ids: a sane GUID, else the canonical link, else a hash of title and date."""
from __future__ import annotations

import hashlib
from collections import Counter

from .parsed import RawEntry

_MAX_GUID_LENGTH = 1024


def hash_id(title: str, date_raw: str) -> str:
    digest = hashlib.sha256(f"{title.strip()}\x1f{date_raw.strip()}".encode("utf-8")).hexdigest()
    return "h:" + digest[:32]


def shared_guids(entries: list[RawEntry]) -> set[str]:
    """GUIDs carried by more than one entry of a document say nothing about identity."""
    counts = Counter(e.guid for e in entries if e.guid)
    return {guid for guid, count in counts.items() if count > 1}


def is_sane_guid(guid: str, shared: set[str], feed_urls: set[str]) -> bool:
    return bool(guid) and len(guid) <= _MAX_GUID_LENGTH and guid not in shared and guid not in feed_urls


def candidate_id(entry: RawEntry, canonical_link: str, guid_is_sane: bool) -> str:
    if guid_is_sane:
        return entry.guid
    if canonical_link:
        return canonical_link
    return hash_id(entry.title, entry.published_raw)
