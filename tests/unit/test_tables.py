"""The Parquet schemas, their documentation and the row conversion."""
from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import parquet_sink, run_ledger, tables
from connectors.s3 import S3Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def _documented_columns(table: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)


def _documented_types(table: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `[a-z_]+` \| ([a-z0-9<>]+) \|", section, flags=re.M)


@pytest.mark.parametrize("table", sorted(tables.SCHEMAS))
def test_every_column_is_documented_in_order_with_its_type(table):
    assert _documented_columns(table) == tables.SCHEMAS[table].names
    assert _documented_types(table) == [tables.type_name(f.type) for f in tables.SCHEMAS[table]]


def test_athena_ddl_in_the_docs_is_generated_from_the_schemas():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_athena_ddl", DOC.parent / "gen_athena_ddl.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = DOC.read_text(encoding="utf-8")
    assert gen.replace_in(text, gen.generate()) == text, \
        "docs/schema.md is out of date: run `python docs/gen_athena_ddl.py --write`"
    for table in tables.SCHEMAS:  # all four tables, every column
        ddl = tables.athena_ddl(table)
        assert f"CREATE EXTERNAL TABLE newsbeam.{table} (" in text
        assert all(f"`{name}`" in ddl for name in tables.SCHEMAS[table].names)
    assert "`start_char` int" in tables.athena_ddl("quotes") and "`payload` binary" in tables.athena_ddl("rejects")
    # no column is a reserved word of Athena's DDL (Hive) or queries (Trino): every query would have to quote it
    assert not {n for schema in tables.SCHEMAS.values() for n in schema.names} & ATHENA_RESERVED


# Athena's reserved keywords (DDL and SELECT), from its documentation ("Reserved keywords").
ATHENA_RESERVED = set("""
all alter and array as authorization between bigint binary boolean both by case cache cast char column conf
constraint commit create cross cube current current_date current_path current_role current_time
current_timestamp current_user cursor database date dayofweek deallocate decimal delete describe distinct
double drop else end escape exchange except execute exists extended external extract false fetch float
floor following for foreign from full function grant group grouping having if import in inner insert int
integer intersect interval into is join lateral left less like listagg local localtime localtimestamp macro
map more natural none normalize not null numeric of on only or order out outer over partialscan partition
percent preceding precision prepare preserve primary procedure range reads recursive reduce references
regexp revoke right rlike rollback rollup row rows select set skip smallint start table tablesample then
time timestamp to transform trigger trim true truncate uescape unbounded union uniquejoin unnest update
user using utc_timestamp values varchar views when where window with
""".split())


def test_to_arrow_sorts_rows_and_parses_timestamps():
    rows = [{"item_id": "b", "published": "2025-01-28T10:00:00Z", "fetched_at": "2025-01-28T11:00:00+01:00"},
            {"item_id": "a", "published": None, "fetched_at": "2025-01-28T09:00:00Z"}]
    t = tables.to_arrow("articles", rows)
    assert t.schema == tables.ARTICLES
    assert t.column("item_id").to_pylist() == ["a", "b"]
    assert t.column("fetched_at")[1].as_py().isoformat() == "2025-01-28T10:00:00+00:00"
    assert t.column("published")[0].as_py() is None


def test_to_arrow_rejects_wrong_types():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        tables.to_arrow("quotes", [{"item_id": "a", "quote_index": "not a number"}])


def test_partition_is_fetch_date_in_utc():
    assert tables.partition_date({"fetched_at": "2025-01-28T23:30:00-02:00"}) == "2025-01-29"


def test_file_keys_are_deterministic_and_parse_back():
    s = S3Settings("b", "pre/fix", None, "us-east-1", None, None, 1, 1, 1)
    key = run_ledger.file_key(s, "quotes", "2025-01-28", "0123456789abcdef", 3)
    assert key == "pre/fix/quotes/dt=2025-01-28/part-0123456789abcdef-00003.parquet"
    assert run_ledger.parse_file_key(key) == run_ledger.DataFile(key, "quotes", "2025-01-28",
                                                                 "0123456789abcdef", 3)
    assert run_ledger.parse_file_key("pre/fix/quotes/dt=2025-01-28/other.parquet") is None


def test_shards_spread_rejects_by_offset_and_articles_by_item():
    keys = {tables.shard_of(tables.shard_key("rejects", {"kafka_partition": 0, "kafka_offset": i}), 8)
            for i in range(100)}
    assert len(keys) == 8
    row = {"item_id": "x", "kafka_partition": 0, "kafka_offset": 1}
    assert tables.shard_key("articles", row) == tables.shard_key("quotes", row) == "x"


def test_each_table_gets_files_for_its_own_rows():
    shards = tables.shards_for(records=2225, rows_per_file=5000)
    # ~16 entity rows and ~6 quotes per article: files stay near 5000 rows, not one 35k-row file
    assert shards == {"articles": 1, "rejects": 1, "duplicates": 1, "quotes": 4, "entities": 8}
    assert tables.shards_for(records=0, rows_per_file=5000)["entities"] == 1


def test_arrow_sort_matches_row_sort_with_missing_values_first():
    rows = [{"item_id": "b", "canonical": "Zoë", "label": "PERSON"},
            {"item_id": "a", "canonical": None, "label": "ORG"},
            {"item_id": "b", "canonical": "Ann", "label": None},
            {"item_id": "b", "canonical": "Ann", "label": "GPE"},
            {"item_id": "a", "canonical": "Émile", "label": "PERSON"}]
    got = tables.sort_rows("entities", tables.rows_to_arrow("entities", rows))
    expected = sorted(rows, key=lambda r: [(v is not None, v or "") for v in
                                           (r["item_id"], r["canonical"], r["label"])])
    assert got.select(["item_id", "canonical", "label"]).to_pylist() == expected


def test_rows_become_arrow_chunks_per_file_and_regroup_to_the_same_file():
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    rows = [("entities", {"item_id": f"i{n % 40}", "canonical": f"e{n}", "label": "ORG",
                          "fetched_at": "2025-01-28T10:00:00Z"}) for n in range(230)]
    rows += [("articles", {"item_id": "i1", "fetched_at": "2025-01-29T10:00:00Z"})]
    singles = [("entities", {"item_id": "s", "canonical": "single", "label": "ORG",
                             "fetched_at": "2025-01-28T10:00:00Z"})]
    shards = {"entities": 3}

    def written(element):  # what _WriteFileFn writes
        (table, dt, shard), values = element
        values = list(values)
        return ((table, dt, shard), sum(isinstance(v, pa.Table) for v in values),
                parquet_sink.file_table(table, values).to_pylist())

    expected = {}
    for table, row in rows + singles:
        expected.setdefault(parquet_sink.file_of(table, row, shards), []).append(row)
    expected = [(key, tables.to_arrow(key[0], rs).to_pylist()) for key, rs in expected.items()]
    with TestPipeline() as p:
        # two "NLP batches" of rows (lists) and one row on its own
        batches = p | beam.Create([rows[:120], rows[120:]]) | "Batches" >> beam.ParDo(
            parquet_sink._ToFilesFn(shards, chunk_rows=20))
        single = p | "Single" >> beam.Create(singles) | "One" >> beam.ParDo(parquet_sink._ToFilesFn(shards))
        files = ((batches, single) | beam.Flatten()
                 | beam.GroupByKey()
                 | beam.Map(written))
        assert_that(files | "Rows" >> beam.Map(lambda f: (f[0], f[2])), equal_to(expected))
        # 230 entity rows over 3 files with chunks of at most 20 rows: several chunks per file
        assert_that(files | "Chunks" >> beam.Map(lambda f: f[0][0] != "entities" or f[1] >= 3),
                    equal_to([True] * len(expected)), label="chunked")
