import pytest
from pydantic import ValidationError

from connectors.feeds.opml import merge_specs, parse_opml
from connectors.feeds.spec import FeedSpec, dump_feed_list, load_feed_list, parse_feed_list

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subs</title></head><body>
  <outline text="News">
    <outline text="BBC World" type="rss" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml" category="uk,/world"/>
    <outline title="NPR" type="rss" xmlUrl="https://feeds.npr.org/1001/rss.xml"/>
  </outline>
  <outline text="Dup" type="rss" xmlUrl="https://feeds.npr.org/1001/rss.xml"/>
  <outline text="No feed url" htmlUrl="https://example.org/"/>
  <outline text="ftp" xmlUrl="ftp://example.org/feed"/>
</body></opml>"""


def test_yaml_feed_list_with_options_and_defaults(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/rss\n    name: A\n    interval: 600\n"
                    "    tags: [x, y]\n    full_text: true\n  - https://b.example/atom\n"
                    "  - url: https://c.example/f\n    enabled: false\n  - url: https://a.example/rss\n")
    specs = load_feed_list(path)
    assert [s.url for s in specs] == ["https://a.example/rss", "https://b.example/atom", "https://c.example/f"]
    assert specs[0] == FeedSpec(url="https://a.example/rss", name="A", interval=600, tags=("x", "y"), full_text=True)
    assert specs[1].interval is None and specs[1].enabled and not specs[2].enabled
    dump_feed_list(specs, tmp_path / "out.yaml")
    assert load_feed_list(tmp_path / "out.yaml") == specs


@pytest.mark.parametrize("document", [
    {"feeds": [{"url": "ftp://x/feed"}]}, {"feeds": [{"url": "https://x/", "intervall": 5}]},
    {"feeds": [{"url": "https://x/", "interval": 0}]}, {"feeds": "https://x/"},
])
def test_bad_feed_lists_are_rejected(document):
    with pytest.raises((ValidationError, ValueError)):
        parse_feed_list(document)


def test_opml_import_with_folders_as_tags_and_merge():
    specs = parse_opml(OPML)
    assert [s.url for s in specs] == ["https://feeds.bbci.co.uk/news/world/rss.xml", "https://feeds.npr.org/1001/rss.xml"]
    assert specs[0].name == "BBC World" and specs[0].tags == ("News", "uk", "world")
    assert specs[1].name == "NPR" and specs[1].tags == ("News",)
    merged, added = merge_specs([FeedSpec(url="https://feeds.npr.org/1001/rss.xml")], specs)
    assert added == 1 and len(merged) == 2


def test_opml_rejects_other_documents_and_entity_bombs_stay_small():
    with pytest.raises(ValueError):
        parse_opml(b"<rss><channel/></rss>")
    bomb = (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            b'<opml><body><outline text="x" xmlUrl="https://e.org/f"/></body></opml>')
    assert [s.url for s in parse_opml(bomb)] == ["https://e.org/f"]
