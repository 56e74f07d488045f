from connectors.feeds.state import FeedState, StateStore


def test_feed_state_round_trip_and_defaults(tmp_path):
    path = tmp_path / "deep" / "state.sqlite3"
    with StateStore(path) as store:
        fresh = store.get("https://e.org/feed")
        assert fresh == FeedState(feed_url="https://e.org/feed", current_url="https://e.org/feed")
        fresh.etag, fresh.parked, fresh.consecutive_failures = '"abc"', True, 10
        store.save(fresh)
    with StateStore(path) as store:  # persisted across reopen
        again = store.get("https://e.org/feed")
        assert again.etag == '"abc"' and again.parked is True and again.consecutive_failures == 10
        assert store.unpark("https://e.org/feed") and not store.get("https://e.org/feed").parked
        assert not store.unpark("https://nowhere.example/")


def test_seen_set_link_memory_and_horizon(tmp_path):
    with StateStore(tmp_path / "s.db") as store:
        feed = "https://e.org/feed"
        store.mark_produced(feed, [("g1", "https://e.org/1"), ("g2", ""), ("g3", "https://e.org/3")], now=100.0)
        assert store.seen_ids(feed, ["g1", "g2", "g9"]) == {"g1", "g2"}
        assert store.seen_ids("https://other.example/feed", ["g1"]) == set()
        assert store.known_link_ids(feed, ["https://e.org/1", "https://e.org/2", ""]) == {"https://e.org/1": "g1"}
        store.touch_seen(feed, ["g1"], now=500.0)  # still in the feed: kept past the horizon
        assert store.prune_seen(older_than=300.0) == 2
        assert store.seen_ids(feed, ["g1", "g2", "g3"]) == {"g1"}
        assert store.known_link_ids(feed, ["https://e.org/1", "https://e.org/3"]) == {"https://e.org/1": "g1"}


def test_many_ids_beyond_sql_variable_limit(tmp_path):
    with StateStore(tmp_path / "s.db") as store:
        ids = [f"id{n}" for n in range(2500)]
        store.mark_produced("f", [(i, "") for i in ids], now=1.0)
        assert len(store.seen_ids("f", ids + ["other"])) == 2500
