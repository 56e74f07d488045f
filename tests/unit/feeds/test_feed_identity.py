from datetime import datetime, timezone

from connectors.feeds.identity import (CONTENT, GUID, LINK, identify, is_sane_guid, item_id,
                                       legacy_hash_id, shared_guids)
from connectors.feeds.parsed import ParsedFeed, RawEntry
from connectors.feeds.poller import select_new_entries
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore

FEED = "https://a.example/feed.xml"


def entry(guid="", link="", title="T", date="Mon, 27 Jan 2025 10:00:00 GMT", summary="", content=""):
    return RawEntry(guid=guid, link=link, title=title, published_raw=date, summary_html=summary,
                    content_html=content)


def ids(feed, entries, links=None):
    return [i.item_id for i in identify(feed, entries, links or [e.link for e in entries], {feed})]


def test_id_is_a_hash_of_feed_basis_and_key():
    [g, l, c] = identify(FEED, [entry("g1", "https://e.org/a"), entry("", "https://e.org/b"), entry()],
                         ["https://e.org/a", "https://e.org/b", ""], {FEED})
    assert (g.basis, l.basis, c.basis) == (GUID, LINK, CONTENT)
    assert g.item_id == item_id(FEED, GUID, "g1") and g.item_id.startswith("guid:") and len(g.item_id) == 37
    assert l.item_id == item_id(FEED, LINK, "https://e.org/b") and l.identity_link == "https://e.org/b"
    assert c.item_id.startswith("content:")


def test_equal_guids_in_two_feeds_are_two_items():
    """Two CMSs both number their posts 12345: scoped by feed, they never collide."""
    a = ids("https://a.example/rss", [entry("12345")])
    b = ids("https://b.example/rss", [entry("12345")])
    assert a != b


def test_empty_entries_get_one_id_per_feed_and_distinct_contents_distinct_ids():
    bare = entry(title="", date="")
    assert ids("https://a.example/rss", [bare]) != ids("https://b.example/rss", [bare])
    texts = [entry(title="", date="", summary=f"<p>Note {i}</p>") for i in range(3)]
    assert len(set(ids(FEED, texts))) == 3


def test_guids_shared_within_a_document_or_equal_to_the_feed_are_not_sane():
    entries = [entry("same", "https://e.org/1"), entry("same", "https://e.org/2"), entry("own", "https://e.org/3")]
    shared = shared_guids(entries)
    assert shared == {"same"}
    assert not is_sane_guid("same", shared, set()) and is_sane_guid("own", shared, set())
    assert not is_sane_guid("https://e.org/feed", set(), {"https://e.org/feed"})
    assert not is_sane_guid("", set(), set()) and not is_sane_guid("x" * 5000, set(), set())
    idents = identify(FEED, entries, [e.link for e in entries], {FEED})
    assert [i.basis for i in idents] == [LINK, LINK, GUID]


def test_link_shared_inside_a_document_is_no_identity():
    """19 podcast episodes linking to the show's page: the link identifies none of them."""
    entries = [entry("", "https://e.org/show", title=f"Episode {i}") for i in range(19)]
    idents = identify(FEED, entries, [e.link for e in entries], {FEED})
    assert all(i.basis == CONTENT and i.identity_link == "" for i in idents)
    assert len({i.item_id for i in idents}) == 19


def test_legacy_ids_are_the_old_scheme_and_never_ambiguous():
    entries = [entry("g1", "https://e.org/1"), entry("", "https://e.org/2"), entry("", "", title="Only title"),
               entry("", "", title="", date="", summary="a"), entry("", "", title="", date="", summary="b")]
    idents = identify(FEED, entries, [e.link for e in entries], {FEED})
    assert [i.legacy_ids for i in idents] == [
        ("g1",), ("https://e.org/2",), (legacy_hash_id("Only title", entries[2].published_raw),), (), ()]
    # two entries whose old ids were equal: that old id tells neither apart
    twins = [entry("", "", title="Same", summary="a"), entry("", "", title="Same", summary="b")]
    assert [i.legacy_ids for i in identify(FEED, twins, ["", ""], {FEED})] == [(), ()]


def _select(store, entries, now=1000.0):
    spec = FeedSpec(url=FEED)
    parsed = ParsedFeed(entries=entries)
    return select_new_entries(parsed, spec, store.get(FEED), store, FEED, now)


def test_items_seen_under_their_old_id_stay_seen_after_the_upgrade():
    entries = [entry("g1", "https://e.org/1"), entry("", "https://e.org/2"), entry("", "", title="Only title"),
               entry("g4", "https://e.org/4")]
    with StateStore(":memory:") as store:
        # what the old poller stored: raw GUID, link, h: hash; g4 was never produced
        store.mark_produced(FEED, [("g1", "https://e.org/1"), ("https://e.org/2", "https://e.org/2"),
                                   (legacy_hash_id("Only title", entries[2].published_raw), "")], 10.0)
        fresh = _select(store, entries)
        assert [n.entry.guid for n in fresh] == ["g4"]
        assert fresh[0].item_id == item_id(FEED, GUID, "g4")
        # the current ids were recorded as seen too, so the old ones can age out
        new_ids = [i.item_id for i in identify(FEED, entries, [e.link for e in entries], {FEED})]
        assert store.seen_ids(FEED, new_ids[:3]) == set(new_ids[:3])


def test_known_link_keeps_an_entry_seen_when_its_guid_changes():
    with StateStore(":memory:") as store:
        first = _select(store, [entry("guid-1", "https://e.org/1")])
        store.mark_produced(FEED, [(n.item_id, n.remembered_link) for n in first], 10.0)
        assert _select(store, [entry("random-guid-2", "https://e.org/1")]) == []


def test_entries_a_document_repeats_are_all_handed_on():
    """The run audits the repeats as duplicates of the first; the poller does not hide them."""
    twice = [entry("", "https://e.org/ep", title="Ep 1"), entry("", "https://e.org/ep", title="Ep 1")]
    with StateStore(":memory:") as store:
        fresh = _select(store, twice)
        assert len(fresh) == 2 and fresh[0].item_id == fresh[1].item_id
        store.mark_produced(FEED, [(n.item_id, n.remembered_link) for n in fresh], 10.0)
        assert _select(store, twice) == []
