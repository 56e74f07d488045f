import argparse
import json

from connectors.errors import KafkaUnavailable
from connectors.feeds.cli import (add_feeds_arguments, add_poll_arguments, poll_settings_from_config,
                                  run_feeds, run_poll)
from connectors.feeds.spec import load_feed_list
from connectors.feeds.state import StateStore
from pipeline.config import Config


def parse(add, argv):
    parser = argparse.ArgumentParser()
    add(parser)
    return parser.parse_args(argv)


def test_poll_arguments_default_to_once():
    assert parse(add_poll_arguments, []).forever is False
    args = parse(add_poll_arguments, ["--forever", "--feeds", "f.yaml", "--state", "s.db", "--topic", "t",
                                      "--bootstrap-servers", "h:1"])
    assert (args.forever, args.feeds, args.state, args.topic, args.bootstrap_servers) == (True, "f.yaml", "s.db", "t", "h:1")


def test_settings_come_from_config_feeds_section_and_flags_override():
    config = Config(feeds={"state_path": "/var/lib/nb/state.db", "per_host_concurrency": 3})
    settings = poll_settings_from_config(config, parse(add_poll_arguments, ["--state", "x.db"]))
    assert settings.state_path == "x.db" and settings.per_host_concurrency == 3


def test_import_opml_then_status(tmp_path, capsys):
    opml = tmp_path / "subs.opml"
    opml.write_text('<opml version="2.0"><body><outline text="A" xmlUrl="https://a.example/rss"/>'
                    '<outline text="B" xmlUrl="https://b.example/rss"/></body></opml>')
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://a.example/rss\n")
    config = Config(feeds={"state_path": str(tmp_path / "s.db")})
    assert run_feeds(parse(add_feeds_arguments, ["import-opml", str(opml), "--feeds", str(feeds)]), config) == 0
    assert "imported 1 new feed(s) of 2" in capsys.readouterr().out
    assert [s.url for s in load_feed_list(feeds)] == ["https://a.example/rss", "https://b.example/rss"]

    with StateStore(tmp_path / "s.db") as state:
        parked = state.get("https://b.example/rss")
        parked.parked, parked.consecutive_failures, parked.last_error = True, 10, "HTTP 500"
        state.save(parked)
    assert run_feeds(parse(add_feeds_arguments, ["status", "--json"]), config) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"feed": "https://b.example/rss", "status": "parked", "last_success": None,
                     "last_error": "HTTP 500", "next_poll": None, "items": 0}]
    assert run_feeds(parse(add_feeds_arguments, ["status"]), config) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["feed", "status", "last_success", "last_error", "next_poll", "items"]
    assert run_feeds(parse(add_feeds_arguments, ["unpark", "https://b.example/rss"]), config) == 0


def test_poll_reports_unreachable_kafka_in_one_line(tmp_path, capsys):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: https://a.example/rss\n")
    config = Config(kafka={"bootstrap_servers": "127.0.0.1:1", "client_config": {"bootstrap_timeout_ms": 1000}},
                    feeds={"state_path": str(tmp_path / "s.db")})
    assert run_poll(parse(add_poll_arguments, ["--feeds", str(feeds)]), config) == KafkaUnavailable.exit_code == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Kafka broker unreachable at 127.0.0.1:1: ") and "\n" not in err


def test_poll_without_feed_list_explains(tmp_path, capsys):
    args = parse(add_poll_arguments, ["--feeds", str(tmp_path / "missing.yaml")])
    assert run_poll(args, Config()) == 2
    assert "not found" in capsys.readouterr().err
