"""A 5 MB entry is too large for Kafka: it reaches the dead-letter place (a stub record that the
run writes to `rejects` at stage `poll`, with the reason and sizes), and the poll summary counts
it as rejected, not new. Real feed server, real Kafka, real S3."""
from __future__ import annotations

from connectors.feeds.localserver import serve, static_handler
from connectors.feeds.poller import poll_once
from connectors.feeds.settings import PollSettings
from connectors.feeds.spec import FeedSpec
from connectors.feeds.state import StateStore
from connectors.kafka_producer import ItemProducer
from pipeline.run import execute
from stackutil import committed_rows, produce


def _rss(entries: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<item><title>{t}</title><link>https://big.example/{t}</link><guid>{t}</guid>"
                    f"<pubDate>Mon, 27 Jan 2025 10:00:00 GMT</pubDate><description>{d}</description></item>"
                    for t, d in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
            f"<link>https://big.example/</link>{items}</channel></rss>").encode()


def test_oversized_entry_becomes_a_poll_reject_and_is_not_counted_as_new(stack_config, tmp_path):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(update={"nlp_enabled": False})})
    produce(cfg, [])  # creates the topic
    normal = "The ferry service resumed on Monday after the storm. " * 10
    huge = ("The archive page lists every council decision since 1950. " * 90_000)[:5_000_000]
    feed = _rss([("small-one", normal), ("huge-one", huge), ("small-two", normal + " Second.")])
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"), max_body_bytes=20_000_000)
    with serve(static_handler({"/big.xml": feed})) as base, StateStore(settings.state_path) as state, \
            ItemProducer(cfg.kafka.bootstrap_servers, cfg.kafka.topic, {}) as producer:
        summary = poll_once([FeedSpec(url=base + "/big.xml")], state, producer, settings)
    assert summary.new_items == 2 and summary.rejected_items == 1
    assert summary.line().endswith("new items 2 · rejected items 1")

    run = execute(cfg)
    assert run.rows == {"articles": 2, "rejects": 1}
    (reject,) = committed_rows(cfg, "rejects")
    assert reject["stage"] == "poll" and reject["item_id"] and reject["kafka_offset"] is not None
    assert reject["error"].startswith("too large for Kafka: ") and "bytes serialized" in reject["error"]
    assert "max_request_size 1,048,576" in reject["error"] and "summary_html 5,000,006 chars" in reject["error"]
    assert len(reject["payload"]) < 10_000          # the stub, not the 5 MB entry
    assert sorted(a["title"] for a in committed_rows(cfg, "articles")) == ["small-one", "small-two"]
