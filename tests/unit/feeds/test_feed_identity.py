from connectors.feeds.identity import candidate_id, hash_id, is_sane_guid, shared_guids
from connectors.feeds.parsed import RawEntry
from connectors.feeds.poller import resolve_item_ids


def entry(guid="", link="", title="T", date="Mon, 27 Jan 2025 10:00:00 GMT"):
    return RawEntry(guid=guid, link=link, title=title, published_raw=date)


def test_id_preference_guid_then_link_then_hash():
    assert candidate_id(entry("g1", "https://e.org/a"), "https://e.org/a", True) == "g1"
    assert candidate_id(entry("", "https://e.org/a"), "https://e.org/a", False) == "https://e.org/a"
    no_link = candidate_id(entry("", ""), "", False)
    assert no_link == hash_id("T", "Mon, 27 Jan 2025 10:00:00 GMT") and no_link.startswith("h:")
    assert hash_id("T", "d1") != hash_id("T", "d2") and hash_id("T", "d1") == hash_id(" T ", "d1")


def test_guids_shared_within_a_document_or_equal_to_the_feed_are_not_sane():
    entries = [entry("same", "https://e.org/1"), entry("same", "https://e.org/2"), entry("own", "https://e.org/3")]
    shared = shared_guids(entries)
    assert shared == {"same"}
    assert not is_sane_guid("same", shared, set()) and is_sane_guid("own", shared, set())
    assert not is_sane_guid("https://e.org/feed", set(), {"https://e.org/feed"})
    assert not is_sane_guid("", set(), set()) and not is_sane_guid("x" * 5000, set(), set())
    ids = resolve_item_ids(entries, ["https://e.org/1", "https://e.org/2", "https://e.org/3"], {}, set())
    assert ids == ["https://e.org/1", "https://e.org/2", "own"]


def test_known_link_keeps_its_first_id_when_guid_changes():
    entries = [entry("new-random-guid", "https://e.org/1")]
    ids = resolve_item_ids(entries, ["https://e.org/1"], {"https://e.org/1": "first-guid"}, set())
    assert ids == ["first-guid"]


def test_link_shared_by_several_entries_is_not_used_as_memory():
    # a feed whose every entry links to its home page: GUIDs decide, not the remembered link
    entries = [entry("a", "https://e.org/"), entry("b", "https://e.org/")]
    ids = resolve_item_ids(entries, ["https://e.org/", "https://e.org/"], {"https://e.org/": "old"}, set())
    assert ids == ["a", "b"]
