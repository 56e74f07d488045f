"""DuckDB over the Parquet tables on S3, for the demo, `newsbeam query` and tests.

The httpfs extension comes from the `duckdb-extension-httpfs` wheel, so no download at run time.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from connectors.s3 import S3Settings


def _httpfs_path() -> Path:
    import duckdb
    import duckdb_extension_httpfs

    found = sorted(Path(duckdb_extension_httpfs.__file__).parent.glob(
        f"extensions/v{duckdb.__version__}/httpfs.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no httpfs extension for DuckDB {duckdb.__version__} in "
                           "duckdb-extension-httpfs; install the matching version (make install does)")
    return found[0]


def connect(s: S3Settings):
    """An in-memory DuckDB connection that can read s3:// URLs of our bucket."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"LOAD '{_httpfs_path()}'")
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
    return s.url(s.key(table, "dt=*", "*.parquet"))


def table_view_sql(s: S3Settings, table: str) -> str:
    """A view reading one table with its dt partition column (hive_partitioning)."""
    return (f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet("
            f"'{table_glob(s, table)}', hive_partitioning = true, union_by_name = true)")


def connect_with_views(s: S3Settings, tables: list[str]):
    """Connection with one view per existing table (tables with no files yet are skipped)."""
    from connectors import run_ledger

    present = {f.table for f in run_ledger.data_files(s)}
    con = connect(s)
    for t in tables:
        if t in present:
            con.execute(table_view_sql(s, t))
    return con, present
