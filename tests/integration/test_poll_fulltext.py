"""Full-text fetch for summary-only feeds, and the address guard that keeps feed links from
reaching private hosts (a local server stands in for the article site)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.feeds.localserver import Response, serve
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore

ARTICLE = ("<html><head><title>Dam inspections begin</title><script>var x = 1;</script></head><body>"
           "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>Dam inspections begin</h1>"
           + "".join(f"<p>Paragraph {n}: engineers from both countries walked the length of the northern dam "
                     f"on Tuesday and measured the flow at each of the eleven gates, the commission said.</p>"
                     for n in range(6))
           + "</article><footer>Copyright sample paper</footer></body></html>").encode()


def feed(base: str) -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Summaries only</title>'
            f"<item><title>Dam inspections begin</title><link>{base}/article</link>"
            f'<guid isPermaLink="false">dam-1</guid><description>Engineers walked the dam.</description>'
            f"</item></channel></rss>").encode()


def run(tmp_path, allow_private: bool):
    hits = []

    def handle(request):
        hits.append(request.path)
        if request.path == "/article":
            return Response(200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE)
        return Response(200, {"Content-Type": "application/rss+xml"}, feed(base))

    settings = PollSettings(state_path=str(tmp_path / "s.sqlite3"), allow_private_addresses=allow_private)
    sink = []
    with serve(handle) as base, StateStore(settings.state_path) as state:
        specs = [FeedSpec(url=base + "/feed", full_text=True)]
        poll_once(specs, state, sink.extend, settings)
        later = datetime.now(timezone.utc) + timedelta(hours=1)
        poll_once(specs, state, sink.extend, settings, now=later)
    return sink, hits


def test_full_text_fetched_for_summary_only_items_once(tmp_path):
    sink, hits = run(tmp_path, allow_private=True)
    assert len(sink) == 1
    item = sink[0]
    assert "Paragraph 3: engineers from both countries" in item.content_text
    assert "var x" not in item.content_text and "Copyright sample paper" not in item.content_text
    assert item.summary_text == "Engineers walked the dam."
    assert hits.count("/article") == 1  # the second poll finds the item seen and does not refetch


def test_full_text_refuses_private_addresses_by_default(tmp_path):
    sink, hits = run(tmp_path, allow_private=False)
    assert len(sink) == 1 and sink[0].content_html == "" and sink[0].content_text == ""
    assert "/article" not in hits
