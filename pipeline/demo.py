"""`newsbeam demo`: the whole path on the local stack with the bundled sample feeds.

stack up -> serve deploy/local/sample_feeds on 127.0.0.1 -> poll into Kafka -> Beam run ->
DuckDB query over the Parquet on S3. Safe to repeat: a second demo finds nothing new.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from connectors import console
from pipeline.config import Config

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "deploy" / "local" / "sample_feeds"

QUERY = """
SELECT count(*) AS article_rows,
       count(DISTINCT item_id) AS distinct_items,
       count(DISTINCT story_id) AS stories,
       sum(quote_count) AS quotes,
       sum(leadership_count) AS leadership_statements
FROM articles
"""
LEADERS_QUERY = """
SELECT speaker_name, speaker_role, speaker_country, count(*) AS quotes,
       count(DISTINCT statement_id) AS statements
FROM quotes WHERE is_leadership GROUP BY ALL ORDER BY quotes DESC LIMIT 10
"""


@contextmanager
def _serve_samples(handler, state_path: Path):
    """Serve the samples on the port the last demo with this poll state used, so the feeds keep
    their URLs - and their items their ids, which are scoped by the feed URL - and a second
    demo finds nothing new. A taken port means other feeds: their items come again as copies."""
    from connectors.feeds.localserver import serve

    port_file = state_path.with_name(state_path.name + ".demo-port")
    try:
        port = int(port_file.read_text())
    except (OSError, ValueError):
        port = 0
    try:
        server = serve(handler, port)
        base = server.__enter__()
    except OSError:
        server = serve(handler)
        base = server.__enter__()
    try:
        port_file.parent.mkdir(parents=True, exist_ok=True)
        port_file.write_text(base.rsplit(":", 1)[1])
        yield base
    finally:
        server.__exit__(None, None, None)


def poll_samples(config: Config) -> tuple[int, str]:
    """Serve the sample feeds and poll them once into Kafka; returns (feeds, summary line)."""
    from connectors.feeds.cli import poll_settings_from_config
    from connectors.feeds.localserver import directory_files, static_handler
    from connectors.feeds.poller import poll_once
    from connectors.feeds.spec import FeedSpec
    from connectors.feeds.state import StateStore
    from connectors.kafka_producer import ItemProducer

    settings = poll_settings_from_config(config).model_copy(update={"allow_private_addresses": True})
    names = sorted(p.name for p in SAMPLES.glob("*.xml"))
    with _serve_samples(static_handler(directory_files(SAMPLES)), Path(settings.state_path)) as base:
        specs = [FeedSpec(url=f"{base}/{n}", name=n) for n in names]
        with ItemProducer(config.kafka.bootstrap_servers, config.kafka.topic,
                          dict(config.kafka.client_config)) as producer, \
                StateStore(settings.state_path) as state:
            summary = poll_once(specs, state, producer, settings)
    return len(specs), summary.line()


def main(config: Config, beam_args: list[str]) -> int:
    from connectors import duckdb_s3, s3
    from connectors.errors import OperatorError
    from pipeline.run import execute

    console.result("== 1/4 local stack (Kafka 4 KRaft + SeaweedFS S3)")
    if console.relay(["bash", str(ROOT / "deploy/local/stack.sh"), "up"]) != 0:
        console.error("demo: the local stack did not start; see the messages above")
        return 1
    console.result(f"== 2/4 poll {SAMPLES.relative_to(ROOT)} served from 127.0.0.1 into Kafka topic {config.kafka.topic}")
    try:
        feeds, line = poll_samples(config)
    except Exception as exc:
        console.error(f"demo: polling failed: {exc}")
        return 1
    console.result(f"   {feeds} feeds: {line}")
    console.result("== 3/4 newsbeam run (Apache Beam)")
    try:
        summary = execute(config, beam_args)
    except OperatorError as exc:
        console.error(f"demo: {exc}", error=type(exc).__name__, exit_code=exc.exit_code)
        return 1
    console.result(f"   {summary.line()}")
    ss = s3.S3Settings.from_config(config.s3)
    console.result(f"== 4/4 DuckDB over the committed files of {duckdb_s3.table_glob(ss, 'articles')}")
    con, present = duckdb_s3.connect_with_views(ss, ["articles", "quotes"])
    if "articles" not in present:
        console.error("demo: no articles table on S3")
        return 1
    console.result(f"   Parquet tables under {ss.url(ss.prefix)}/: {', '.join(sorted(present))}")
    _print(con, QUERY)
    if "quotes" in present:
        _print(con, LEADERS_QUERY)
    return 0


def _print(con, sql: str) -> None:
    console.result("   " + " ".join(sql.split()))
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    widths = [max(len(n), *(len(str(r[i])) for r in rows)) if rows else len(n) for i, n in enumerate(names)]
    lines = ["   " + "  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines += ["   " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths)) for r in rows]
    console.table(names, rows, text_lines=lines)
