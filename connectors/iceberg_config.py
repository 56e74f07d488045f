"""The `iceberg:` section of the configuration (owned here, composed by pipeline/config.py).

With `catalog: none` (the default) nothing Iceberg happens: the run writes the plain Parquet
layout and its `_runs/` manifests exactly as without this section. With `sql` (an SQLite file on
this host, the local default), `rest` (any Iceberg REST catalog: Polaris, Nessie, Lakekeeper,
S3 Tables, Unity...) or `glue` (AWS Glue Data Catalog) every committed run is also registered in
the Iceberg tables `<namespace>.<table>` (connectors/iceberg_register.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_SQLITE_PATH = "newsbeam-iceberg.sqlite3"


class IcebergConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catalog: Literal["none", "sql", "rest", "glue"] = "none"
    # sql: the SQLite file of the catalog (one writer at a time, like the alert ledger).
    sqlite_path: str | None = None
    # rest: the catalog's base URL, e.g. https://polaris.example/api/catalog
    uri: str | None = None
    namespace: str = "newsbeam"
    # Where newsbeam creates its tables (metadata, compacted files); null: s3://<bucket>/<prefix>/_iceberg.
    location: str | None = None
    # Passed to pyiceberg's catalog unchanged (REST `credential`, `token`, `warehouse`, `scope`;
    # Glue `glue.region`, `glue.id`; `s3.*` FileIO settings override those derived from `s3:`).
    properties: dict[str, str] = Field(default_factory=dict)
    # Size `newsbeam compact` aims at per file.
    target_file_mb: int = Field(default=128, ge=1)
    # `newsbeam compact` expires snapshots whose runs were committed longer ago than this.
    snapshot_retention_hours: float = Field(default=168.0, ge=0)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not v or not all(part.replace("_", "").isalnum() for part in v.split(".")):
            raise ValueError("expected a name of letters, digits and _ (dots separate levels), e.g. newsbeam")
        return v

    @field_validator("location")
    @classmethod
    def _location(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("s3://", "s3a://", "file://", "/")):
            raise ValueError("expected an s3:// URL (or a local path for tests)")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _keys_fit_the_catalog(self) -> "IcebergConfig":
        # A key the chosen catalog does not use would be silently ignored: name it instead.
        used = {"none": set(), "sql": {"sqlite_path"}, "rest": {"uri"}, "glue": set()}[self.catalog]
        stray = [k for k in ("sqlite_path", "uri") if getattr(self, k) is not None and k not in used]
        if self.catalog == "none":
            stray += [k for k in ("location",) if getattr(self, k) is not None]
            stray += ["properties"] if self.properties else []
        if stray:
            raise ValueError(f"{', '.join('iceberg.' + k for k in stray)} set, but the {self.catalog} catalog "
                             "does not use it" + (" (set iceberg.catalog to sql, rest or glue)"
                                                  if self.catalog == "none" else ""))
        if self.catalog == "rest" and not self.uri:
            raise ValueError("the rest catalog needs iceberg.uri, e.g. https://catalog.example/api/catalog")
        return self

    @property
    def enabled(self) -> bool:
        return self.catalog != "none"

    def sqlite_file(self) -> Path:
        return Path(self.sqlite_path or DEFAULT_SQLITE_PATH).resolve()
