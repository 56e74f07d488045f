"""`newsbeam query`: SQL over the Parquet tables on S3 (DuckDB views, connectors/duckdb_s3.py), the
result written as a table for people or, by DuckDB itself, as CSV, JSON lines or Parquet.

- `table`: aligned columns; NULL is shown as `NULL`, and tabs, newlines and other control
  characters inside values as `\\t`, `\\n`, `\\xNN`, so one row stays one line.
- `csv`: RFC 4180 with a header; every value is quoted except NULL, which is an empty unquoted
  field, so NULL, the empty string and the text "NULL" stay three different things (readers:
  DuckDB `read_csv(..., allow_quoted_nulls = false)`, pyarrow `quoted_strings_can_be_null=False`).
  Tabs, newlines and quotes inside values are kept inside the quotes.
- `json`: JSON lines, one object per row (lists and structs as JSON arrays and objects,
  timestamps as `YYYY-MM-DD HH:MM:SS+00`, binary as DuckDB's `\\xNN` text).
- `parquet`: zstd; needs an output file (`--output`), it is binary.

`--output` writes to a local file (atomically: a temporary file in the same folder, renamed
when complete) or an `s3://` URL (DuckDB's upload, which S3 makes visible only when complete).
Failures are typed (connectors/errors.py): S3 problems as S3Unavailable and its subclasses
(exit 4), a failing statement as QueryError (exit 2), each one line.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from connectors import console
from connectors.errors import (OperatorError, QueryError, S3AccessDenied, S3BucketMissing, S3Unavailable,
                               UsageError)
from connectors.s3 import S3Settings, describe_endpoint

FORMATS = ("table", "csv", "json", "parquet")
# Copied to stdout in chunks of this size (a file DuckDB wrote).
_CHUNK = 1 << 20
_COPY_OPTIONS = {"csv": "FORMAT csv, HEADER true, FORCE_QUOTE *", "json": "FORMAT json",
                 "parquet": "FORMAT parquet, COMPRESSION zstd"}


def run_query(s: S3Settings, sql: str, fmt: str, output: str | None = None,
              iceberg: dict[str, str | None] | None = None) -> int:
    """Run ``sql`` with one view per table that has data, write the result; returns the rows written.
    ``iceberg``: each table's current metadata file (pipeline/iceberg.py) to read the Iceberg tables
    instead of the committed Parquet files."""
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    output = None if output in (None, "-") else output
    if fmt == "parquet" and output is None:
        raise UsageError("--format parquet needs --output FILE or s3:// URL (Parquet is binary)")
    if output is not None and not output.startswith("s3://"):
        folder = Path(output).resolve().parent
        if not folder.is_dir():
            raise UsageError(f"--output {output}: folder {folder} does not exist")
    from connectors import duckdb_s3, tables

    sql = sql.strip().rstrip(";").strip()
    if not sql:
        raise UsageError("no SQL given")
    present: set[str] = set()
    try:
        if iceberg is not None:
            con, present = duckdb_s3.connect_with_iceberg_views(s, iceberg)
        else:
            con, present = duckdb_s3.connect_with_views(s, list(tables.SCHEMAS))
        if fmt == "table":
            return _table(con, sql, output)
        return _copy(con, sql, fmt, output)
    except OperatorError:
        raise
    except Exception as exc:
        raise duckdb_failure(exc, s, present) from None


# ----------------------------------------------------------------------------- table
def _table(con, sql: str, output: str | None) -> int:
    cur = con.execute(sql)
    if cur.description is None:  # SET, CREATE ...: nothing to show
        console.info("done (the statement returns no rows)")
        return 0
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    lines = render_table(names, rows)
    if output is None:
        console.table(names, rows, text_lines=lines)
    else:
        _write_text(output, "\n".join(lines) + "\n")
        console.info(f"wrote {len(rows)} row(s) to {output}", rows=len(rows), output=output)
    return len(rows)


def render_table(names: list[str], rows: list[tuple]) -> list[str]:
    """Header, rule, one line per row, and the row count; numbers right-aligned."""
    cells = [[display(v) for v in row] for row in rows]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows if r[i] is not None) for i in range(len(names))]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    header = "  ".join(n.ljust(w) for n, w in zip(names, widths)).rstrip()
    return [header, "  ".join("-" * w for w in widths)] + [line(c) for c in cells] + \
        [f"({len(rows)} row{'' if len(rows) == 1 else 's'})"]


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def display(value: Any) -> str:
    """A value as one line of text: NULL for None, control characters escaped."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"
                                                 if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"), value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x5c else f"\\x{b:02X}" for b in bytes(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(display(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{display(k)}: {display(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return display(str(value)) if not isinstance(value, (int, float, Decimal)) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- csv, json, parquet
def _copy(con, sql: str, fmt: str, output: str | None) -> int:
    """DuckDB writes the file; to stdout through a temporary file (DuckDB writes paths)."""
    if output is not None and output.startswith("s3://"):
        rows = _copy_to(con, sql, fmt, output)
    elif output is not None:
        tmp = f"{output}.tmp-{os.getpid()}"
        try:
            rows = _copy_to(con, sql, fmt, tmp)
            os.replace(tmp, output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        with tempfile.TemporaryDirectory(prefix="newsbeam-query-") as folder:
            path = os.path.join(folder, f"result.{fmt}")
            rows = _copy_to(con, sql, fmt, path)
            if os.path.exists(path):
                console.data_bytes(_chunks(path))
        return rows
    console.info(f"wrote {rows} row(s) to {output}", rows=rows, output=output)
    return rows


def _copy_to(con, sql: str, fmt: str, target: str) -> int:
    import duckdb

    relation = con.sql(sql)  # binds the statement (and runs any before the last one)
    if relation is None:
        raise QueryError("the statement returns no rows, so there is nothing to write")
    options = _COPY_OPTIONS[fmt]
    try:
        # COPY (query): streams, whatever the size of the result
        return con.execute(f"COPY ({sql}) TO {_literal(target)} ({options})").fetchone()[0]
    except duckdb.ParserException:
        # DESCRIBE, SHOW, SUMMARIZE, PRAGMA, several statements: COPY takes only a query; their
        # results are small, so they are read whole and written from memory
        result = relation.to_arrow_table()
        con.register("newsbeam_query_result", result)
        try:
            return con.execute(f"COPY newsbeam_query_result TO {_literal(target)} ({options})").fetchone()[0]
        finally:
            con.unregister("newsbeam_query_result")


def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _write_text(output: str, text: str) -> None:
    if output.startswith("s3://"):
        raise UsageError("--format table writes local files only; use csv, json or parquet for s3://")
    tmp = f"{output}.tmp-{os.getpid()}"
    try:
        Path(tmp).write_text(text, encoding="utf-8")
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ----------------------------------------------------------------------------- errors
_S3_CODE = re.compile(r"^([A-Z][A-Za-z]+): (.+)$", re.M)


def duckdb_failure(exc: BaseException, s: S3Settings, present: set[str] = frozenset()) -> OperatorError:
    """A DuckDB exception -> our error type, one line. HTTP errors are S3's answer (404
    NoSuchBucket, 403 refused); other I/O errors over HTTP mean the endpoint did not answer;
    everything else is the statement's fault."""
    import duckdb

    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, duckdb.HTTPException):
        status = getattr(exc, "status_code", None)
        found = _S3_CODE.search(str(exc).split("\n", 1)[-1])
        code = found.group(1) if found else ""
        detail = f"{first}" + (f" ({code}: {found.group(2).strip()})" if found else "")
        if code == "NoSuchBucket":
            return S3BucketMissing(f"S3 bucket does not exist: {detail}")
        if status in (401, 403):
            return S3AccessDenied(f"S3 refused access at {describe_endpoint(s)}: {detail}; check the keys or role "
                                  "and that it may list and get under the prefix")
        return S3Unavailable(f"S3 error at {describe_endpoint(s)}: {detail}")
    if isinstance(exc, duckdb.IOException) and "HTTP" in first:
        return S3Unavailable(f"S3 unreachable at {describe_endpoint(s)}: {first}")
    if isinstance(exc, duckdb.CatalogException):
        return QueryError(f"{first} (tables with data: {', '.join(sorted(present)) or 'none yet'})")
    if isinstance(exc, duckdb.Error):
        return QueryError(first)
    raise exc
