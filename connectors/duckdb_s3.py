"""DuckDB over the Parquet tables on S3, for the demo, `newsbeam query` and tests.

The httpfs extension comes from the `duckdb-extension-httpfs` wheel, and the iceberg extension
(with the avro extension it reads manifests with) from `duckdb-extension-iceberg` and
`duckdb-extension-avro`, so nothing is downloaded at run time.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from connectors.s3 import S3Settings


def _extension_path(name: str) -> Path:
    """The extension file shipped in the `duckdb-extension-<name>` wheel for this DuckDB."""
    import importlib

    import duckdb

    package = importlib.import_module(f"duckdb_extension_{name}")
    found = sorted(Path(package.__file__).parent.glob(
        f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no {name} extension for DuckDB {duckdb.__version__} in "
                           f"duckdb-extension-{name}; install the matching version (make install does)")
    return found[0]


def _httpfs_path() -> Path:
    return _extension_path("httpfs")


def load_iceberg(con) -> None:
    """DuckDB's iceberg extension; it needs avro loaded first (else it tries a download)."""
    for name in ("avro", "iceberg"):
        con.execute(f"LOAD '{_extension_path(name)}'")


def connect(s: S3Settings):
    """An in-memory DuckDB connection that can read s3:// URLs of our bucket."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"LOAD '{_httpfs_path()}'")
    # Timestamps print in UTC (what the tables hold), whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB 1.5.x: min()/max() of a hive partition column (dt) when one file is read fails with
    # an INTERNAL Error in statistics propagation and invalidates the connection (duckdb#25629,
    # fixed upstream by #25690). Switching that optimizer off costs nothing measurable here
    # (bench/duckdb_statistics.py).
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    opts = {"TYPE": "s3", "REGION": s.region}
    if s.access_key_id:
        opts.update(KEY_ID=s.access_key_id, SECRET=s.secret_access_key or "")
    else:
        opts["PROVIDER"] = "credential_chain"
    if s.endpoint_url:
        u = urlparse(s.endpoint_url)
        opts.update(ENDPOINT=u.netloc, URL_STYLE="path", USE_SSL="true" if u.scheme == "https" else "false")
    body = ", ".join(f"{k} {_sql(v) if k != 'TYPE' and k != 'PROVIDER' else v}" for k, v in opts.items())
    con.execute(f"CREATE SECRET newsbeam_s3 ({body})")
    return con


def _sql(value) -> str:
    if value in ("true", "false"):
        return value
    return "'" + str(value).replace("'", "''") + "'"


def table_glob(s: S3Settings, table: str) -> str:
    """Every file of a table, committed or not: for display only, never for reading."""
    return s.url(s.key(table, "dt=*", "*.parquet"))


def table_view_sql(s: S3Settings, table: str, keys: list[str], select: str = "*") -> str:
    """A view reading exactly these files of one table (the committed ones), with the dt
    partition column; a glob would also read the files of a run that died before its manifest."""
    urls = ", ".join(_sql(s.url(k)) for k in sorted(keys))
    return (f"CREATE OR REPLACE VIEW {table} AS SELECT {select} FROM read_parquet("
            f"[{urls}], hive_partitioning = true, union_by_name = true)")


def iceberg_view_sql(table: str, metadata_location: str) -> str:
    """A view over one Iceberg table as committed now (its current snapshot's metadata file),
    with `dt` computed like the plain layout's partition column (the UTC date of fetched_at), so
    the same queries work on both."""
    return (f"CREATE OR REPLACE VIEW {table} AS SELECT *, CAST(timezone('UTC', fetched_at) AS DATE) AS dt "
            f"FROM iceberg_scan({_sql(metadata_location)})")


def connect_with_iceberg_views(s: S3Settings, metadata: dict[str, str | None]):
    """Connection with one view per Iceberg table that exists (``metadata``: table -> its
    current metadata file, from the catalog)."""
    con = connect(s)
    load_iceberg(con)
    present = {t for t, location in metadata.items() if location}
    for t in sorted(present):
        con.execute(iceberg_view_sql(t, metadata[t]))
    return con, present


def connect_with_views(s: S3Settings, tables: list[str]):
    """Connection with one view per table that has committed files (others are skipped). A column
    renamed by a release reads as one column, under its new name, from old and new files alike.
    Returns (connection, tables with a view)."""
    from connectors import committed_files, run_ledger
    from connectors.tables import RENAMED, folded_select

    files = committed_files.committed(run_ledger.data_files(s), run_ledger.committed_runs(s))
    con = connect(s)
    present = set()
    for t in tables:
        keys = [f.key for f in files if f.table == t]
        if keys:
            con.execute(table_view_sql(s, t, keys))
            if t in RENAMED:  # DESCRIBE reads the files' footers: only where a rename may need folding
                folded = folded_select(t, [row[0] for row in con.execute(f"DESCRIBE {t}").fetchall()])
                if folded:
                    con.execute(table_view_sql(s, t, keys, folded))
            present.add(t)
    return con, present
