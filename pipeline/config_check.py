"""`newsbeam config check`: the configuration is valid, and what it points at answers.

Like `dbt debug`: after the file and environment validate (or the command has already exited 2
with one line per problem), every check prints one line, `ok`, `FAIL` or `skip` (a check whose
service already failed), and the exit status is that of the first failure's class
(connectors/errors.py: Kafka 3, S3 4, configuration 2, Iceberg catalog 8). Nothing is left behind: the S3 probe
object is deleted, the Kafka checks create nothing.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from connectors.errors import ConfigError, KafkaUnavailable, OperatorError, S3Unavailable
from pipeline.config import Config


@dataclass
class Check:
    name: str
    status: str      # ok | FAIL | skip
    detail: str
    error: type[OperatorError] | None = None

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<18} {self.detail}"


class _Skip(Exception):
    pass


def _run(name: str, error: type[OperatorError], probe: Callable[[], str], checks: list[Check]) -> bool:
    try:
        checks.append(Check(name, "ok", probe()))
        return True
    except _Skip as why:
        checks.append(Check(name, "skip", str(why)))
    except Exception as exc:  # every failure is reported as this check's line, typed by its class
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        checks.append(Check(name, "FAIL", text, error))
    return False


def _kafka(config: Config, checks: list[Check]) -> None:
    from connectors.kafka_source import KafkaSettings, committed_offsets, probe_bootstrap, topic_exists

    ks = KafkaSettings.from_config(config.kafka)

    def bootstrap():
        probe_bootstrap(ks)
        return f"{ks.bootstrap_servers} accepts connections"

    up = _run("kafka.bootstrap", KafkaUnavailable, bootstrap, checks)

    def topic():
        if not up:
            raise _Skip("Kafka unreachable")
        n = topic_exists(ks)
        if not n:
            raise KafkaUnavailable(f"topic {ks.topic!r} does not exist on {ks.bootstrap_servers}")
        return f"topic {ks.topic!r} has {n} partition(s)"

    def group():
        if not up:
            raise _Skip("Kafka unreachable")
        if not has_topic:
            raise _Skip("no topic to read")
        offsets = committed_offsets(ks)
        done = sum(1 for o in offsets.values() if o is not None)
        return f"group {ks.group_id!r} readable: committed offsets on {done} of {len(offsets)} partition(s)"

    has_topic = _run("kafka.topic", KafkaUnavailable, topic, checks)
    _run("kafka.group", KafkaUnavailable, group, checks)


def _s3(config: Config, checks: list[Check]) -> None:
    from connectors import s3

    ss = s3.S3Settings.from_config(config.s3)

    def bucket():
        s3.check_reachable(ss)
        return f"{s3.describe_endpoint(ss)} answers"

    up = _run("s3.bucket", S3Unavailable, bucket, checks)

    def write():
        if not up:
            raise _Skip("S3 unreachable")
        key = ss.key("_check", f"newsbeam-config-check-{uuid.uuid4().hex}")
        client = s3.client(ss)
        try:
            client.put_object(Bucket=ss.bucket, Key=key, Body=b"newsbeam config check\n")
            listed = [o["Key"] for o in s3.list_keys(ss, key)]
            if key not in listed:
                raise S3Unavailable(f"wrote {ss.url(key)} but listing {ss.url(ss.key('_check'))}/ does not show it")
        except S3Unavailable:
            raise
        except Exception as exc:
            raise S3Unavailable(f"cannot write under {ss.url(ss.prefix)}/: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
        finally:
            try:
                s3.delete_keys(ss, [key])
            except Exception:
                pass
        if key in [o["Key"] for o in s3.list_keys(ss, key)]:
            raise S3Unavailable(f"cannot delete {ss.url(key)} (runs delete the files of crashed runs)")
        return f"put, list and delete under {ss.url(ss.prefix)}/"

    _run("s3.write", S3Unavailable, write, checks)


def _sink_problem(sink) -> str | None:
    try:
        if sink.type in ("slack", "webhook") and not sink.url.startswith(("https://", "http://")):
            return f"alert sink {sink.name!r}: url is not http(s)"
        if sink.type == "webhook":
            sink.secret()
        elif sink.type == "smtp":
            sink.password()
    except (ValueError, OSError) as exc:
        return str(exc)
    return None


def _alerts(config: Config, checks: list[Check]) -> None:
    alerts = config.alerts

    def sinks():
        if not alerts.rules:
            return "no rules: nothing will be alerted"
        problems = [p for p in (_sink_problem(s) for s in alerts.sinks) if p]
        if problems:
            raise ConfigError("; ".join(problems))
        ledger = Path(alerts.ledger_path).resolve().parent
        if not ledger.is_dir():
            raise ConfigError(f"alerts.ledger_path: directory {ledger} does not exist")
        return (f"{len(alerts.rules)} rule(s), sinks {', '.join(s.name for s in alerts.sinks)}: "
                "secrets resolve")

    _run("alerts", ConfigError, sinks, checks)


def _nlp(config: Config, checks: list[Check]) -> None:
    import importlib.util

    def model():
        if not config.pipeline.nlp_enabled:
            raise _Skip("pipeline.nlp_enabled is false")
        if importlib.util.find_spec(config.nlp.model) is None:
            raise ConfigError(f"spaCy model package {config.nlp.model!r} is not installed "
                              "(pip install it, or set nlp.model)")
        if config.nlp.leaders_file:
            from transforms.leaders import load_gazetteer

            load_gazetteer(config.nlp.leaders_file)
        return f"{config.nlp.model} installed" + (
            f", leaders from {config.nlp.leaders_file}" if config.nlp.leaders_file else "")

    _run("nlp.model", ConfigError, model, checks)


def _beam(config: Config, checks: list[Check]) -> None:
    from pipeline.beam_options import unknown_beam_options

    def options():
        unknown = unknown_beam_options(list(config.pipeline.beam_args))
        if unknown:
            raise ConfigError(f"pipeline.beam_args: unknown Beam option(s) {' '.join(unknown)}")
        return " ".join(config.pipeline.beam_args) or "none (DirectRunner defaults)"

    _run("beam.options", ConfigError, options, checks)


def _feeds(config: Config, checks: list[Check]) -> None:
    from connectors.feeds.spec import load_feed_list

    def feed_list():
        path = config.feeds.feeds_file
        if not Path(path).is_file():
            raise ConfigError(f"feeds.feeds_file: {path} not found")
        return f"{len(load_feed_list(path))} feed(s) in {path}"

    _run("feeds.list", ConfigError, feed_list, checks)


def _iceberg(config: Config, checks: list[Check]) -> None:
    """The catalog answers and lists the namespace (read-only: creates nothing, not even the
    SQLite file)."""
    from connectors import s3
    from connectors.errors import CatalogError

    if not config.iceberg.enabled:
        checks.append(Check("iceberg.catalog", "ok", "none (plain Parquet layout only)"))
        return

    def probe():
        from pipeline.iceberg import metadata_locations

        ss = s3.S3Settings.from_config(config.s3)
        found = metadata_locations(config, ss)
        from connectors.iceberg_catalog import describe

        have = sorted(t for t, m in found.items() if m)
        return (f"{describe(config.iceberg)}: namespace {config.iceberg.namespace}, "
                + (f"tables {', '.join(have)}" if have else "no tables yet (the first run creates them)"))

    _run("iceberg.catalog", CatalogError, probe, checks)


def run_checks(config: Config) -> list[Check]:
    checks: list[Check] = []
    for part in (_kafka, _s3, _iceberg, _alerts, _nlp, _beam, _feeds):
        part(config, checks)
    return checks


def exit_code(checks: list[Check]) -> int:
    """0 when every check passed (or was skipped), else the first failure's class's code."""
    failed = [c for c in checks if c.status == "FAIL"]
    return failed[0].error.exit_code if failed else 0
