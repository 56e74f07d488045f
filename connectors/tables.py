"""The Parquet tables newsbeam writes: the one home of their columns, types, partition and
natural keys. docs/schema.md explains every column (a test checks names, order and types
against these schemas) and its Athena DDL is generated from them (`athena_ddl`,
`python docs/gen_athena_ddl.py --write`)."""
from __future__ import annotations

import math

from datetime import datetime, timezone

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

ARTICLES = pa.schema([
    ("item_id", pa.string()),
    ("story_id", pa.string()),
    ("duplicate_of", pa.string()),
    ("dup_kind", pa.string()),
    ("url", pa.string()),
    ("title", pa.string()),
    ("summary", pa.string()),
    ("text", pa.string()),
    ("content_hash", pa.string()),
    ("word_count", pa.int32()),
    ("authors", pa.list_(pa.string())),
    ("tags", pa.list_(pa.string())),
    ("language", pa.string()),
    ("published", TS),
    ("published_missing", pa.bool_()),
    ("updated", TS),
    ("fetched_at", TS),
    ("feed_url", pa.string()),
    ("feed_title", pa.string()),
    ("quote_count", pa.int32()),
    ("leadership_count", pa.int32()),
    ("nlp_truncated", pa.bool_()),
    ("kafka_topic", pa.string()),
    ("kafka_partition", pa.int32()),
    ("kafka_offset", pa.int64()),
    ("run_id", pa.string()),
    # Added columns go last, so Athena's ALTER TABLE ... ADD COLUMNS lines up with older files.
    ("language_source", pa.string()),
    ("nlp_skipped", pa.bool_()),
    ("nlp_skip_reason", pa.string()),
    ("minhash", pa.binary()),
])

QUOTES = pa.schema([
    ("item_id", pa.string()),
    ("story_id", pa.string()),
    ("quote_index", pa.int32()),
    ("statement_id", pa.string()),
    ("start_char", pa.int32()),
    ("end_char", pa.int32()),
    ("text", pa.string()),
    ("kind", pa.string()),
    ("cue", pa.string()),
    ("speaker", pa.string()),
    ("speaker_start", pa.int32()),
    ("speaker_end", pa.int32()),
    ("speaker_name", pa.string()),
    ("speaker_role", pa.string()),
    ("speaker_country", pa.string()),
    ("speaker_kind", pa.string()),
    ("is_leadership", pa.bool_()),
    ("confidence", pa.float32()),
    ("url", pa.string()),
    ("feed_url", pa.string()),
    ("feed_title", pa.string()),
    ("published", TS),
    ("fetched_at", TS),
    ("run_id", pa.string()),
])

ENTITIES = pa.schema([
    ("item_id", pa.string()),
    ("canonical", pa.string()),
    ("name", pa.string()),
    ("label", pa.string()),
    ("count", pa.int32()),
    ("first_start", pa.int32()),
    ("first_end", pa.int32()),
    ("fetched_at", TS),
    ("run_id", pa.string()),
])

REJECTS = pa.schema([
    ("stage", pa.string()),
    ("error", pa.string()),
    ("kafka_topic", pa.string()),
    ("kafka_partition", pa.int32()),
    ("kafka_offset", pa.int64()),
    ("kafka_key", pa.string()),
    ("payload", pa.binary()),
    ("item_id", pa.string()),
    ("fetched_at", TS),
    ("run_id", pa.string()),
])

# Records dropped as duplicates, each naming the row it duplicates: nothing leaves a run unseen.
DUPLICATES = pa.schema([
    ("item_id", pa.string()),
    ("duplicate_of", pa.string()),
    ("reason", pa.string()),
    ("url", pa.string()),
    ("title", pa.string()),
    ("content_hash", pa.string()),
    ("feed_url", pa.string()),
    ("kafka_topic", pa.string()),
    ("kafka_partition", pa.int32()),
    ("kafka_offset", pa.int64()),
    ("fetched_at", TS),
    ("run_id", pa.string()),
])

SCHEMAS: dict[str, pa.Schema] = {"articles": ARTICLES, "quotes": QUOTES, "entities": ENTITIES,
                                 "rejects": REJECTS, "duplicates": DUPLICATES}

# Columns renamed by a release, old name -> new name. Parquet files are never rewritten, so files
# written before keep the old name; readers fold both into the new one (`folded_select`).
# quotes.start/end: reserved words in Trino/Athena (issue 19).
RENAMED: dict[str, dict[str, str]] = {"quotes": {"start": "start_char", "end": "end_char"}}

# Rows within a file are sorted by these, so a rerun writes byte-identical content.
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "articles": ("item_id",),
    "quotes": ("item_id", "quote_index"),
    "entities": ("item_id", "canonical", "label"),
    "rejects": ("kafka_topic", "kafka_partition", "kafka_offset", "stage"),
    "duplicates": ("kafka_topic", "kafka_partition", "kafka_offset"),
}


def parse_ts(value) -> datetime | None:
    """ISO 8601 ('Z' or offset) -> aware UTC datetime; None stays None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


class BadPartition(ValueError):
    """A row whose `fetched_at` gives no `dt=` partition (not a timestamp); the row becomes a
    reject instead of a file no reader or clean-up recognises."""


def partition_date(row: dict) -> str:
    """Hive `dt=` value, always `YYYY-MM-DD`: the UTC date the item was fetched (ingestion date;
    the decoder keeps it inside the sane window), else the run date. BadPartition when
    `fetched_at` is not a timestamp."""
    try:
        ts = parse_ts(row.get("fetched_at")) or datetime.now(timezone.utc)
    except (TypeError, ValueError):
        raise BadPartition(f"fetched_at {str(row.get('fetched_at'))[:60]!r} is not a timestamp: "
                           "the row has no dt= partition") from None
    # by hand: strftime writes year 1 as "1", a partition no reader or clean-up recognises
    return f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}"


# Rows per input record, rounded up from the BBC corpus (6.2 quotes and 16.1 entity rows per
# article, bench/RESULTS.md): a table's file count is fixed before its rows exist, and sizing
# every table by the records alone gave one 35k-row entities file, written by one worker.
ROWS_PER_RECORD = {"articles": 1, "rejects": 1, "duplicates": 1, "quotes": 7, "entities": 17}


def shards_for(records: int, rows_per_file: int) -> dict[str, int]:
    """Files per table and dt for a run of ``records``: about ``rows_per_file`` rows each."""
    return {table: max(1, math.ceil(records * per_record / rows_per_file))
            for table, per_record in ROWS_PER_RECORD.items()}


def shard_of(key: str, shards: int) -> int:
    import zlib

    return zlib.crc32(key.encode("utf-8")) % max(1, shards)


def shard_key(table: str, row: dict) -> str:
    """What spreads rows over files: the article for article-level tables, the offset for
    record-level ones (rejects, duplicates)."""
    if table in ("rejects", "duplicates"):
        return f"{row.get('kafka_partition')}:{row.get('kafka_offset')}"
    return str(row.get("item_id"))


def rows_to_arrow(table: str, rows: list[dict]) -> pa.Table:
    """Rows (dicts) -> an Arrow table of ``table``'s schema, in the rows' order."""
    schema = SCHEMAS[table]
    cols = {}
    for f in schema:
        values = [r.get(f.name) for r in rows]
        if pa.types.is_timestamp(f.type):
            values = [parse_ts(v) for v in values]
        cols[f.name] = pa.array(values, type=f.type)
    return pa.table(cols, schema=schema)


def rows_to_arrow_isolating(table: str, rows: list[dict]) -> tuple[pa.Table | None, list[tuple[dict, str]]]:
    """Like rows_to_arrow, but a row that cannot be converted does not sink the chunk: on a
    failure every row is converted alone, and the bad ones come back with the reason.
    Returns (Arrow table of the good rows or None, [(bad row, reason)])."""
    try:
        return rows_to_arrow(table, rows), []
    except Exception:  # which row: found below, one at a time
        pass
    good, bad = [], []
    for row in rows:
        try:
            rows_to_arrow(table, [row])
            good.append(row)
        except Exception as exc:
            bad.append((row, f"{type(exc).__name__}: {exc}"))
    return (rows_to_arrow(table, good) if good else None), bad


def sort_rows(table: str, data: pa.Table) -> pa.Table:
    """Rows in ``SORT_KEYS`` order, missing values first: the same rows give the same file."""
    keys = SORT_KEYS[table]
    try:
        return data.sort_by([(k, "ascending", "at_start") for k in keys])
    except (TypeError, ValueError, pa.ArrowInvalid):  # pyarrow < 20: one placement for all keys
        return data.sort_by([(k, "ascending") for k in keys], null_placement="at_start")


def to_arrow(table: str, rows: list[dict]) -> pa.Table:
    return sort_rows(table, rows_to_arrow(table, rows))


# ----------------------------------------------------------------------------- for readers
def type_name(t: pa.DataType) -> str:
    """The type as docs/schema.md writes it (`string`, `int32`, `timestamp`, `list<string>` ...)."""
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_list(t):
        return f"list<{type_name(t.value_type)}>"
    return {"bool": "bool", "float": "float32", "double": "float64"}.get(str(t), str(t))


def athena_type(t: pa.DataType) -> str:
    if pa.types.is_list(t):
        return f"array<{athena_type(t.value_type)}>"
    if pa.types.is_timestamp(t):
        return "timestamp"
    return {"string": "string", "int32": "int", "int64": "bigint", "bool": "boolean",
            "float": "float", "double": "double", "binary": "binary"}[str(t)]


def _ident(name: str) -> str:
    """A column name quoted for DuckDB and Trino/Athena SQL alike."""
    return '"' + name.replace('"', '""') + '"'


def folded_select(table: str, columns: list[str], sep: str = ", ") -> str | None:
    """A SELECT list over ``columns`` (what the files have, old and new names mixed) that shows each
    renamed column once, under its new name, from whichever name a file has; None when no old
    name is among them (nothing to fold)."""
    renamed = RENAMED.get(table, {})
    if not any(c in renamed for c in columns):
        return None
    new_of_old = {old: new for old, new in renamed.items()}
    old_of_new = {new: old for old, new in renamed.items()}
    out = []
    for c in columns:
        if c in new_of_old:
            if new_of_old[c] not in columns:  # only old files: the old name becomes the new one here
                out.append(f"{_ident(c)} AS {_ident(new_of_old[c])}")
        elif c in old_of_new and old_of_new[c] in columns:
            out.append(f"coalesce({_ident(c)}, {_ident(old_of_new[c])}) AS {_ident(c)}")
        else:
            out.append(_ident(c))
    return sep.join(out)


def athena_upgrade_sql(table: str, database: str = "newsbeam") -> str | None:
    """For an Athena table created before a rename: add the new columns (Athena reads Parquet by
    column name, so old files fill the old ones and new files the new ones), and a view that
    shows both as one. None for tables without renamed columns."""
    renamed = RENAMED.get(table)
    if not renamed:
        return None
    types = {f.name: athena_type(f.type) for f in SCHEMAS[table]}
    added = ", ".join(f"`{new}` {types[new]}" for new in renamed.values())
    columns = SCHEMAS[table].names + list(renamed) + ["dt"]
    select = folded_select(table, columns, sep=",\n       ")
    return (f"ALTER TABLE {database}.{table} ADD COLUMNS ({added});\n\n"
            f"CREATE OR REPLACE VIEW {database}.{table}_all AS\n"
            f"SELECT {select}\nFROM {database}.{table};")


def athena_ddl(table: str, location: str = "s3://newsbeam/newsbeam", database: str = "newsbeam",
               first_day: str = "2024-01-01") -> str:
    """CREATE EXTERNAL TABLE for Athena / Glue over the symlink manifests (committed files only,
    connectors/committed_files.py), partitions by projection (no crawler needed)."""
    from connectors.committed_files import SYMLINK_DIR  # here: that module imports this one

    columns = ",\n".join(f"  `{f.name}` {athena_type(f.type)}" for f in SCHEMAS[table])
    where = f"{location.rstrip('/')}/{SYMLINK_DIR}/{table}/"
    return (f"CREATE EXTERNAL TABLE {database}.{table} (\n{columns})\n"
            "PARTITIONED BY (dt string)\n"
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'\n"
            "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'\n"
            "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n"
            f"LOCATION '{where}'\n"
            "TBLPROPERTIES ('projection.enabled' = 'true', 'projection.dt.type' = 'date',\n"
            f"               'projection.dt.format' = 'yyyy-MM-dd', 'projection.dt.range' = '{first_day},NOW',\n"
            f"               'storage.location.template' = '{where}dt=${{dt}}/');")
