"""Feeds built to reproduce every way real feeds lost entries, polled from 127.0.0.1 into the real
Kafka broker and run into the real S3: every entry feedparser finds ends as an `articles` row, a
`rejects` row or a `duplicates` row naming what it duplicates; a second poll and run add nothing."""
from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

import feedparser
import pytest

from connectors.feeds.localserver import serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore
from connectors.kafka_producer import ItemProducer
from pipeline.run import execute
from stackutil import feed_item, produce, read_table

DATE = "Tue, 28 Jan 2025 10:00:00 GMT"
HARBOUR = ("The harbour authority said on Tuesday that the northern quay would reopen next month after "
           "repairs to the storm wall, ending a closure that has cost local fishing crews weeks of work. "
           "Officials said the contractor had finished the foundations ahead of schedule and that the "
           "remaining work on the railings and lighting would take about three weeks.")
HARBOUR_SYNDICATED = (HARBOUR.replace("Tuesday", "Wednesday").replace("weeks of work", "weeks of income")
                      + " Reporting by the regional desk.")
GERMAN = ("Der Bundeskanzler sagte am Dienstag in Berlin, die Gespräche mit den Ländern über die "
          "Finanzierung der Krankenhäuser würden in der kommenden Woche fortgesetzt. Man sei sich in "
          "vielen Punkten näher gekommen, erklärte ein Sprecher der Regierung nach dem Treffen.")
FRENCH = ("Le président a déclaré mardi à Paris que les négociations avec les syndicats sur la réforme "
          "des retraites se poursuivraient la semaine prochaine. Selon le gouvernement, les deux parties "
          "se sont rapprochées sur plusieurs points importants lors de la réunion.")


def text(topic: str) -> str:
    return (f"The council met on Monday to discuss {topic}. Members agreed to publish a report on "
            f"{topic} before the end of the month and to hear residents at an open meeting. ") * 2


def rss(items: list[dict], title: str = "Feed") -> bytes:
    out = [f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
           "<link>https://site.example/</link><description>d</description>"]
    for it in items:
        out.append("<item>")
        for tag in ("guid", "title", "link", "pubDate"):
            if it.get(tag) is not None:
                attr = " isPermaLink='false'" if tag == "guid" else ""
                out.append(f"<{tag}{attr}>{escape(it[tag])}</{tag}>")
        if it.get("description") is not None:
            out.append(f"<description>{escape(it['description'])}</description>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "".join(out).encode("utf-8")


def atom_without_links(entries: list[tuple[str, str, str]]) -> bytes:
    body = "".join(f"<entry><id>{i}</id><title>{escape(t)}</title><updated>2025-01-28T10:00:00Z</updated>"
                   f"<content type='text'>{escape(c)}</content></entry>" for i, t, c in entries)
    return ("<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            "<title>Planet</title><id>urn:planet</id><updated>2025-01-28T10:00:00Z</updated>"
            f"{body}</feed>").encode("utf-8")


FEEDS = {
    # RSS 2.0 allows items without <link>, <title>, <guid> or date.
    "/outlet-a.xml": rss([
        {"guid": "12345", "title": "Harbour to reopen", "link": "https://a.example/news/1", "pubDate": DATE,
         "description": HARBOUR},
        {"guid": "a-no-link", "title": "No link here", "pubDate": DATE, "description": text("parking")},
        {"guid": "a-no-title", "link": "https://a.example/news/3", "pubDate": DATE, "description": text("libraries")},
        {"title": "No guid, link or date", "description": text("street lights")},
        {"description": text("bus lanes")},        # nothing but a description
        {"description": text("school meals")},     # another one: never the same id
        {"guid": "repeated", "title": "Listed twice", "link": "https://a.example/news/7", "pubDate": DATE,
         "description": text("the budget")},
        {"guid": "repeated", "title": "Listed twice", "link": "https://a.example/news/7", "pubDate": DATE,
         "description": text("the budget")},
        {"guid": "de-1", "title": "Gespräche", "link": "https://a.example/de/1", "pubDate": DATE, "description": GERMAN},
        {"guid": "fr-1", "title": "Négociations", "link": "https://a.example/fr/1", "pubDate": DATE, "description": FRENCH},
    ], "Outlet A"),
    # Another CMS numbering its posts the same way: GUID 12345 again, another article.
    "/outlet-b.xml": rss([{"guid": "12345", "title": "Bridge closes", "link": "https://b.example/p?id=12345",
                           "pubDate": DATE, "description": text("the bridge")}], "Outlet B"),
    # Atom entries without any link (Planet GNOME style).
    "/planet.atom": atom_without_links([("tag:planet,2025:1", "First post", text("gardens")),
                                        ("tag:planet,2025:2", "Second post", text("allotments"))]),
    # A live blog: distinct GUIDs, titles and texts, but only two distinct links.
    "/live.xml": rss([{"guid": f"live-{n}", "title": f"Update {n}", "pubDate": DATE,
                       "link": f"https://live.example/blog{n % 2}", "description": text(f"update number {n}")}
                      for n in range(6)], "Live"),
}
LATER = {"/wire.xml": rss([{"guid": "w-1", "title": "Harbour to reopen (wire)", "link": "https://wire.example/1",
                            "pubDate": DATE, "description": HARBOUR_SYNDICATED}], "Wire")}


def found_by_feedparser(body: bytes) -> int:
    return len(feedparser.parse(body).entries)


def accounted(cfg) -> Counter:
    """Per feed: articles rows + rejects rows + duplicates rows."""
    import json

    out: Counter = Counter()
    for row in read_table(cfg, "articles") + read_table(cfg, "duplicates"):
        out[row["feed_url"]] += 1
    for row in read_table(cfg, "rejects"):
        out[json.loads(row["payload"])["feed_url"]] += 1
    return out


@pytest.fixture
def cfg(stack_config):
    return stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"max_records_per_run": None})})


def _poll(cfg, base, paths, settings, state, now=None):
    with ItemProducer(cfg.kafka.bootstrap_servers, cfg.kafka.topic, {}) as producer:
        return poll_once([FeedSpec(url=base + p) for p in paths], state, producer, settings, now=now)


def test_every_entry_is_a_row_or_an_audited_duplicate_and_a_rerun_adds_nothing(cfg, tmp_path):
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"))
    files = {**FEEDS, **LATER}
    with serve(static_handler(files)) as base, StateStore(settings.state_path) as state:
        first = _poll(cfg, base, FEEDS, settings, state)
        run1 = execute(cfg)
        articles = {(r["feed_url"][len(base):], r["title"]): r for r in read_table(cfg, "articles")}
        story_head = articles[("/outlet-a.xml", "Harbour to reopen")]

        later = _poll(cfg, base, LATER, settings, state, now=datetime.now(timezone.utc) + timedelta(minutes=15))
        run2 = execute(cfg)
        again = _poll(cfg, base, files, settings, state, now=datetime.now(timezone.utc) + timedelta(days=1))
        run3 = execute(cfg)

    assert first.count("ok") == len(FEEDS) and later.new_items == 1
    # every entry feedparser finds is accounted for, feed by feed
    expected = {base + path: found_by_feedparser(body) for path, body in files.items()}
    assert accounted(cfg) == Counter(expected)
    assert sum(expected.values()) == 20

    rows = read_table(cfg, "articles")
    by_title = {r["title"]: r for r in rows}
    # entries without link / title / guid / date are rows
    assert by_title["No link here"]["url"] == ""
    assert any(r["url"] == "https://a.example/news/3" and r["title"] == "" for r in rows)
    assert "No guid, link or date" in by_title
    bare = [r for r in rows if r["feed_url"] == base + "/outlet-a.xml" and r["title"] == "" and r["url"] == ""]
    assert len(bare) == 2 and len({r["item_id"] for r in bare}) == 2
    assert {r["title"] for r in rows if r["feed_url"] == base + "/planet.atom"} == {"First post", "Second post"}
    # two feeds with GUID 12345: two rows, two ids
    twelve = [r for r in rows if r["title"] in ("Harbour to reopen", "Bridge closes")]
    assert len(twelve) == 2 and len({r["item_id"] for r in twelve}) == 2
    # the live blog: six distinct entries on two URLs are six rows
    assert sorted(r["title"] for r in rows if r["feed_url"] == base + "/live.xml") == [f"Update {n}" for n in range(6)]
    # the entry the feed lists twice: one row, one audited duplicate naming it
    [dup] = read_table(cfg, "duplicates")
    assert dup["duplicate_of"] == by_title["Listed twice"]["item_id"] == dup["item_id"]
    assert dup["reason"] == "item_id seen in run" and dup["kafka_offset"] is not None
    # German and French articles are kept, NLP skipped with the reason
    assert (by_title["Gespräche"]["language"], by_title["Gespräche"]["nlp_skipped"]) == ("de", True)
    assert by_title["Gespräche"]["nlp_skip_reason"] == "no model for language de"
    assert (by_title["Négociations"]["language"], by_title["Négociations"]["nlp_skip_reason"]) == (
        "fr", "no model for language fr")
    assert by_title["Harbour to reopen"]["language"] == "en" and by_title["Harbour to reopen"]["nlp_skipped"] is False
    assert by_title["Harbour to reopen"]["language_source"] == "detected"
    # the syndicated copy polled 15 minutes later, in the next run, joins the first run's story
    wire = by_title["Harbour to reopen (wire)"]
    assert run1.run_id != run2.run_id
    assert wire["story_id"] == story_head["item_id"] and wire["dup_kind"] == "near"
    # the second poll of every file produced nothing, and the last run had nothing to do
    assert again.new_items == 0 and run3.status == "nothing to do"
    assert not read_table(cfg, "rejects")


def _old_hash(title: str, date: str) -> str:
    """The id the poller gave an entry without GUID or link before feed-scoped ids."""
    return "h:" + hashlib.sha256(f"{title}\x1f{date}".encode()).hexdigest()[:32]


def test_upgrade_from_old_ids_adds_no_rows(cfg, tmp_path):
    """A deployment's poll state and S3 history hold the old ids (raw GUID, link, h: hash): the
    same feed polled by the new code produces nothing again; a genuinely new entry still comes."""
    entries = [{"guid": "9001", "title": "Old guid item", "link": "https://u.example/1", "pubDate": DATE,
                "description": text("rents")},
               {"title": "Old link item", "link": "https://u.example/2", "pubDate": DATE, "description": text("taxes")},
               {"title": "Old hash item", "pubDate": DATE, "description": text("ferries")}]
    old_ids = ["9001", "https://u.example/2", _old_hash("Old hash item", DATE)]
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"))
    with serve(static_handler({"/u.xml": rss(entries), "/u2.xml": rss(entries + [
            {"guid": "9004", "title": "Brand new", "link": "https://u.example/4", "pubDate": DATE,
             "description": text("trams")}])})) as base, StateStore(settings.state_path) as state:
        feed = base + "/u.xml"
        # what the old release left: seen ids in the poll state, rows in S3 under the same ids
        state.mark_produced(feed, [(i, e.get("link", "")) for i, e in zip(old_ids, entries)],
                            datetime.now(timezone.utc).timestamp())
        produce(cfg, [feed_item(i, e["description"], url=e.get("link", ""), title=e["title"], feed=feed)
                      for i, e in zip(old_ids, entries)])
        assert execute(cfg).rows["articles"] == 3

        upgraded = _poll(cfg, base, ["/u.xml"], settings, state)
        assert upgraded.count("ok") == 1 and upgraded.new_items == 0
        assert execute(cfg).status == "nothing to do"
        assert sorted(r["item_id"] for r in read_table(cfg, "articles")) == sorted(old_ids)

        # the feed gains an entry (served under a new path standing for the changed file)
        state.mark_produced(base + "/u2.xml", [(i, e.get("link", "")) for i, e in zip(old_ids, entries)],
                            datetime.now(timezone.utc).timestamp())
        grown = _poll(cfg, base, ["/u2.xml"], settings, state)
        assert grown.new_items == 1
        run = execute(cfg)
        assert run.rows["articles"] == 1 and "duplicates" not in run.rows
        assert {r["title"] for r in read_table(cfg, "articles")} >= {"Brand new"}
