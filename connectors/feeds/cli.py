"""Argument wiring for `newsbeam poll` and `newsbeam feeds ...` (the lead's CLI calls these)."""
from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

import yaml

from connectors import console
from connectors.single_writer import SingleWriter, WriterLockHeld

from .health import DEFAULT_STALL_SECONDS, PollHealth
from .opml import merge_specs, parse_opml
from .poll_metrics import PollMetrics
from .poller import SinkError, feeds_status_rows, poll_forever, poll_once
from .settings import PollSettings
from .spec import dump_feed_list, load_feed_list
from .spec_watch import FeedListWatcher, load_error_line
from .state import StateStore


def poll_settings_from_config(config: Any, args: argparse.Namespace | None = None) -> PollSettings:
    """`config.feeds` (validated when the configuration was loaded); `--feeds`/`--state` override it."""
    settings = getattr(config, "feeds", None) or PollSettings()
    update = {}
    if args is not None and getattr(args, "feeds", None):
        update["feeds_file"] = args.feeds
    if args is not None and getattr(args, "state", None):
        update["state_path"] = args.state
    return settings.model_copy(update=update) if update else settings


def _kafka_target(config: Any, args: argparse.Namespace) -> tuple[str, str, dict]:
    kafka = getattr(config, "kafka", None)
    bootstrap = args.bootstrap_servers or getattr(kafka, "bootstrap_servers", None) or "127.0.0.1:9092"
    topic = args.topic or getattr(kafka, "topic", None) or "newsbeam.items"
    return bootstrap, topic, dict(getattr(kafka, "client_config", None) or {})


def add_poll_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", dest="forever", action="store_false",
                      help="poll the due feeds once and exit (default; for cron)")
    mode.add_argument("--forever", dest="forever", action="store_true",
                      help="keep polling, each feed when it is due")
    parser.set_defaults(forever=False)
    parser.add_argument("--feeds", metavar="FILE", help="feed list YAML (default: feeds.feeds_file)")
    parser.add_argument("--state", metavar="PATH", help="poll state SQLite file (default: feeds.state_path)")
    parser.add_argument("--topic", help="Kafka topic (default: kafka.topic)")
    parser.add_argument("--bootstrap-servers", help="Kafka host:port[,...] (default: kafka.bootstrap_servers)")
    parser.add_argument("--metrics-port", type=int, metavar="PORT",
                        help="with --forever: serve /metrics (Prometheus), /healthz (liveness) and /readyz "
                        "(readiness) on this port (0 = any free port)")
    parser.add_argument("--metrics-addr", default="127.0.0.1", metavar="ADDR",
                        help="address for --metrics-port (default 127.0.0.1; 0.0.0.0 in containers)")
    parser.add_argument("--health-stall-seconds", type=float, default=DEFAULT_STALL_SECONDS, metavar="S",
                        help="/healthz fails when no feed finished and no cycle began for this long "
                        f"(default {DEFAULT_STALL_SECONDS:.0f})")


STATE_WRITER_HINT = ("one poller per state file (Kubernetes: replicas 1, strategy Recreate; cron: do not "
                     "overlap `poll --once` with `poll --forever`)")


def run_poll(args: argparse.Namespace, config: Any) -> int:
    from connectors.errors import ConfigError, KafkaUnavailable
    from connectors.kafka_producer import ItemProducer

    settings = poll_settings_from_config(config, args)
    if getattr(args, "metrics_port", None) is not None and not args.forever:
        console.error("error: --metrics-port serves the long-running poller's probes and metrics: use it with "
                      "--forever", error=ConfigError.__name__, exit_code=ConfigError.exit_code)
        return ConfigError.exit_code
    if getattr(args, "health_stall_seconds", DEFAULT_STALL_SECONDS) <= 0:
        console.error("error: --health-stall-seconds must be > 0", error=ConfigError.__name__,
                      exit_code=ConfigError.exit_code)
        return ConfigError.exit_code
    if not Path(settings.feeds_file).is_file():
        console.error(f"error: feed list {settings.feeds_file} not found (use --feeds FILE)",
                      error=ConfigError.__name__, exit_code=ConfigError.exit_code)
        return ConfigError.exit_code
    try:
        watcher = FeedListWatcher(Path(settings.feeds_file))
    except (ValueError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        console.error(f"error: feed list {settings.feeds_file}: {load_error_line(exc)}",
                      error=ConfigError.__name__, exit_code=ConfigError.exit_code)
        return ConfigError.exit_code
    bootstrap, topic, client_config = _kafka_target(config, args)
    try:
        # The state's single writer is checked first: a second poller must not even connect.
        with _state_writer(settings.state_path), ItemProducer(bootstrap, topic, client_config) as producer, \
                StateStore(settings.state_path) as state:
            if args.forever:
                ops = PollerOps(args, watcher)
                poll_forever(watcher.specs, state, producer, settings, on_cycle=ops.report, reload=ops.reload,
                             progress=ops.health.progress, wake=watcher.changed)
            else:
                summary = poll_once(watcher.specs, state, producer, settings)
                console.info(summary.line(), cycle=summary.counts())
    except (KafkaUnavailable, WriterLockHeld) as exc:
        console.error(f"error: {exc}", error=type(exc).__name__, exit_code=exc.exit_code)
        return exc.exit_code
    except SinkError as exc:
        # the sink's own error type decides the status (Kafka unreachable: 3)
        code = getattr(exc.__cause__, "exit_code", 1)
        console.error(f"error: {exc}", error=type(exc.__cause__ or exc).__name__, exit_code=code)
        return code
    except KeyboardInterrupt:
        return 130
    return 0


def _state_writer(state_path: str):
    if str(state_path) == ":memory:":
        return contextlib.nullcontext()
    return SingleWriter(state_path, "poll state", STATE_WRITER_HINT)


class PollerOps:
    """What `poll --forever` reports: one summary line per cycle and feed list reloads on stderr;
    with --metrics-port, Prometheus counters and the /healthz and /readyz probes over HTTP."""

    def __init__(self, args: argparse.Namespace, watcher: FeedListWatcher):
        self.watcher = watcher
        self.health = PollHealth(getattr(args, "health_stall_seconds", DEFAULT_STALL_SECONDS))
        self.metrics = PollMetrics()
        self.metrics.observe_feed_list(None, len(watcher.specs))
        self.server = None
        if getattr(args, "metrics_port", None) is not None:
            from . import ops_http

            self.server, _ = ops_http.serve(args.metrics_port, args.metrics_addr, self.metrics.registry,
                                            self.health)
            host, port = args.metrics_addr, self.server.server_address[1]
            console.info(f"metrics on http://{host}:{port}/metrics, probes on /healthz and /readyz",
                         metrics_url=f"http://{host}:{port}/metrics")

    def reload(self):
        change = self.watcher.poll()
        if change is not None:
            console.info(change.line(self.watcher.path))
            self.metrics.observe_feed_list(change, len(self.watcher.specs))
        return self.watcher.specs

    def report(self, summary) -> None:
        self.health.cycle_finished()
        self.metrics.observe_cycle(summary)
        console.info(summary.line(), cycle=summary.counts())


def add_feeds_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="feeds_command", required=True)
    status = sub.add_parser("status", help="health table: last success, last error, next poll, items")
    status.add_argument("--state", metavar="PATH")
    status.add_argument("--json", action="store_true", help="one JSON object per line")
    imp = sub.add_parser("import-opml", help="add the feeds of an OPML export to the feed list")
    imp.add_argument("opml", metavar="FILE")
    imp.add_argument("--feeds", metavar="FILE", help="feed list YAML to extend (created if missing)")
    unpark = sub.add_parser("unpark", help="poll a parked or disabled feed again")
    unpark.add_argument("url")
    unpark.add_argument("--state", metavar="PATH")


def _print_table(rows: list[dict]) -> None:
    if not rows:
        console.result("no feeds polled yet")
        return
    columns = list(rows[0])
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [min(70, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v[:w].ljust(w) for v, w in zip(row, widths)) for row in cells]
    console.table(columns, [[r[c] for c in columns] for r in rows], text_lines=lines)


def run_feeds(args: argparse.Namespace, config: Any) -> int:
    settings = poll_settings_from_config(config, args)
    if args.feeds_command == "status":
        with StateStore(settings.state_path) as state:
            rows = feeds_status_rows(state)
        if args.json:
            for row in rows:
                console.data(json.dumps(row, ensure_ascii=False, default=str))
        else:
            _print_table(rows)
        return 0
    if args.feeds_command == "import-opml":
        imported = parse_opml(Path(args.opml).read_bytes())
        target = Path(settings.feeds_file)
        existing = load_feed_list(target) if target.is_file() else []
        merged, added = merge_specs(existing, imported)
        dump_feed_list(merged, target)
        console.result(f"imported {added} new feed(s) of {len(imported)} into {target}", added=added,
                       imported=len(imported), feeds_file=str(target))
        return 0
    if args.feeds_command == "unpark":
        with StateStore(settings.state_path) as state:
            found = state.unpark(args.url)
        console.result(f"{args.url}: {'will be polled again' if found else 'not in the state store'}",
                       url=args.url, unparked=found)
        return 0 if found else 1
    raise ValueError(f"unknown feeds command {args.feeds_command!r}")
