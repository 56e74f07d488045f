import json
from datetime import datetime, timezone

from connectors.feeds.json_parser import parse_json_feed
from connectors.feeds.normalizer import FeedContext, iso_utc, normalize_entry
from connectors.feeds.parse import parse_feed
from connectors.feeds.parsed import ParsedFeed, RawEntry
from connectors.feeds.urlclean import web_url

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Atom &amp; Co</title><id>urn:f</id><updated>2025-01-28T10:00:00Z</updated>
  <entry><title type="html">A &lt;b&gt;bold&lt;/b&gt; title</title><id>urn:e1</id>
    <link rel="alternate" href="/a/1?utm_source=x"/>
    <published>2025-01-28T11:00:00+01:00</published><updated>2025-01-29T08:00:00Z</updated>
    <author><name>Ann</name></author><author><name>Ben</name></author>
    <category term="Politik"/><summary>Short.</summary>
    <content type="html">&lt;p&gt;Full one.&lt;/p&gt;&lt;p&gt;Full two.&lt;/p&gt;</content></entry>
  <entry><title>Only updated</title><id>urn:e2</id><updated>2025-01-27T09:30:00Z</updated></entry>
</feed>"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1", "title": "JF", "language": "en",
    "home_page_url": "https://jf.example/",
    "items": [
        {"id": "1", "url": "/posts/1", "title": "One", "content_html": "<p>Hello</p><script>x()</script>",
         "summary": "Sum", "date_published": "2025-01-28T10:00:00-05:00", "tags": ["a", "a", "b"],
         "authors": [{"name": "Zed"}]},
        {"id": 2, "content_text": "Para one.\n\nPara two."},
        "not an object",
    ],
}

FETCHED = datetime(2025, 2, 1, 12, 0, tzinfo=timezone.utc)


def normalise(parsed, i, url="https://f.example/feed.xml"):
    entry = parsed.entries[i]
    return normalize_entry(entry, item_id="id", url=web_url(entry.link, url),
                           feed=FeedContext.of(parsed, url, url, FETCHED))


def test_atom_entry_normalised():
    parsed = parse_feed(ATOM, {"content-type": "application/atom+xml"}, "https://f.example/feed.xml")
    item = normalise(parsed, 0)
    assert parsed.error is None and parsed.format == "atom10"
    assert item.title == "A bold title" and item.feed_title == "Atom & Co"
    assert item.url == "https://f.example/a/1"
    assert item.published == "2025-01-28T10:00:00Z" and item.updated == "2025-01-29T08:00:00Z"
    assert not item.published_missing
    assert item.authors == ["Ann", "Ben"] and item.tags == ["Politik"] and item.language == "de"
    assert item.summary_text == "Short." and item.content_text == "Full one.\n\nFull two."


def test_entry_with_only_updated_uses_it_as_published():
    parsed = parse_feed(ATOM, {"content-type": "application/atom+xml"}, "https://f.example/feed.xml")
    item = normalise(parsed, 1)
    assert item.published == "2025-01-27T09:30:00Z" and not item.published_missing and item.url == ""


def test_missing_date_falls_back_to_fetch_time():
    parsed = ParsedFeed(title="F", entries=[RawEntry(title="undated", link="https://e.org/x")])
    item = normalise(parsed, 0)
    assert item.published == "2025-02-01T12:00:00Z" and item.published_missing and item.updated is None
    assert item.fetched_at == "2025-02-01T12:00:00Z"


def test_json_feed():
    parsed = parse_feed(json.dumps(JSON_FEED).encode(), {"content-type": "application/feed+json"},
                        "https://jf.example/feed.json")
    assert parsed.format == "json1.1" and len(parsed.entries) == 2 and parsed.title == "JF"
    first, second = normalise(parsed, 0, "https://jf.example/feed.json"), normalise(parsed, 1)
    assert first.url == "https://jf.example/posts/1" and first.published == "2025-01-28T15:00:00Z"
    assert first.tags == ["a", "b"] and first.authors == ["Zed"] and "x()" not in first.content_html
    assert first.summary_text == "Sum" and first.language == "en"
    assert parsed.entries[1].guid == "2" and second.content_text == "Para one.\n\nPara two."
    assert second.published_missing


def test_json_that_is_not_a_feed_reports_why():
    assert "not a JSON Feed" in parse_json_feed(b'{"hello": 1}', "https://e.org/").error
    assert "invalid JSON" in parse_json_feed(b"{oops", "https://e.org/").error


def test_bytes_that_look_like_a_path_are_not_opened():
    parsed = parse_feed(b"/etc/passwd", {}, "https://e.org/feed")
    assert parsed.entries == [] and "root:" not in parsed.title


def test_iso_utc_pads_small_years():
    assert iso_utc(datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "0005-01-02T03:04:05Z"


def test_relative_links_in_content_resolve_against_the_article_page():
    rss = (b'<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
           b"<channel><title>F</title><item><title>A</title><link>https://site.example/news/a.html</link>"
           b'<content:encoded><![CDATA[<p><img src="pic.jpg"><a href="/b">b</a></p>]]></content:encoded></item>'
           b"<item><title>No link</title><description>&lt;a href=\"x\"&gt;x&lt;/a&gt;</description></item>"
           b"</channel></rss>")
    parsed = parse_feed(rss, {"content-type": "application/rss+xml"}, "https://cdn.example/feeds/main.xml")
    with_link, without = normalise(parsed, 0, "https://cdn.example/feeds/main.xml"), normalise(
        parsed, 1, "https://cdn.example/feeds/main.xml")
    assert 'src="https://site.example/news/pic.jpg"' in with_link.content_html
    assert 'href="https://site.example/b"' in with_link.content_html
    assert 'href="https://cdn.example/feeds/x"' in without.summary_html


def test_json_feed_strings_with_half_a_surrogate_pair_become_text():
    """`"\\ud800"` is valid JSON but no UTF-8: one such title used to stop the sink (and with it
    the whole poll cycle, every cycle)."""
    body = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "T\\udc00", "items": ['
            b'{"id": "1", "title": "a\\ud800b", "tags": ["\\udfff"], "content_text": "x"}]}')
    parsed = parse_json_feed(body, "https://f.example/")
    item = normalise(parsed, 0)
    assert (item.title, item.tags, item.feed_title) == ("a\ufffdb", ["\ufffd"], "T\ufffd")
    assert item.to_json().encode("utf-8")
    from connectors.feeds.item import FeedItem

    assert FeedItem.from_json(item.to_json()) == item


def test_dates_outside_the_sane_window_count_as_missing_in_the_poller():
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "JF", "items": [
        {"id": "1", "content_text": "x", "date_published": "0001-01-01T00:00:00Z",
         "date_modified": "2025-01-30T00:00:00Z"},
        {"id": "2", "content_text": "x", "date_published": "9999-12-31T00:00:00Z"},
        {"id": "3", "content_text": "x", "date_published": "2025-02-02T11:59:00Z"}]}
    parsed = parse_json_feed(json.dumps(feed).encode(), "https://f.example/")
    first, second, third = (normalise(parsed, i) for i in range(3))
    assert (first.published, first.published_missing) == ("2025-01-30T00:00:00Z", False)
    assert (second.published, second.updated, second.published_missing) == (iso_utc(FETCHED), None, True)
    assert (third.published, third.published_missing) == ("2025-02-02T11:59:00Z", False)  # within a day
