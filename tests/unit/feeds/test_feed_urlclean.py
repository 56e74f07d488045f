import pytest

from connectors.feeds.urlclean import canonical_url, host_key, is_tracking_param


@pytest.mark.parametrize("link, base, expected", [
    ("HTTPS://News.Example.COM:443/a/b?id=3#top", None, "https://news.example.com/a/b?id=3"),
    ("http://example.com:80", None, "http://example.com/"),
    ("http://example.com:8080/x", None, "http://example.com:8080/x"),
    ("https://e.com/a?utm_source=rss&utm_medium=feed&id=7", None, "https://e.com/a?id=7"),
    ("https://e.com/a?fbclid=X&gclid=Y&mc_cid=1&mc_eid=2&igshid=3&ref_src=twsrc", None, "https://e.com/a"),
    ("https://e.com/a?UTM_Campaign=x&page=2", None, "https://e.com/a?page=2"),
    ("/story/1?utm_source=x", "https://e.com/feed.xml", "https://e.com/story/1"),
    ("story/2", "https://e.com/news/feed.xml", "https://e.com/news/story/2"),
    ("  https://e.com/a  ", None, "https://e.com/a"),
    ("https://e.com/search?q=a+b&lang=en", None, "https://e.com/search?q=a+b&lang=en"),
    ("https://e.com/p?a=%2F", None, "https://e.com/p?a=%2F"),
])
def test_canonical_url(link, base, expected):
    assert canonical_url(link, base) == expected


def test_non_http_links_are_left_alone():
    assert canonical_url("mailto:desk@example.com") == "mailto:desk@example.com"
    assert canonical_url("tag:example.com,2025:1") == "tag:example.com,2025:1"


def test_tracking_params_and_host_key():
    assert is_tracking_param("utm_content") and is_tracking_param("FBCLID")
    assert not is_tracking_param("id") and not is_tracking_param("utmost")
    assert host_key("http://127.0.0.1:8080/a") == "127.0.0.1:8080"
