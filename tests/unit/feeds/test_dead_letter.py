"""Dead-letter stubs for entries Kafka cannot take, and how a poll cycle counts them."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from connectors.feeds.item import FeedItem
from connectors.feeds.poller import CycleSummary, FeedOutcome
from connectors.kafka_producer import dead_letter_stub, too_large_reason

from test_feed_item import sample


def test_stub_keeps_identity_drops_texts_and_round_trips():
    big = replace(sample(), content_html="<p>" + "x" * 9_000_000 + "</p>", title="T" * 5000,
                  tags=[f"tag{i}" * 100 for i in range(500)])
    reason = too_large_reason(big, 9_000_100, 1_200_000, 1_048_576, RuntimeError("too big"))
    stub = dead_letter_stub(big, reason)
    assert (stub.item_id, stub.url, stub.feed_url, stub.fetched_at) == (big.item_id, big.url, big.feed_url, big.fetched_at)
    assert stub.content_html == stub.content_text == stub.summary_html == stub.summary_text == ""
    assert len(stub.to_json()) < 10_000
    assert stub.reject_reason == ("too large for Kafka: 9,000,100 bytes serialized (1,200,000 without its "
                                  "HTML), over the producer's max_request_size 1,048,576; texts dropped "
                                  "(content_html 9,000,007 chars, summary_html 8 chars, summary_text 1 chars)")
    assert FeedItem.from_json(stub.to_json()) == stub


def test_ordinary_records_carry_no_reject_reason():
    assert "reject_reason" not in sample().to_dict()
    assert FeedItem.from_dict(sample().to_dict()).reject_reason is None


def test_broker_refusal_is_named_when_the_limit_is_unknown():
    reason = too_large_reason(sample(), 2_000_000, 1_900_000, None, RuntimeError())
    assert "refused by the broker (RuntimeError)" in reason


def test_cycle_line_counts_rejected_apart_from_new():
    summary = CycleSummary(outcomes=[FeedOutcome("a", "ok", new_items=2, rejected_items=1),
                                     FeedOutcome("b", "ok", new_items=3)])
    assert summary.new_items == 5 and summary.rejected_items == 1
    assert summary.line().endswith("new items 5 · rejected items 1")


def test_poller_counts_what_the_sink_dead_lettered(tmp_path):
    from connectors.feeds.localserver import serve, static_handler
    from connectors.feeds.poller import DeadLettered, poll_once
    from connectors.feeds.settings import PollSettings
    from connectors.feeds.spec import FeedSpec
    from connectors.feeds.state import StateStore

    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
            b"<item><guid>a</guid><title>A</title><description>x</description></item>"
            b"<item><guid>b</guid><title>B</title><description>y</description></item></channel></rss>")
    settings = PollSettings(state_path=str(tmp_path / "state.sqlite3"))

    def sink(items):  # the second went out as a stub
        return [DeadLettered(items[1].item_id, "too large for Kafka")]

    with serve(static_handler({"/f.xml": feed})) as base, StateStore(settings.state_path) as state:
        summary = poll_once([FeedSpec(url=base + "/f.xml")], state, sink, settings)
        again = poll_once([FeedSpec(url=base + "/f.xml")], state, sink, settings,
                          now=datetime.now(timezone.utc) + timedelta(hours=2))
    assert (summary.new_items, summary.rejected_items, summary.unsent) == (1, 1, 0)
    assert again.new_items == 0 and again.rejected_items == 0   # both are seen
    assert "rejected" not in CycleSummary(outcomes=[FeedOutcome("a", "ok", new_items=2)]).line()


def test_poller_metrics_count_rejected_items():
    from prometheus_client import CollectorRegistry

    from connectors.feeds.poll_metrics import PollMetrics

    metrics = PollMetrics(CollectorRegistry())
    metrics.observe_cycle(CycleSummary(outcomes=[FeedOutcome("a", "ok", new_items=2, rejected_items=1)]))
    value = metrics.registry.get_sample_value("newsbeam_poll_items_rejected_total")
    assert value == 1 and metrics.registry.get_sample_value("newsbeam_poll_items_new_total") == 2
