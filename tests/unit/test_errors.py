"""One hierarchy of operator errors, each with its exit status, carried as types (also out of a
Beam worker and out of a spawned run process), and documented in docs/operations.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from connectors import errors
from connectors.errors import (AlertsFailed, ConfigError, KafkaUnavailable, OperatorError, RunFailed,
                               RunLocked, S3Unavailable, UsageError, from_failure)

ROOT = Path(__file__).resolve().parents[2]


def test_every_operator_error_has_a_documented_exit_status():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    documented = {int(code): name for code, name in re.findall(r"^\| (\d) \| `(\w+)`", section, re.M)}
    for cls in errors._classes():
        if cls is not OperatorError:
            assert cls.exit_code in documented, cls
    # distinct kinds of trouble, distinct codes; a subclass (UsageError is a ConfigError,
    # KafkaAccessDenied a KafkaUnavailable, WriterLockHeld a RunLocked) shares its kind's code
    kinds = OperatorError.__subclasses__()
    assert len({k.exit_code for k in kinds}) == len(kinds)
    assert {documented[k.exit_code] for k in kinds} == {k.__name__ for k in kinds}


def test_the_cause_chain_is_searched_by_type():
    inner = S3Unavailable("S3 write failed at http://s3:1 bucket b for k: timeout")
    try:
        try:
            raise inner
        except S3Unavailable as exc:
            raise RuntimeError("wrapped by a runner") from exc
    except RuntimeError as outer:
        assert from_failure(outer) is inner


BEAM_TEXT = """Pipeline job-001 failed in state FAILED: Traceback (most recent call last):
  File "apache_beam/runners/worker/operations.py", line 1, in process
  File "/srv/connectors/parquet_sink.py", line 94, in process
    raise S3Unavailable(f"S3 write failed at ...")
connectors.errors.S3Unavailable: S3 write failed at http://127.0.0.1:39999 bucket newsbeam for t/articles/dt=2025-01-28/part-0123456789abcdef-00000.parquet: When uploading part: AWS Error NETWORK_CONNECTION [while running 'WriteParquet/WriteFile']

During handling of the above exception, another exception occurred:
RuntimeError: worker died"""


def test_a_failure_known_only_as_text_maps_back_to_its_class():
    err = from_failure(RuntimeError(BEAM_TEXT))
    assert type(err) is S3Unavailable
    assert str(err) == ("S3 write failed at http://127.0.0.1:39999 bucket newsbeam for "
                        "t/articles/dt=2025-01-28/part-0123456789abcdef-00000.parquet: "
                        "When uploading part: AWS Error NETWORK_CONNECTION")


def test_the_innermost_named_error_wins_and_other_failures_are_not_ours():
    text = ("KafkaUnavailable: Kafka broker unreachable at a:1: refused\n"
            "...\nconnectors.errors.RunLocked: another run holds x")
    assert type(from_failure(RuntimeError(text))) is RunLocked
    assert from_failure(RuntimeError("ValueError: Invalid isoformat string: 'x'")) is None
    # a class name inside another word is not a match
    assert from_failure(RuntimeError("MyS3Unavailable: nope")) is None


def test_a_worker_error_of_a_real_beam_run_keeps_its_type():
    import apache_beam as beam

    def fail(_):
        raise KafkaUnavailable("no records from t[0] at offset 3 (wanted up to 9)")

    with pytest.raises(Exception) as info:
        with beam.Pipeline() as p:
            _ = p | beam.Create([1]) | beam.Map(fail)
    err = from_failure(info.value)
    assert type(err) is KafkaUnavailable and str(err).startswith("no records from t[0] at offset 3")


def _raise_s3(message):
    raise S3Unavailable(message)


def _raise_bug():
    raise ZeroDivisionError("division by zero")


def test_errors_cross_the_fresh_process_boundary_as_themselves():
    from pipeline.fresh_process import run_in_fresh_process

    with pytest.raises(S3Unavailable, match="S3 unreachable at x"):
        run_in_fresh_process(f"{__name__}:_raise_s3", ("S3 unreachable at x",))
    with pytest.raises(RunFailed, match="ZeroDivisionError: division by zero"):
        run_in_fresh_process(f"{__name__}:_raise_bug")
    assert run_in_fresh_process("os.path:join", ("a", "b")) == "a/b"


def test_exit_codes_of_the_hierarchy():
    from connectors.kafka_admin import KafkaAdminError
    from connectors.single_writer import WriterLockHeld

    assert (RunFailed.exit_code, ConfigError.exit_code, UsageError.exit_code, KafkaUnavailable.exit_code,
            S3Unavailable.exit_code, RunLocked.exit_code, AlertsFailed.exit_code) == (1, 2, 2, 3, 4, 5, 6)
    assert (KafkaAdminError.exit_code, WriterLockHeld.exit_code) == (3, 5)
    assert (errors.S3BucketMissing.exit_code, errors.S3AccessDenied.exit_code, errors.QueryError.exit_code,
            errors.InputError.exit_code) == (4, 4, 2, 2)
    assert issubclass(UsageError, ConfigError) and all(issubclass(c, OperatorError) for c in errors._classes())


def test_there_is_one_kafka_unavailable():
    from connectors import kafka_producer, kafka_source

    assert kafka_source.KafkaUnavailable is kafka_producer.KafkaUnavailable is KafkaUnavailable


def test_run_does_not_search_error_text():
    """pipeline/run.py hands failures to errors.from_failure; it holds no marker strings."""
    source = (ROOT / "pipeline" / "run.py").read_text(encoding="utf-8")
    assert ".find(" not in source and "marker" not in source


def test_run_and_fresh_process_no_longer_import_each_other():
    import ast

    tree = ast.parse((ROOT / "pipeline" / "fresh_process.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not {m for m in imported if m and m.startswith("pipeline")}
