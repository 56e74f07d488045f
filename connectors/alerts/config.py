"""Configuration models for alert rules and sinks (embedded under `alerts:` in the main config).

Secrets never live in the config itself: webhook secrets come from an environment variable or a
file, SMTP and Kafka SASL passwords from an environment variable. Reprs hide sink URLs because Slack incoming
webhook URLs carry their token in the path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SinkBase(_Model):
    name: str = Field(min_length=1)
    # None = no limit. The token bucket refills at rate_per_minute / 60 per second and holds
    # at most `burst` tokens, so a burst of alerts is spread out instead of tripping a 429.
    rate_per_minute: float | None = Field(default=None, gt=0)
    burst: int = Field(default=1, ge=1)


class SlackSink(_SinkBase):
    type: Literal["slack"] = "slack"
    url: str = Field(repr=False)


class WebhookSink(_SinkBase):
    type: Literal["webhook"] = "webhook"
    url: str = Field(repr=False)
    secret_env: str | None = None
    secret_file: str | None = None

    @model_validator(mode="after")
    def _one_secret_source(self) -> "WebhookSink":
        if self.secret_env and self.secret_file:
            raise ValueError(f"webhook sink {self.name!r}: set secret_env or secret_file, not both")
        return self

    def secret(self) -> bytes | None:
        """The signing secret, read at send time so rotation needs no restart."""
        if self.secret_env:
            value = os.environ.get(self.secret_env)
            if not value:
                raise ValueError(f"webhook sink {self.name!r}: environment variable {self.secret_env} is empty or unset")
            return value.encode()
        if self.secret_file:
            value = Path(self.secret_file).read_bytes().strip()
            if not value:
                raise ValueError(f"webhook sink {self.name!r}: secret file is empty")
            return value
        return None


class KafkaSink(_SinkBase):
    type: Literal["kafka"] = "kafka"
    topic: str = Field(min_length=1)
    bootstrap_servers: str | list[str]
    # Extra kafka-python producer settings (security_protocol, sasl_*, ...); acks stays "all".
    client_config: dict = Field(default_factory=dict, repr=False)
    # Environment variable holding the SASL password (client_config's sasl_plain_password), so
    # the password never sits in the config file or a ConfigMap.
    password_env: str | None = None

    @model_validator(mode="after")
    def _one_password_source(self) -> "KafkaSink":
        if self.password_env and "sasl_plain_password" in self.client_config:
            raise ValueError(f"kafka sink {self.name!r}: set password_env or client_config.sasl_plain_password, "
                             "not both")
        return self

    def producer_config(self) -> dict:
        """client_config with the password from `password_env`, read when the producer connects."""
        config = dict(self.client_config)
        if self.password_env:
            value = os.environ.get(self.password_env)
            if not value:
                raise ValueError(f"kafka sink {self.name!r}: environment variable {self.password_env} is empty "
                                 "or unset")
            config["sasl_plain_password"] = value
        return config


class SmtpSink(_SinkBase):
    type: Literal["smtp"] = "smtp"
    host: str
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    # A file holding the password (a mounted Kubernetes Secret); read at send time like the env.
    password_file: str | None = None
    from_addr: str
    to_addrs: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_password_source(self) -> "SmtpSink":
        if self.password_env and self.password_file:
            raise ValueError(f"smtp sink {self.name!r}: set password_env or password_file, not both")
        return self

    def password(self) -> str | None:
        if self.password_file:
            value = Path(self.password_file).read_text(encoding="utf-8").rstrip("\r\n")
            if not value:
                raise ValueError(f"smtp sink {self.name!r}: password file is empty")
            return value
        if not self.password_env:
            return None
        value = os.environ.get(self.password_env)
        if not value:
            raise ValueError(f"smtp sink {self.name!r}: environment variable {self.password_env} is empty or unset")
        return value


SinkConfig = Annotated[Union[SlackSink, WebhookSink, KafkaSink, SmtpSink], Field(discriminator="type")]


class AlertRule(_Model):
    """Which statements alert whom. Empty lists mean "any"; filled lists must each match (AND),
    any entry within one list may match (OR)."""

    name: str = Field(min_length=1)
    leaders: list[str] = Field(default_factory=list)  # names or aliases, case-insensitive
    roles: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    sinks: list[str] = Field(min_length=1)


class AlertsConfig(_Model):
    rules: list[AlertRule] = Field(default_factory=list)
    sinks: list[SinkConfig] = Field(default_factory=list)
    ledger_path: str = "newsbeam-alerts.sqlite3"  # like feeds.state_path: relative to the working directory
    # Attempts per delivery within one run; failed deliveries are retried on the next run.
    max_attempts: int = Field(default=4, ge=1)
    base_backoff_seconds: float = Field(default=1.0, ge=0.0)
    max_backoff_seconds: float = Field(default=30.0, ge=0.0)
    # A Retry-After longer than this is not waited out: the delivery is left for the next run
    # so one slow receiver cannot hold up the pipeline.
    max_retry_after_seconds: float = Field(default=60.0, ge=0.0)
    timeout_seconds: float = Field(default=10.0, gt=0.0)

    @model_validator(mode="after")
    def _names_resolve(self) -> "AlertsConfig":
        sink_names = [s.name for s in self.sinks]
        for names, what in ((sink_names, "sink"), ([r.name for r in self.rules], "rule")):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(f"duplicate {what} names: {duplicates}")
        for rule in self.rules:
            unknown = sorted(set(rule.sinks) - set(sink_names))
            if unknown:
                raise ValueError(f"rule {rule.name!r} names unknown sinks: {unknown}")
        return self

    def sink(self, name: str) -> SinkConfig:
        for sink in self.sinks:
            if sink.name == name:
                return sink
        raise KeyError(name)

    def rule(self, name: str) -> AlertRule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)
