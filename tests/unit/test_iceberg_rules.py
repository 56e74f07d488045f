"""The Iceberg rules as plain functions: configuration, which runs are still to register, what
compaction rewrites, which snapshots may expire, how the schema may change."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from connectors import iceberg_register, iceberg_tables, run_ledger, s3, tables
from connectors.errors import ConfigError, TableSchemaConflict, UsageError
from connectors.iceberg_catalog import catalog_properties, table_location
from connectors.iceberg_compact import LiveFile, expirable, plan
from connectors.iceberg_config import IcebergConfig
from pipeline.config import load_config
from pipeline.iceberg import parse_duration

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
SS = s3.S3Settings("bucket", "pre/fix", "http://127.0.0.1:8333", "eu-west-1", "key", "secret", 5, 30, 3)


# ----------------------------------------------------------------------------- configuration
def test_catalog_is_off_by_default_and_stray_keys_are_errors():
    assert load_config(None, {}).iceberg.enabled is False
    for env, needle in [
        ({"NEWSBEAM_ICEBERG__URI": "https://x"}, "iceberg.uri set, but the none catalog does not use it"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "sql", "NEWSBEAM_ICEBERG__URI": "https://x"}, "iceberg.uri set"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "rest"}, "needs iceberg.uri"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "glue", "NEWSBEAM_ICEBERG__SQLITE_PATH": "x.db"}, "iceberg.sqlite_path"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "hive"}, "iceberg.catalog"),
        ({"NEWSBEAM_ICEBERG__PROPERTIES": '{"token": "t"}'}, "iceberg.properties set"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "sql", "NEWSBEAM_ICEBERG__NAMESPACE": "news-beam"}, "iceberg.namespace"),
        ({"NEWSBEAM_ICEBERG__CATALOG": "sql", "NEWSBEAM_ICEBERG__BOGUS": "1"}, "iceberg.bogus: unknown key"),
    ]:
        with pytest.raises(ConfigError) as err:
            load_config(None, env)
        assert needle in str(err.value), (env, str(err.value))


def test_catalog_properties_follow_s3_and_let_properties_win(tmp_path):
    sql = IcebergConfig(catalog="sql", sqlite_path=str(tmp_path / "c.db"))
    props = catalog_properties(sql, SS)
    assert props["type"] == "sql" and props["uri"] == f"sqlite:///{tmp_path / 'c.db'}"
    assert props["s3.endpoint"] == "http://127.0.0.1:8333" and props["s3.access-key-id"] == "key"
    assert props["s3.region"] == "eu-west-1"
    rest = IcebergConfig(catalog="rest", uri="https://cat.example/api", properties={
        "credential": "id:secret", "warehouse": "prod", "s3.region": "us-west-2"})
    props = catalog_properties(rest, SS)
    assert props["uri"] == "https://cat.example/api" and props["credential"] == "id:secret"
    assert props["s3.region"] == "us-west-2" and props["warehouse"] == "prod"
    glue = catalog_properties(IcebergConfig(catalog="glue"), s3.S3Settings(
        "b", "p", None, "eu-central-1", None, None, 5, 30, 3))
    assert glue["glue.region"] == "eu-central-1" and "s3.endpoint" not in glue and "s3.access-key-id" not in glue
    assert table_location(IcebergConfig(catalog="glue"), SS, "quotes") == "s3://bucket/pre/fix/_iceberg/newsbeam/quotes"
    assert table_location(IcebergConfig(catalog="glue", location="s3://lake/ice/"), SS, "quotes") == \
        "s3://lake/ice/newsbeam/quotes"


def test_a_rest_credential_is_redacted_from_logs():
    from pipeline.logs import secret_values

    config = load_config(None, {"NEWSBEAM_ICEBERG__CATALOG": "rest", "NEWSBEAM_ICEBERG__URI": "https://c",
                                "NEWSBEAM_ICEBERG__PROPERTIES__CREDENTIAL": "client:topsecret"})
    assert "client:topsecret" in secret_values({}, config)


def test_durations():
    assert parse_duration("1d") == timedelta(days=1)
    assert parse_duration("12h") == timedelta(hours=12)
    assert parse_duration("30m") == timedelta(minutes=30)
    for bad in ("1", "d", "1w", "-1d", ""):
        with pytest.raises(UsageError):
            parse_duration(bad)


# ----------------------------------------------------------------------------- registration
def test_pending_runs_are_the_committed_ones_no_snapshot_names_oldest_first():
    committed = {"c": T0, "a": T0 - timedelta(hours=2), "b": T0 - timedelta(hours=1)}
    assert iceberg_register.pending_runs(committed, set(), None) == ["a", "b", "c"]
    assert iceberg_register.pending_runs(committed, {"b"}, None) == ["a", "c"]
    # runs committed before the table's registered-before cut-off were all registered then
    assert iceberg_register.pending_runs(committed, set(), T0 - timedelta(minutes=90)) == ["b", "c"]
    assert iceberg_register.pending_runs(committed, {"a", "b", "c"}, None) == []


def test_summary_names_runs_and_their_offsets():
    manifests = [run_ledger.RunManifest(run_id=r, group_id="g", finished_at="x",
                                        offsets=[{"topic": "t", "partition": 0, "start": s, "end": s + 5}])
                 for r, s in (("r1", 0), ("r2", 5))]
    props = iceberg_register.summary_properties(manifests)
    assert iceberg_register.runs_of(props) == ["r1", "r2"]
    assert json.loads(props[iceberg_register.OFFSETS])[1] == {
        "run_id": "r2", "group_id": "g", "offsets": [{"topic": "t", "partition": 0, "start": 5, "end": 10}]}
    assert iceberg_register.registered_runs([props, {}, None, {"operation": "replace"}]) == {"r1", "r2"}
    assert iceberg_register.parse_time(iceberg_register.format_time(T0)) == T0


# ----------------------------------------------------------------------------- compaction
def _file(path, day, size=1000, added=T0 - timedelta(days=5)):
    return LiveFile(path, day, 10, size, added)


def test_plan_rewrites_small_files_of_days_that_ended_long_enough_ago():
    today, yesterday, old = date(2026, 3, 10), date(2026, 3, 9), date(2026, 3, 7)
    files = [_file("o1", old), _file("o2", old), _file("o3", old, size=120 << 20),   # o3 is large
             _file("y1", yesterday), _file("y2", yesterday),
             _file("t1", today), _file("t2", today),
             _file("lone", date(2026, 3, 1)),
             _file("n1", None), _file("n2", None), _file("n3", None, added=T0 - timedelta(hours=2))]
    groups = plan(files, T0, timedelta(days=1), target_bytes=128 << 20)
    # 1d before noon on the 10th is noon on the 9th: the 9th has not ended that long ago
    assert {d: [f.path for f in fs] for d, fs in groups.items()} == {old: ["o1", "o2"], None: ["n1", "n2"]}
    groups = plan(files, T0, timedelta(hours=1), target_bytes=128 << 20)
    assert sorted(groups, key=str) == sorted([old, yesterday, None], key=str)
    assert [f.path for f in groups[None]] == ["n1", "n2", "n3"]


def test_expirable_snapshots_keep_the_current_one_and_recent_runs():
    cut = T0
    run_times = {"old": T0 - timedelta(days=9), "new": T0 + timedelta(minutes=1)}
    snaps = [(1, T0 - timedelta(days=9), ["old"]),
             (2, T0 - timedelta(days=8), ["old", "new"]),       # names a run committed after the cut
             (3, T0 - timedelta(days=8), []),                   # a compaction
             (4, T0 - timedelta(days=9), []),                   # the current one
             (5, T0 + timedelta(minutes=2), ["new"])]
    assert expirable(snaps, {4}, run_times, cut) == [1, 3]


# ----------------------------------------------------------------------------- schema
def test_field_ids_in_column_order_and_day_partition():
    schema = iceberg_tables.iceberg_schema(tables.ARTICLES)
    assert [f.name for f in schema.fields] == tables.ARTICLES.names
    assert [f.field_id for f in schema.fields] == list(range(1, len(tables.ARTICLES) + 1))
    spec = iceberg_tables.partition_spec(schema)
    [field] = spec.fields
    assert field.name == "fetched_at_day" and str(field.transform) == "day"
    assert field.source_id == schema.find_field("fetched_at").field_id
    mapped = {f.names[0]: f.field_id for f in schema.name_mapping.root}
    assert mapped == {f.name: f.field_id for f in schema.fields}


def test_schema_changes_adds_columns_and_refuses_type_changes():
    old = pa.schema([f for f in tables.ARTICLES if f.name not in ("minhash", "nlp_skipped")])
    current = iceberg_tables.iceberg_schema(old)
    assert iceberg_tables.schema_changes(current, tables.ARTICLES) == (["nlp_skipped", "minhash"], [])
    assert iceberg_tables.schema_changes(iceberg_tables.iceberg_schema(tables.ARTICLES), tables.ARTICLES) == ([], [])
    changed = pa.schema([pa.field("word_count", pa.string()) if f.name == "word_count" else f
                         for f in tables.ARTICLES])
    missing, conflicts = iceberg_tables.schema_changes(iceberg_tables.iceberg_schema(changed), tables.ARTICLES)
    assert missing == [] and conflicts == ["word_count: the table has string, newsbeam writes int"]

    class _Table:
        def schema(self):
            return iceberg_tables.iceberg_schema(changed)

    with pytest.raises(TableSchemaConflict) as err:
        iceberg_tables.sync_schema(_Table(), "newsbeam.articles", tables.ARTICLES)
    assert err.value.exit_code == 8 and "word_count" in str(err.value)


def test_compact_without_a_catalog_is_a_configuration_error(capsys, monkeypatch, tmp_path):
    from pipeline.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBEAM_CONFIG", raising=False)
    assert main(["compact"]) == 2
    assert "iceberg.catalog: `newsbeam compact` works on the Iceberg tables" in capsys.readouterr().err
    assert main(["compact", "--older-than", "soon"]) == 2
    assert "expected a duration" in capsys.readouterr().err


def test_a_renamed_column_is_neither_missing_nor_a_conflict():
    # a quotes table created before the release that renamed start/end (tables.RENAMED)
    old_names = {new: old for old, new in tables.RENAMED["quotes"].items()}
    current = iceberg_tables.iceberg_schema(
        pa.schema([pa.field(old_names.get(f.name, f.name), f.type) for f in tables.QUOTES]))
    assert iceberg_tables.schema_changes(current, tables.QUOTES) == (["start_char", "end_char"], [])
    assert iceberg_tables.RENAMED["quotes"] == {"start_char": "start", "end_char": "end"}
    assert iceberg_tables.schema_changes(current, tables.QUOTES, iceberg_tables.RENAMED["quotes"]) == ([], [])
