"""Iceberg tables over the run's Parquet files, on the real local SeaweedFS S3 and Kafka with the
SQLite catalog: what DuckDB reads through Iceberg is exactly what the manifests list; a crash
between the Iceberg commit and the offset commit adds nothing twice; a crashed run is never
visible; compaction keeps every row; an added column keeps old files readable."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors import duckdb_s3, iceberg_register, run_ledger, s3, tables
from connectors.iceberg_catalog import Catalog
from connectors.iceberg_compact import compact, live_files
from connectors.kafka_source import KafkaSettings, reset_offsets
from pipeline.iceberg import metadata_locations
from pipeline.run import execute
from stackutil import committed_offsets, feed_item, produce

STORY = ("Iran's President Masoud Pezeshkian said on Tuesday that talks would continue.\n\n"
         "\"We will not give up on diplomacy,\" he added, speaking to reporters in Tehran.\n\n"
         "The foreign ministry said the next round would take place in Oman next month, "
         "according to officials familiar with the plans. ")
OTHER = ("The central bank held interest rates at four percent on Thursday, citing slowing "
         "inflation and a weaker labour market in the second quarter of the year. ")


def _with_catalog(config, tmp_path, nlp: bool = False):
    return config.model_copy(update={
        "iceberg": config.iceberg.model_copy(update={"catalog": "sql",
                                                     "sqlite_path": str(tmp_path / "iceberg.sqlite3")}),
        "pipeline": config.pipeline.model_copy(update={"nlp_enabled": nlp})})


@pytest.fixture
def cfg(stack_config, tmp_path):
    return _with_catalog(stack_config, tmp_path)


def _article(i: int, **kw) -> dict:
    return feed_item(f"ice-{i:03d}", OTHER + f" Report {i} closes with figure {i * 37}.", **kw)


def _norm(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, list):
        return tuple(_norm(v) for v in value)
    return value


def _rows(records: list[dict], columns: list[str]) -> Counter:
    return Counter(tuple(_norm(r.get(c)) for c in columns) for r in records)


def manifest_rows(cfg, table: str) -> list[dict]:
    """Rows of the files every committed run's manifest lists (what a manifest reader sees)."""
    ss = s3.S3Settings.from_config(cfg.s3)
    fs = s3.filesystem(ss)
    rows = []
    for run_id in run_ledger.committed_runs(ss):
        for f in run_ledger.read_manifest(ss, run_id).files:
            if f.table == table:
                rows.extend(pq.read_table(f"{ss.bucket}/{f.key}", filesystem=fs).to_pylist())
    return rows


def iceberg_rows(cfg, table: str) -> list[dict]:
    """The table as DuckDB reads it through Iceberg (the view `newsbeam query` uses)."""
    ss = s3.S3Settings.from_config(cfg.s3)
    con, present = duckdb_s3.connect_with_iceberg_views(ss, metadata_locations(cfg, ss))
    if table not in present:
        return []
    return con.execute(f"SELECT * EXCLUDE (dt) FROM {table}").fetch_arrow_table().to_pylist()


def iceberg_files(cfg, table: str) -> list[str]:
    ss = s3.S3Settings.from_config(cfg.s3)
    with Catalog(cfg.iceberg, ss) as cat:
        t = cat.load(table)
        return [] if t is None else sorted(f.path for f, _ in live_files(t))


def snapshots_naming(cfg, table: str, run_id: str) -> int:
    ss = s3.S3Settings.from_config(cfg.s3)
    with Catalog(cfg.iceberg, ss) as cat:
        t = cat.load(table)
        return sum(run_id in iceberg_register.runs_of(s) for s in iceberg_register.table_summaries(t))


def assert_iceberg_equals_manifests(cfg, names=run_ledger.ALL_TABLES):
    for table in names:
        columns = tables.SCHEMAS[table].names
        expected = _rows(manifest_rows(cfg, table), columns)
        assert _rows(iceberg_rows(cfg, table), columns) == expected, table


def _env(cfg, tmp_path, **extra) -> dict:
    return {**os.environ,
            "NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS": cfg.kafka.bootstrap_servers,
            "NEWSBEAM_KAFKA__TOPIC": cfg.kafka.topic, "NEWSBEAM_KAFKA__GROUP_ID": cfg.kafka.group_id,
            "NEWSBEAM_S3__PREFIX": cfg.s3.prefix, "NEWSBEAM_S3__ENDPOINT_URL": cfg.s3.endpoint_url,
            "NEWSBEAM_PIPELINE__NLP_ENABLED": "false",
            # the lock file of the runs this test makes in process: after a killed child, the next
            # run takes the lock, knows the child ended and takes its S3 claim over at once
            "NEWSBEAM_PIPELINE__LOCK_PATH": cfg.pipeline.lock_path,
            "NEWSBEAM_ICEBERG__CATALOG": "sql",
            "NEWSBEAM_ICEBERG__SQLITE_PATH": cfg.iceberg.sqlite_path, **extra}


# ----------------------------------------------------------------------------- after a run
def test_after_a_run_iceberg_holds_exactly_the_manifest_rows(stack_config, tmp_path):
    cfg = _with_catalog(stack_config, tmp_path, nlp=True)
    first = [feed_item("ice-story", STORY), _article(1), _article(2),
             feed_item("ice-story", STORY),              # the same item again: a duplicates row
             b"\xff not json"]                           # a rejects row
    produce(cfg, first)
    summary = execute(cfg)
    assert summary.status == "written" and summary.iceberg is not None
    for t in ("articles", "quotes", "entities", "rejects", "duplicates"):
        assert summary.rows.get(t, 0) > 0, (t, summary.rows)   # every table has rows to compare
        assert summary.iceberg.get(t) == summary.rows[t]
    produce(cfg, [_article(3), _article(4)])
    execute(cfg)
    assert_iceberg_equals_manifests(cfg)

    # each table's snapshots carry the run ids and the offsets the manifests record
    ss = s3.S3Settings.from_config(cfg.s3)
    with Catalog(cfg.iceberg, ss) as cat:
        for run_id in run_ledger.committed_runs(ss):
            manifest = run_ledger.read_manifest(ss, run_id)
            for table in run_ledger.ALL_TABLES:
                summaries = [s for s in iceberg_register.table_summaries(cat.load(table))
                             if run_id in iceberg_register.runs_of(s)]
                assert len(summaries) == 1, (table, run_id)
                recorded = {r["run_id"]: r for r in json.loads(summaries[0][iceberg_register.OFFSETS])}
                assert recorded[run_id]["offsets"] == [o.model_dump() for o in manifest.offsets]

    # `newsbeam query` reads Iceberg when a catalog is configured, the files with --files
    env = _env(cfg, tmp_path)
    out = {}
    for extra in ([], ["--files"]):
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                               "query", "--format", "csv", "SELECT count(*) AS n, count(dt) AS with_dt FROM articles",
                               *extra], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        out[bool(extra)] = next(csv.reader(proc.stdout.splitlines()[1:]))
    assert out[False] == out[True] == [str(len(manifest_rows(cfg, "articles")))] * 2


# ----------------------------------------------------------------------------- crashes
def test_sigkill_between_iceberg_commit_and_offset_commit_adds_nothing_twice(cfg, tmp_path):
    produce(cfg, [_article(i) for i in range(6)] + [b"{broken"])
    # A real SIGKILL of the run process right where it would commit the offsets: the Iceberg
    # commit is done, the offsets are not.
    killer = ("import os, signal, sys\n"
              "import pipeline.run as run\n"
              "run.commit_ranges = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from pipeline.cli import main\n"
              "sys.exit(main(['--config', 'deploy/local/newsbeam.local.yaml', 'run']))\n")
    proc = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True, timeout=300,
                          env=_env(cfg, tmp_path, NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN="null"))
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    ss = s3.S3Settings.from_config(cfg.s3)
    [killed] = run_ledger.committed_runs(ss)
    assert all(v is None for v in committed_offsets(cfg).values()), "offsets must not be committed"
    assert snapshots_naming(cfg, "articles", killed) == 1
    assert len(iceberg_rows(cfg, "articles")) == 6 and len(iceberg_rows(cfg, "rejects")) == 1

    # the same offsets again: the run only registers (nothing new), alerts and commits
    again = execute(cfg)
    assert again.status == "committed earlier output" and again.run_id == killed
    assert again.iceberg == {}
    for table in run_ledger.ALL_TABLES:
        assert snapshots_naming(cfg, table, killed) == 1, table
    assert_iceberg_equals_manifests(cfg)
    assert sum(committed_offsets(cfg).values()) == 7


def test_sigkill_after_iceberg_commit_then_new_records_registers_each_row_once(cfg, tmp_path):
    produce(cfg, [_article(i) for i in range(4)])
    killer = ("import os, signal, sys\n"
              "import pipeline.run as run\n"
              "run.commit_ranges = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "from pipeline.cli import main\n"
              "sys.exit(main(['--config', 'deploy/local/newsbeam.local.yaml', 'run']))\n")
    proc = subprocess.run([sys.executable, "-c", killer], capture_output=True, text=True, timeout=300,
                          env=_env(cfg, tmp_path, NEWSBEAM_PIPELINE__MAX_RECORDS_PER_RUN="null"))
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    produce(cfg, [_article(i) for i in range(4, 7)])
    # other offsets now (more records): another run id, whose replayed records add no rows
    after = execute(cfg)
    assert after.status == "written" and after.counters.get("replayed_rows") == 4
    ids = Counter(r["item_id"] for r in iceberg_rows(cfg, "articles"))
    assert ids == Counter(f"ice-{i:03d}" for i in range(7))
    assert_iceberg_equals_manifests(cfg)


def test_files_of_a_crashed_run_are_never_visible_through_iceberg(cfg, tmp_path):
    produce(cfg, [_article(i) for i in range(3)])
    execute(cfg)
    before = Counter(r["item_id"] for r in iceberg_rows(cfg, "articles"))
    n = 40
    produce(cfg, [_article(100 + i) for i in range(n)])
    ss = s3.S3Settings.from_config(cfg.s3)
    committed = run_ledger.committed_runs(ss)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--config", "deploy/local/newsbeam.local.yaml",
                             "run"], env=_env(cfg, tmp_path, NEWSBEAM_PIPELINE__ROWS_PER_FILE="1"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(f.run not in committed for f in run_ledger.data_files(ss)):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    crashed = {f.run for f in run_ledger.data_files(ss)} - run_ledger.committed_runs(ss)
    assert crashed, "the run was killed after its first file and before its manifest"
    # its files are on S3 (a glob sees them), but not in any Iceberg table
    for table in run_ledger.ALL_TABLES:
        assert not [p for p in iceberg_files(cfg, table) if any(r in p for r in crashed)], table
    assert Counter(r["item_id"] for r in iceberg_rows(cfg, "articles")) == before

    rerun = execute(cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(update={"rows_per_file": 1})}))
    assert rerun.status == "written" and rerun.removed_orphans >= 1
    assert Counter(r["item_id"] for r in iceberg_rows(cfg, "articles")) == \
        before + Counter(f"ice-{100 + i:03d}" for i in range(n))
    assert_iceberg_equals_manifests(cfg)


def test_catalog_down_fails_the_run_after_its_manifest_and_the_next_run_registers(cfg, tmp_path):
    from connectors.errors import CatalogUnavailable
    from pipeline import status

    down = cfg.model_copy(update={"iceberg": cfg.iceberg.model_copy(update={
        "catalog": "rest", "sqlite_path": None, "uri": "http://127.0.0.1:1/api/catalog"})})
    produce(cfg, [_article(i) for i in range(3)])
    with pytest.raises(CatalogUnavailable) as err:
        execute(down)
    assert err.value.exit_code == 8 and "REST catalog http://127.0.0.1:1" in str(err.value)
    assert "offsets not committed" in str(err.value)
    ss = s3.S3Settings.from_config(cfg.s3)
    [run_id] = run_ledger.committed_runs(ss)           # the plain layout has the run
    assert all(v is None for v in committed_offsets(cfg).values())

    # the catalog back: the next run (same offsets) registers the committed run, then commits
    again = execute(cfg)
    assert again.status == "committed earlier output"
    assert again.iceberg == {"articles": 3, "quotes": 0, "entities": 0, "rejects": 0, "duplicates": 0}
    assert Counter(r["item_id"] for r in iceberg_rows(cfg, "articles")) == Counter(f"ice-{i:03d}" for i in range(3))
    assert snapshots_naming(cfg, "articles", run_id) == 1
    assert_iceberg_equals_manifests(cfg)
    assert sum(v or 0 for v in committed_offsets(cfg).values()) == 3
    report = status.collect(cfg)["iceberg"]
    assert report["ok"] and report["tables"]["articles"] == {"rows": 3, "files": 1, "snapshots": 1,
                                                             "unregistered_runs": 0}
    assert "iceberg ok   SQL catalog" in status.render(status.collect(cfg))


# ----------------------------------------------------------------------------- compaction
def test_compact_keeps_every_row_reduces_files_and_never_resurrects(cfg, tmp_path):
    old_day = (datetime.now(timezone.utc) - timedelta(days=3)).replace(hour=6, minute=0, second=0)
    fetched = old_day.strftime("%Y-%m-%dT%H:%M:%SZ")
    runs = []
    one_partition = 1
    for r in range(3):  # three runs with rows of a day three days ago: three small files per table
        produce(cfg, [_article(10 * r + i, fetched_at=fetched) for i in range(3)] + [b"broken %d" % r],
                partitions=one_partition)
        runs.append(execute(cfg))
    produce(cfg, [_article(90)], partitions=one_partition)  # today: not old enough to compact
    execute(cfg)
    ss = s3.S3Settings.from_config(cfg.s3)
    plain_files = run_ledger.data_files(ss)
    manifests = {r: run_ledger.read_manifest(ss, r).model_dump() for r in run_ledger.committed_runs(ss)}
    rows_before = {t: _rows(iceberg_rows(cfg, t), tables.SCHEMAS[t].names) for t in run_ledger.ALL_TABLES}
    files_before = {t: iceberg_files(cfg, t) for t in ("articles", "rejects")}
    assert len(files_before["articles"]) == 4

    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        results = {r.table: r for r in compact(cat, ss, run_ledger.ALL_TABLES, timedelta(days=1),
                                               retention=timedelta(0))}
        ops = [s.summary.operation.value for s in cat.load("articles").snapshots()]
    assert results["articles"].files_before == 4 and results["articles"].files_after == 2
    assert results["articles"].rows == 9 and results["articles"].rewritten == 3
    assert ops[-1] == "replace" and results["articles"].expired_snapshots >= 1
    for t in run_ledger.ALL_TABLES:
        assert _rows(iceberg_rows(cfg, t), tables.SCHEMAS[t].names) == rows_before[t], t
    files_after = iceberg_files(cfg, "articles")
    compacted = [p for p in files_after if "/_iceberg/" in p]
    assert len(compacted) == 1 and f"fetched_at_day={old_day:%Y-%m-%d}" in compacted[0]
    # the plain layout and its manifests are untouched, so manifest readers see the same rows
    assert run_ledger.data_files(ss) == plain_files
    assert {r: run_ledger.read_manifest(ss, r).model_dump() for r in run_ledger.committed_runs(ss)} == manifests

    # the first run again, same offsets (its snapshot expired, its files compacted): nothing added
    reset_offsets(KafkaSettings.from_config(cfg.kafka), {0: 0})
    again = execute(cfg.model_copy(update={"pipeline": cfg.pipeline.model_copy(
        update={"max_records_per_run": runs[0].records})}))
    assert again.status == "committed earlier output" and again.run_id == runs[0].run_id
    assert again.iceberg == {}
    for t in run_ledger.ALL_TABLES:
        assert _rows(iceberg_rows(cfg, t), tables.SCHEMAS[t].names) == rows_before[t], t

    # a second compaction finds nothing left to rewrite
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        second = {r.table: r for r in compact(cat, ss, ("articles",), timedelta(days=1), retention=timedelta(0))}
    assert second["articles"].rewritten == 0 and iceberg_files(cfg, "articles") == files_after

    # late rows for the compacted day: compacted again; the first compacted file, referenced by
    # no retained snapshot any more, is deleted; no plain file ever is
    produce(cfg, [_article(50, fetched_at=fetched)], partitions=one_partition)
    execute(cfg)
    rows_before = {t: _rows(iceberg_rows(cfg, t), tables.SCHEMAS[t].names) for t in run_ledger.ALL_TABLES}
    plain_files = run_ledger.data_files(ss)
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        third = {r.table: r for r in compact(cat, ss, ("articles",), timedelta(days=1), retention=timedelta(0),
                                             grace=timedelta(0))}
    assert third["articles"].rewritten == 2 and third["articles"].deleted_objects >= 1
    assert _rows(iceberg_rows(cfg, "articles"), tables.SCHEMAS["articles"].names) == rows_before["articles"]
    assert compacted[0] not in iceberg_files(cfg, "articles")
    assert not s3.list_keys(ss, compacted[0].split(f"s3://{ss.bucket}/", 1)[1])
    assert run_ledger.data_files(ss) == plain_files


# ----------------------------------------------------------------------------- schema evolution
def test_added_column_keeps_old_files_readable(cfg, tmp_path):
    ss = s3.S3Settings.from_config(cfg.s3)
    fs = s3.filesystem(ss)
    added = ["language_source", "nlp_skipped", "nlp_skip_reason", "minhash"]  # added in an earlier release
    old_schema = pa.schema([f for f in tables.ARTICLES if f.name not in added])

    def commit_run(run_id: str, schema: pa.Schema, item: str) -> str:
        row = {"item_id": item, "url": f"https://x.example/{item}", "text": "t", "run_id": run_id,
               "fetched_at": "2026-01-02T03:04:05Z", "language_source": "detected",
               "nlp_skipped": True, "nlp_skip_reason": "no model for language de", "minhash": b"\x01\x02"}
        data = tables.to_arrow("articles", [row]).select(schema.names)
        key = run_ledger.file_key(ss, "articles", "2026-01-02", run_id, 0)
        pq.write_table(data, f"{ss.bucket}/{key}", filesystem=fs, compression="zstd")
        run_ledger.write_manifest(ss, run_ledger.RunManifest(
            run_id=run_id, group_id="g", finished_at="2026-01-02T03:05:00Z",
            files=[{"table": "articles", "key": key, "rows": 1}]))
        return key

    old_key = commit_run("a" * 16, old_schema, "old-item")
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        iceberg_register.register_committed(cat, ss, ("articles",), schemas={"articles": old_schema})
        ids_before = {f.name: f.field_id for f in cat.load("articles").schema().fields}
    assert set(ids_before) == set(old_schema.names)

    commit_run("b" * 16, tables.ARTICLES, "new-item")
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        iceberg_register.register_committed(cat, ss, ("articles",))
        table = cat.load("articles")
        ids_after = {f.name: f.field_id for f in table.schema().fields}
        via_pyiceberg = {r["item_id"]: r for r in table.scan().to_arrow().to_pylist()}
    # old columns keep their ids; the new ones got new ids
    assert {k: ids_after[k] for k in ids_before} == ids_before
    assert min(ids_after[c] for c in added) > max(ids_before.values())
    # the old file is still the one registered, not rewritten, and reads the new columns as null
    assert f"s3://{ss.bucket}/{old_key}" in iceberg_files(cfg, "articles")
    rows = {r["item_id"]: r for r in iceberg_rows(cfg, "articles")}
    for source in (rows, via_pyiceberg):
        assert all(source["old-item"][c] is None for c in added)
        assert source["new-item"]["nlp_skip_reason"] == "no model for language de"
        assert source["new-item"]["minhash"] == b"\x01\x02" and source["new-item"]["nlp_skipped"] is True
        assert source["old-item"]["url"] == "https://x.example/old-item"


def test_a_renamed_column_keeps_its_id_and_reads_old_and_new_files(cfg, monkeypatch):
    from connectors import iceberg_tables

    ss = s3.S3Settings.from_config(cfg.s3)
    fs = s3.filesystem(ss)
    renamed = pa.schema([pa.field("headline", f.type) if f.name == "title" else f for f in tables.ARTICLES])

    def commit_run(run_id: str, schema: pa.Schema, item: str) -> None:
        row = {"item_id": item, "title": f"title of {item}", "fetched_at": "2026-01-02T03:04:05Z", "run_id": run_id}
        data = tables.to_arrow("articles", [row]).rename_columns(schema.names)
        key = run_ledger.file_key(ss, "articles", "2026-01-02", run_id, 0)
        pq.write_table(data, f"{ss.bucket}/{key}", filesystem=fs)
        run_ledger.write_manifest(ss, run_ledger.RunManifest(
            run_id=run_id, group_id="g", finished_at="x", files=[{"table": "articles", "key": key, "rows": 1}]))

    commit_run("c" * 16, tables.ARTICLES, "before")
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        iceberg_register.register_committed(cat, ss, ("articles",))
        title_id = cat.load("articles").schema().find_field("title").field_id
    monkeypatch.setitem(iceberg_tables.RENAMED, "articles", {"headline": "title"})
    commit_run("d" * 16, renamed, "after")
    with Catalog(cfg.iceberg, ss, writer=True) as cat:
        iceberg_register.register_committed(cat, ss, ("articles",), schemas={"articles": renamed})
        schema = cat.load("articles").schema()
    assert schema.find_field("headline").field_id == title_id and "title" not in [f.name for f in schema.fields]
    rows = {r["item_id"]: r["headline"] for r in iceberg_rows(cfg, "articles")}
    assert rows == {"before": "title of before", "after": "title of after"}


# ----------------------------------------------------------------------------- catalog off
def test_without_a_catalog_nothing_iceberg_happens(stack_config, tmp_path):
    cfg = stack_config.model_copy(update={"pipeline": stack_config.pipeline.model_copy(
        update={"nlp_enabled": False})})
    assert cfg.iceberg.catalog == "none"
    produce(cfg, [_article(i) for i in range(2)])
    summary = execute(cfg)
    assert summary.status == "written" and summary.iceberg is None and "iceberg" not in summary.line()
    ss = s3.S3Settings.from_config(cfg.s3)
    assert s3.list_keys(ss, ss.key("_iceberg") + "/") == []
    assert not list(tmp_path.glob("*.sqlite3")) and not os.path.exists("newsbeam-iceberg.sqlite3")


def test_compact_waits_for_a_run_of_another_host_holding_the_groups_claim(cfg, tmp_path):
    from connectors.errors import ClaimHeld
    from connectors.run_claim import RunClaim
    from pipeline.iceberg import compact as compact_command

    produce(cfg, [_article(i) for i in range(2)])
    execute(cfg)
    ss = s3.S3Settings.from_config(cfg.s3)
    group = KafkaSettings.from_config(cfg.kafka).group_id
    # a run of another host: it holds the claim on S3 but not this host's lock file
    other = RunClaim(ss, group, lease_seconds=300)
    other.acquire()
    try:
        with pytest.raises(ClaimHeld) as held:
            compact_command(cfg, None, timedelta(days=1))
        assert held.value.exit_code == 5 and other.body.token != ""
        assert str(other.body.pid) in str(held.value)
    finally:
        other.release()
    # released: compact takes the claim, works, and releases it again for the next run
    done = compact_command(cfg, None, timedelta(days=1))
    assert {r.table for r in done} == set(run_ledger.ALL_TABLES)
    produce(cfg, [_article(5)])
    assert execute(cfg).status == "written"
