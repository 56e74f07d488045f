"""Item identity: one documented function of (feed, entry), scoped by the feed like Miniflux's
entry hash (a hash of the feed and the entry's guid or link), so it never collides across feeds.

    item_id = "<basis>:" + 32 hex of SHA-256(feed_url \\x1f basis \\x1f key)

``feed_url`` is the feed as configured (``FeedSpec.url``; it stays when the feed moves), and the
basis is the first of these that applies to the entry:

``guid``     its GUID / Atom id, when sane: at most 1,024 characters, not the feed's own URL, and
             carried by no other entry of the same document (a GUID shared inside a document is
             a CMS template value, not an identity);
``link``     its canonical link, when no other entry of the same document links there (a podcast
             whose every episode links to the show's page has no identity in its links);
``content``  what the entry says: title, date, summary and content as written. Two entries of one
             feed saying exactly the same are the same entry; an entry with nothing at all is one
             per feed, never one for every feed.

``legacy_ids`` gives the id the poller used before this scheme (raw GUID, else canonical link,
else ``h:`` + hash of title and date), so items seen under their old id stay seen after an
upgrade (docs/operations.md "Upgrade").
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .parsed import RawEntry

_MAX_GUID_LENGTH = 1024
_SEP = "\x1f"
GUID, LINK, CONTENT = "guid", "link", "content"


def _shared(values: Iterable[str]) -> set[str]:
    counts = Counter(v for v in values if v)
    return {v for v, n in counts.items() if n > 1}


def shared_guids(entries: list[RawEntry]) -> set[str]:
    """GUIDs carried by more than one entry of a document say nothing about identity."""
    return _shared(e.guid for e in entries)


def is_sane_guid(guid: str, shared: set[str], feed_urls: set[str]) -> bool:
    return bool(guid) and len(guid) <= _MAX_GUID_LENGTH and guid not in shared and guid not in feed_urls


def item_id(feed_url: str, basis: str, key: str) -> str:
    digest = hashlib.sha256(_SEP.join((feed_url, basis, key)).encode("utf-8")).hexdigest()
    return f"{basis}:{digest[:32]}"


def content_key(entry: RawEntry) -> str:
    return _SEP.join(part.strip() for part in (entry.title, entry.published_raw, entry.summary_html,
                                                entry.content_html))


@dataclass(frozen=True)
class EntryIdentity:
    item_id: str
    basis: str                       # guid | link | content
    identity_link: str               # the canonical link when it identifies the entry, else ''
    legacy_ids: tuple[str, ...] = ()  # ids an older poller may have marked seen


def identify(feed_url: str, entries: list[RawEntry], links: list[str],
             feed_urls: set[str]) -> list[EntryIdentity]:
    """Identity of every entry of one fetched document (``links``: their canonical web URLs)."""
    shared_guid, shared_link = shared_guids(entries), _shared(links)
    out = []
    for entry, link in zip(entries, links):
        guid_ok = is_sane_guid(entry.guid, shared_guid, feed_urls)
        own_link = link if link and link not in shared_link else ""
        if guid_ok:
            basis, key = GUID, entry.guid
        elif own_link:
            basis, key = LINK, own_link
        else:
            basis, key = CONTENT, content_key(entry)
        out.append(EntryIdentity(item_id(feed_url, basis, key), basis, own_link,
                                 _legacy(entry, link, guid_ok)))
    # A legacy id several entries of this document map to identified none of them (the old
    # scheme gave every untitled, undated entry one `h:` id): it must not mark any as seen.
    ambiguous = _shared(i for ident in out for i in set(ident.legacy_ids))
    return [EntryIdentity(i.item_id, i.basis, i.identity_link,
                          tuple(x for x in i.legacy_ids if x not in ambiguous)) for i in out]


def legacy_hash_id(title: str, date_raw: str) -> str:
    """The pre-upgrade fallback id (title and date only)."""
    digest = hashlib.sha256(f"{title.strip()}{_SEP}{date_raw.strip()}".encode("utf-8")).hexdigest()
    return "h:" + digest[:32]


def _legacy(entry: RawEntry, link: str, guid_ok: bool) -> tuple[str, ...]:
    if guid_ok:
        return (entry.guid,)
    if link:
        return (link,)
    if entry.title.strip() or entry.published_raw.strip():
        return (legacy_hash_id(entry.title, entry.published_raw),)
    return ()  # the old id of an empty entry was the same for every empty entry: no identity
