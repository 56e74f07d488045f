"""The `s3:` section of the configuration (owned here, composed by pipeline/config.py)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator


class S3Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = "newsbeam"
    prefix: str = "newsbeam"
    # None means AWS itself; set for SeaweedFS / MinIO.
    endpoint_url: str | None = None
    region: str = "us-east-1"
    # Optional explicit keys (local stack); otherwise the standard AWS credential chain.
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3

    @field_validator("prefix")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip("/")

    @property
    def root(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
