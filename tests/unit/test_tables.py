"""The Parquet schemas, their documentation and the row conversion."""
from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from connectors import parquet_sink, tables
from connectors.s3 import S3Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def _documented_columns(table: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M)


@pytest.mark.parametrize("table", sorted(tables.SCHEMAS))
def test_every_column_is_documented_in_order(table):
    assert _documented_columns(table) == tables.SCHEMAS[table].names


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
    key = parquet_sink.file_key(s, "quotes", "2025-01-28", "0123456789abcdef", 3)
    assert key == "pre/fix/quotes/dt=2025-01-28/part-0123456789abcdef-00003.parquet"
    assert parquet_sink.parse_file_key(key) == {"table": "quotes", "dt": "2025-01-28",
                                                "run": "0123456789abcdef", "shard": "00003"}
    assert parquet_sink.parse_file_key("pre/fix/quotes/dt=2025-01-28/other.parquet") is None


def test_shards_spread_rejects_by_offset_and_articles_by_item():
    keys = {tables.shard_of(tables.shard_key("rejects", {"kafka_partition": 0, "kafka_offset": i}), 8)
            for i in range(100)}
    assert len(keys) == 8
    row = {"item_id": "x", "kafka_partition": 0, "kafka_offset": 1}
    assert tables.shard_key("articles", row) == tables.shard_key("quotes", row) == "x"


def test_each_table_gets_files_for_its_own_rows():
    shards = tables.shards_for(records=2225, rows_per_file=5000)
    # ~16 entity rows and ~6 quotes per article: files stay near 5000 rows, not one 35k-row file
    assert shards == {"articles": 1, "rejects": 1, "quotes": 4, "entities": 8}
    assert tables.shards_for(records=0, rows_per_file=5000)["entities"] == 1
