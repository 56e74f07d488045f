"""The Iceberg catalog newsbeam registers into (pyiceberg), configured by IcebergConfig only.

`Catalog` opens the configured catalog (SQL on an SQLite file, REST, or Glue), creates the
namespace and the five tables on first use, adds columns newsbeam gained since
(connectors/iceberg_tables.py), and turns every failure of the catalog into `CatalogUnavailable`
with one line naming it. The tables' data files are our Parquet files (connectors/run_ledger.py);
the catalog's own files (metadata, manifests, compacted data) live under
`iceberg.location` (default `s3://<bucket>/<prefix>/_iceberg/<namespace>/<table>/`), beside the
plain layout, which no plain reader lists.

S3 access for the catalog's files uses the `s3:` settings (endpoint, region, keys or the AWS
chain); `iceberg.properties` may override any of them (`s3.*`).

The SQLite catalog is a local file: writers take its single-writer lock
(connectors/single_writer.py), so two processes never commit into it at once; readers
(`newsbeam query`) do not need it. Production uses a REST catalog or Glue (docs/operations.md).
"""
from __future__ import annotations

import contextlib
import logging

import pyarrow as pa

from connectors import iceberg_tables, s3
from connectors.errors import CatalogUnavailable, OperatorError
from connectors.iceberg_config import IcebergConfig
from connectors.tables import SCHEMAS

log = logging.getLogger(__name__)

CATALOG_NAME = "newsbeam"
ICEBERG_DIR = "_iceberg"


def describe(cfg: IcebergConfig) -> str:
    if cfg.catalog == "sql":
        return f"SQL catalog {cfg.sqlite_file()}"
    if cfg.catalog == "rest":
        return f"REST catalog {cfg.uri}"
    region = cfg.properties.get("glue.region") or cfg.properties.get("client.region")
    return "Glue catalog" + (f" ({region})" if region else "")


def location_root(cfg: IcebergConfig, ss: s3.S3Settings) -> str:
    return cfg.location or ss.url(ss.key(ICEBERG_DIR))


def table_location(cfg: IcebergConfig, ss: s3.S3Settings, table: str) -> str:
    return f"{location_root(cfg, ss)}/{cfg.namespace.replace('.', '/')}/{table}"


def catalog_properties(cfg: IcebergConfig, ss: s3.S3Settings) -> dict[str, str]:
    """What pyiceberg's load_catalog gets: the catalog type and address, FileIO settings from
    `s3:`, then `iceberg.properties` unchanged (they win)."""
    props: dict[str, str] = {"type": cfg.catalog, "s3.region": ss.region,
                             "s3.connect-timeout": str(ss.connect_timeout),
                             "s3.request-timeout": str(ss.read_timeout)}
    if ss.endpoint_url:
        props.update({"s3.endpoint": ss.endpoint_url, "s3.force-virtual-addressing": "false"})
    if ss.access_key_id:
        props.update({"s3.access-key-id": ss.access_key_id, "s3.secret-access-key": ss.secret_access_key or ""})
    if cfg.catalog == "sql":
        props.update({"uri": f"sqlite:///{cfg.sqlite_file()}", "init_catalog_tables": "true"})
    elif cfg.catalog == "rest":
        props["uri"] = cfg.uri or ""
    elif cfg.catalog == "glue":
        props.setdefault("glue.region", ss.region)
    props.update(cfg.properties)
    return props


def _reason(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Catalog:
    """An open catalog and newsbeam's tables in it. `writer=True` takes the SQLite catalog's
    single-writer lock for as long as it is open (use it as a context manager)."""

    def __init__(self, cfg: IcebergConfig, ss: s3.S3Settings, writer: bool = False):
        self.cfg, self.ss, self.writer = cfg, ss, writer
        self.name = describe(cfg)
        self._lock = None
        self._catalog = None

    def __enter__(self) -> "Catalog":
        if self.writer and self.cfg.catalog == "sql":
            from connectors.single_writer import SingleWriter

            self.cfg.sqlite_file().parent.mkdir(parents=True, exist_ok=True)
            self._lock = SingleWriter(self.cfg.sqlite_file(), "Iceberg SQL catalog",
                                      "runs and `newsbeam compact` of one deployment take turns; a "
                                      "second deployment needs its own iceberg.sqlite_path").acquire()
        try:
            with self.failures("open"):
                from pyiceberg.catalog import load_catalog

                self._catalog = load_catalog(CATALOG_NAME, **catalog_properties(self.cfg, self.ss))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @contextlib.contextmanager
    def failures(self, what: str):
        """Any error of the catalog, its HTTP client or its FileIO -> CatalogUnavailable."""
        try:
            yield
        except OperatorError:
            raise
        except Exception as exc:
            raise CatalogUnavailable(f"Iceberg {self.name}: {what} failed: {_reason(exc)}") from exc

    @property
    def catalog(self):
        return self._catalog

    def identifier(self, table: str) -> tuple[str, ...]:
        return (*self.cfg.namespace.split("."), table)

    def load(self, table: str):
        """The table as committed now, or None when it does not exist."""
        from pyiceberg.exceptions import NoSuchTableError

        with self.failures(f"loading {self.cfg.namespace}.{table}"):
            try:
                return self._catalog.load_table(self.identifier(table))
            except NoSuchTableError:
                return None

    def table(self, table: str, schema: pa.Schema | None = None):
        """The table, created when missing and given the columns newsbeam gained since
        (``schema``: the table's Arrow schema, by default connectors/tables.py's)."""
        schema = schema if schema is not None else SCHEMAS[table]
        found = self.load(table)
        with self.failures(f"preparing {self.cfg.namespace}.{table}"):
            if found is None:
                found = self._create(table, schema)
            return iceberg_tables.sync_schema(found, f"{self.cfg.namespace}.{table}", schema)

    def _create(self, table: str, schema: pa.Schema):
        from pyiceberg.exceptions import TableAlreadyExistsError

        ns = tuple(self.cfg.namespace.split("."))
        self._catalog.create_namespace_if_not_exists(ns)
        ice = iceberg_tables.iceberg_schema(schema)
        location = table_location(self.cfg, self.ss, table)
        props = iceberg_tables.table_properties(self.cfg.target_file_mb * 1024 * 1024)
        props.update({"write.data.path": f"{location}/data",
                      "schema.name-mapping.default": ice.name_mapping.model_dump_json()})
        try:
            created = self._catalog.create_table(self.identifier(table), schema=ice,
                                                 partition_spec=iceberg_tables.partition_spec(ice),
                                                 location=location, properties=props)
        except TableAlreadyExistsError:  # another writer created it first
            return self._catalog.load_table(self.identifier(table))
        log.info("created Iceberg table %s.%s at %s", self.cfg.namespace, table, location)
        return created

    def metadata_location(self, table: str) -> str | None:
        t = self.load(table)
        return t.metadata_location if t is not None else None
