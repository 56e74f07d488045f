"""newsbeam's tables as Iceberg tables: schema with field ids, partition spec, table properties,
and the one rule of schema change (columns are only ever added).

The columns and types are those of connectors/tables.py (their one home); this module only says
how they look in Iceberg:

- every column gets an Iceberg field id when the table is created (in column order), and the
  table's name mapping (`schema.name-mapping.default`) maps our Parquet columns, which carry no
  field ids, to those ids by name. A column added later (`sync_schema`) gets a new id; files
  written before it have no such column and read it as null, without being rewritten;
- a column a release renames (`RENAMED`) keeps its field id: the name mapping knows both names;
- the partition spec is `day(fetched_at)` (field `fetched_at_day`): the same day as the plain
  layout's `dt=`, so a registered file always lies in one partition. Rejects whose record had no
  readable `fetched_at` have a null partition (the plain layout files them under the run's date).
"""
from __future__ import annotations

import pyarrow as pa

from connectors import tables
from connectors.errors import TableSchemaConflict

PARTITION_FIELD = "fetched_at_day"
PARTITION_SOURCE = "fetched_at"

# Columns a release renamed: table -> {new name: old name}. The Iceberg column keeps its field
# id and takes the new name; the name mapping keeps both names, so files written before the
# rename (with the old name) and after it read into the same column.
RENAMED: dict[str, dict[str, str]] = {table: {new: old for old, new in renames.items()}
                                      for table, renames in tables.RENAMED.items()}


def table_properties(target_file_bytes: int) -> dict[str, str]:
    return {
        "format-version": "2",
        # compaction output, like the plain files
        "write.parquet.compression-codec": "zstd",
        "write.target-file-size-bytes": str(target_file_bytes),
        # one commit per run: merge small manifests, keep a bounded number of metadata files
        "commit.manifest-merge.enabled": "true",
        "write.metadata.delete-after-commit.enabled": "true",
        "write.metadata.previous-versions-max": "100",
    }


def iceberg_schema(arrow_schema: pa.Schema):
    """The Iceberg schema of an Arrow schema, field ids 1.. in column order (nested ids after)."""
    from pyiceberg.io.pyarrow import _pyarrow_to_schema_without_ids
    from pyiceberg.schema import assign_fresh_schema_ids

    return assign_fresh_schema_ids(_pyarrow_to_schema_without_ids(arrow_schema))


def partition_spec(schema):
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import DayTransform

    source = schema.find_field(PARTITION_SOURCE).field_id
    return PartitionSpec(PartitionField(source_id=source, field_id=1000, transform=DayTransform(),
                                        name=PARTITION_FIELD))


def _has(schema, name: str) -> bool:
    try:
        schema.find_field(name)
        return True
    except ValueError:
        return False


def schema_changes(current, wanted: pa.Schema, renamed: dict[str, str] | None = None
                   ) -> tuple[list[str], list[str]]:
    """(columns of ``wanted`` the Iceberg schema ``current`` lacks, conflicts as one line each).
    A conflict is a column of both whose types differ; newsbeam never changes a type. A column
    ``renamed`` from a name ``current`` still has is compared under that name and not missing."""
    target = iceberg_schema(wanted)
    missing, conflicts = [], []
    for field in target.fields:
        old = (renamed or {}).get(field.name)
        name = old if old and not _has(current, field.name) and _has(current, old) else field.name
        try:
            have = current.find_field(name)
        except ValueError:
            missing.append(field.name)
            continue
        if _shape(have.field_type) != _shape(field.field_type):
            conflicts.append(f"{field.name}: the table has {have.field_type}, newsbeam writes {field.field_type}")
    return missing, conflicts


def _shape(t) -> str:
    """A type without its field ids (nested types print their element ids)."""
    from pyiceberg.types import ListType

    if isinstance(t, ListType):
        return f"list<{_shape(t.element_type)}>"
    return str(t)


def sync_schema(table, name: str, wanted: pa.Schema, renamed: dict[str, str] | None = None):
    """Renames columns a release renamed (``renamed``: new -> old, default `RENAMED` of the
    table) and adds the columns ``wanted`` has and the table lacks (new field ids; the name
    mapping follows, so older files read them as null). Returns the table as committed."""
    renamed = RENAMED.get(name.rsplit(".", 1)[-1], {}) if renamed is None else renamed
    current = table.schema()
    renames = {new: old for new, old in renamed.items() if not _has(current, new) and _has(current, old)}
    missing, conflicts = schema_changes(current, wanted, renames)
    if conflicts:
        raise TableSchemaConflict(f"Iceberg table {name}: {'; '.join(conflicts)}; newsbeam only adds "
                                  "columns, so the table was changed by hand: restore the type or "
                                  "drop the table (newsbeam creates it again and registers every run)")
    if missing or renames:
        with table.update_schema() as update:
            for new, old in renames.items():
                update.rename_column(old, new)
            if missing:
                update.union_by_name(pa.schema([wanted.field(c) for c in missing]))
    return table
