"""The `kafka:` section of the configuration (owned here, composed by pipeline/config.py)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class KafkaConfig(BaseModel):
    # Unknown keys are errors: a typo in a config file must not be silently ignored.
    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str = "127.0.0.1:9092"
    topic: str = "newsbeam.items"
    group_id: str = "newsbeam-pipeline"
    # Passed through to kafka-python clients unchanged (security_protocol, sasl_*, ssl_* ...).
    client_config: dict[str, Any] = Field(default_factory=dict)
    request_timeout_ms: int = 10000

    @field_validator("bootstrap_servers")
    @classmethod
    def _host_port(cls, v: str) -> str:
        for part in v.split(","):
            host, _, port = part.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError("expected host:port[,host:port...], e.g. 127.0.0.1:9092")
        return v
