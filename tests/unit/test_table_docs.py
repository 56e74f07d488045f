"""Column descriptions have one home (connectors/table_docs.py); docs/schema.md's column tables and
the dbt sources are generated from it and the schemas; renamed columns read as one column."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from connectors import table_docs, tables

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DOC = ROOT / "docs" / "schema.md"


def _generator(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator("gen_table_docs")


@pytest.mark.parametrize("table", sorted(tables.SCHEMAS))
def test_every_column_has_one_description_in_schema_order(table):
    assert list(table_docs.COLUMNS[table]) == tables.SCHEMAS[table].names
    assert all(d.strip() and "\n" not in d for d in table_docs.COLUMNS[table].values())
    assert table_docs.TABLES[table]


def test_no_description_for_a_table_or_column_that_does_not_exist():
    assert set(table_docs.COLUMNS) == set(table_docs.TABLES) == set(tables.SCHEMAS)


def test_schema_doc_tables_are_generated():
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    assert gen.schema_doc(text) == text, "docs/schema.md is out of date: run `python docs/gen_table_docs.py --write`"
    # what a reader sees is the description, word for word
    for table in tables.SCHEMAS:
        section = text.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
        rows = dict(re.findall(r"^\| `([a-z_]+)` \| [a-z0-9<>]+ \| (.*) \|$", section, flags=re.M))
        assert rows == table_docs.COLUMNS[table]


def test_dbt_sources_are_generated_and_agree_with_the_tables():
    text = gen.DBT_SOURCES.read_text(encoding="utf-8")
    assert text == gen.dbt_sources(), "deploy/dbt/models/sources.yml is out of date: run `python docs/gen_table_docs.py --write`"
    [source] = yaml.safe_load(text)["sources"]
    assert source["name"] == "newsbeam" and "{name}" in source["meta"]["external_location"]
    assert [t["name"] for t in source["tables"]] == list(tables.SCHEMAS)
    for entry in source["tables"]:
        table = entry["name"]
        assert entry["description"] == table_docs.TABLES[table]
        columns = {c["name"]: c for c in entry["columns"]}
        assert list(columns) == tables.SCHEMAS[table].names + ["dt"]
        for f in tables.SCHEMAS[table]:
            assert columns[f.name]["description"] == table_docs.COLUMNS[table][f.name]
            assert columns[f.name]["data_type"] == tables.athena_type(f.type)
        assert columns["dt"] == {"name": "dt", "description": table_docs.PARTITION, "data_type": "string"}


def test_dbt_external_location_reads_the_tables(tmp_path):
    """dbt-duckdb formats meta.external_location with the table's name: that SQL reads our files."""
    [source] = yaml.safe_load(gen.DBT_SOURCES.read_text(encoding="utf-8"))["sources"]
    _write(tmp_path / "quotes" / "dt=2025-01-28" / "part.parquet", tables.to_arrow(
        "quotes", [{"item_id": "a", "quote_index": 0, "start_char": 3, "end_char": 9, "text": "quoted"}]))
    location = source["meta"]["external_location"].replace(gen.LOCATION, str(tmp_path)).format(name="quotes")
    assert duckdb.connect().execute(f"SELECT item_id, start_char, dt FROM {location}").fetchall() == \
        [("a", 3, __import__("datetime").date(2025, 1, 28))]


# ----------------------------------------------------------------------------- renamed columns
def test_quote_rows_have_exactly_the_table_columns():
    """A half-done rename would leave start_char empty (rows_to_arrow reads columns by name)."""
    from transforms.extract import QuoteRecord
    from transforms.rows import to_table_rows

    quote = QuoteRecord(4, 10, "quoted", "direct", "said", "she", "Ann Lee", None, None, False, "s1", 0.9, 20, 23)
    article = {"item_id": "a", "story_id": "a", "url": "u", "feed_url": "f", "feed_title": "t",
               "published": "2025-01-28T10:00:00Z", "fetched_at": "2025-01-28T10:00:00Z",
               "quotes": [quote.to_dict()], "entities": []}
    [row] = [r for t, r in to_table_rows(article, "0123456789abcdef") if t == "quotes"]
    assert set(row) == set(tables.QUOTES.names)
    assert tables.to_arrow("quotes", [row]).column("start_char").to_pylist() == [4]


def test_extract_json_carries_the_new_offsets_and_the_old_ones():
    from transforms.extract import DocumentExtraction, QuoteRecord

    quote = QuoteRecord(4, 10, "quoted", "direct", "said", "she", None, None, None, False, "s1", 0.9)
    [line] = DocumentExtraction("d", [quote]).to_json()["quotes"]
    assert (line["start_char"], line["end_char"], line["start"], line["end"]) == (4, 10, 4, 10)


@pytest.mark.parametrize("columns, expected", [
    (["item_id", "start_char", "end_char", "text", "dt"], None),
    (["item_id", "start", "end", "text", "dt"], '"item_id", "start" AS "start_char", "end" AS "end_char", "text", "dt"'),
    (["item_id", "start_char", "end_char", "text", "dt", "start", "end"],
     '"item_id", coalesce("start_char", "start") AS "start_char", coalesce("end_char", "end") AS "end_char", '
     '"text", "dt"'),
])
def test_folded_select(columns, expected):
    assert tables.folded_select("quotes", columns) == expected
    assert tables.folded_select("articles", ["item_id", "start"]) is None  # renames are per table


def _write(path: Path, data: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(data, path)


@pytest.fixture
def old_and_new_quotes(tmp_path):
    """One file as written before the rename (start, end), one after (start_char, end_char)."""
    old_schema = pa.schema([("start", pa.int32()) if f.name == "start_char" else ("end", pa.int32())
                            if f.name == "end_char" else f for f in tables.QUOTES])
    old = pa.table({"item_id": ["old"], "quote_index": pa.array([0], pa.int32()), "start": pa.array([1], pa.int32()),
                    "end": pa.array([5], pa.int32()), "text": ["past"]})
    _write(tmp_path / "quotes" / "dt=2025-01-01" / "part-old.parquet",
           pa.table({n: old[n] if n in old.column_names else pa.nulls(1, old_schema.field(n).type)
                     for n in old_schema.names}, schema=old_schema))
    _write(tmp_path / "quotes" / "dt=2025-02-01" / "part-new.parquet", tables.to_arrow(
        "quotes", [{"item_id": "new", "quote_index": 0, "start_char": 7, "end_char": 12, "text": "today"}]))
    return tmp_path / "quotes"


def test_the_documented_duckdb_view_reads_old_and_new_files(old_and_new_quotes):
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    [view] = re.findall(r"```sql\n\s*(CREATE VIEW quotes AS.*?;)\n\s*```", text, flags=re.S)
    sql = view.replace("s3://newsbeam/newsbeam/quotes", str(old_and_new_quotes))
    con = duckdb.connect()
    con.execute(sql)
    assert con.execute("SELECT item_id, start_char, end_char FROM quotes ORDER BY item_id").fetchall() == \
        [("new", 7, 12), ("old", 1, 5)]
    assert not {"start", "end"} & {r[0] for r in con.execute("DESCRIBE quotes").fetchall()}


def test_the_generated_athena_view_folds_the_same_way(old_and_new_quotes):
    """Its SELECT is plain SQL; DuckDB runs it over a table that has both columns, as the Athena
    table has after the documented ALTER TABLE ... ADD COLUMNS."""
    upgrade = tables.athena_upgrade_sql("quotes")
    assert upgrade.startswith("ALTER TABLE newsbeam.quotes ADD COLUMNS (`start_char` int, `end_char` int);")
    assert upgrade in SCHEMA_DOC.read_text(encoding="utf-8")
    select = upgrade.split(" AS\n", 1)[1].rstrip(";").replace("FROM newsbeam.quotes", "FROM q")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW q AS SELECT * FROM read_parquet('{old_and_new_quotes}/dt=*/*.parquet', "
                "hive_partitioning = true, union_by_name = true)")
    rows = con.execute(f"SELECT item_id, start_char, end_char FROM ({select}) ORDER BY item_id").fetchall()
    assert rows == [("new", 7, 12), ("old", 1, 5)]
