"""The command line drops nothing an operator types: global flags work before or after the
subcommand, and an option neither newsbeam nor Apache Beam knows is an error, not a warning.
Subprocess tests point Kafka and S3 at closed ports, so they need no services."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.errors import ConfigError, KafkaUnavailable, UsageError
from pipeline.beam_options import unknown_beam_options
from pipeline.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = ("kafka:\n  bootstrap_servers: 127.0.0.1:1\n  request_timeout_ms: 2000\n"
               "s3:\n  endpoint_url: http://127.0.0.1:1\n  max_attempts: 1\n  connect_timeout: 1\n"
               "  access_key_id: k\n  secret_access_key: s\n")


def _newsbeam(home: Path, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=home, env=env,
                          capture_output=True, text=True, timeout=180)


def _write(tmp_path: Path, text: str, name: str = "prod.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("argv", [
    ["run", "--config", "p.yaml", "-v", "--log-format", "json"],
    ["--config", "p.yaml", "run", "-v", "--log-format", "json"],
    ["--config", "p.yaml", "-v", "--log-format", "json", "run"],
    ["-v", "status", "--config", "p.yaml", "--log-format", "json"],
    ["alerts", "list", "--config", "p.yaml", "-v", "--log-format", "json"],
    ["feeds", "--config", "p.yaml", "status", "-v", "--log-format=json"],
    ["config", "check", "--config=p.yaml", "-v", "--log-format", "json"],
])
def test_global_flags_work_before_or_after_the_subcommand(argv):
    args, extra = build_parser().parse_known_args(argv)
    assert (args.config, args.verbose, args.log_format, extra) == ("p.yaml", True, "json", [])


def test_a_flag_before_the_subcommand_is_not_reset_by_the_subcommand():
    args, _ = build_parser().parse_known_args(["--config", "p.yaml", "-v", "run"])
    assert (args.config, args.verbose, args.log_format) == ("p.yaml", True, "text")


def test_run_with_config_after_the_subcommand_uses_that_file(tmp_path):
    """`newsbeam run --config prod.yaml` used to hand --config to Beam, which dropped it."""
    path = _write(tmp_path, "kafka:\n  bootstrap_server: typo:9092\n")
    proc = _newsbeam(tmp_path, "run", "--config", str(path))
    assert proc.returncode == ConfigError.exit_code == 2, proc.stderr
    assert f"invalid configuration ({path})" in proc.stderr
    assert "kafka.bootstrap_server: unknown key" in proc.stderr


def test_status_with_config_after_the_subcommand(tmp_path):
    path = _write(tmp_path, UNREACHABLE)
    proc = _newsbeam(tmp_path, "status", "--json", "--config", str(path))
    assert proc.returncode == 1, proc.stderr  # a probe: Kafka and S3 of *that file* are down
    report = json.loads(proc.stdout)
    assert "127.0.0.1:1" in report["kafka"]["error"] and "127.0.0.1:1" in report["s3"]["error"]


@pytest.mark.parametrize("argv, named", [
    (["run", "--bogus-option"], "--bogus-option"),
    (["run", "--confg", "x.yaml"], "--confg x.yaml"),
    (["run", "--runner=DirectRunner", "--direct_num_workers=1", "--not_a_beam_flag=3"], "--not_a_beam_flag=3"),
    (["run", "stray-word"], "stray-word"),
    (["demo", "--bogus"], "--bogus"),
])
def test_an_option_neither_newsbeam_nor_beam_knows_is_an_error(tmp_path, argv, named):
    path = _write(tmp_path, UNREACHABLE)
    proc = _newsbeam(tmp_path, "--config", str(path), *argv)
    assert proc.returncode == UsageError.exit_code == 2, proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"newsbeam {argv[0]}: unknown option(s) {named}: neither newsbeam nor Apache Beam")
    assert "Kafka" not in proc.stderr and proc.stdout == ""  # refused before anything ran


def test_unknown_beam_option_in_the_config_file_is_an_error(tmp_path):
    path = _write(tmp_path, UNREACHABLE + "pipeline:\n  beam_args: ['--direct_num_workers=2', '--bogus=1']\n")
    proc = _newsbeam(tmp_path, "run", "--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "pipeline.beam_args: unknown Beam option(s) --bogus=1" in proc.stderr


def test_options_of_non_beam_commands_are_checked_by_argparse(tmp_path):
    proc = _newsbeam(tmp_path, "status", "--bogus")
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr


def test_known_beam_options_runner_specific_ones_included():
    assert unknown_beam_options([
        "--runner=PrismRunner", "--prism_location=/x/prism", "--environment_type=LOOPBACK",
        "--direct_num_workers", "2", "--direct_running_mode=multi_processing",
        "--flink_master=localhost:8081", "--spark_master_url=spark://x:7077", "--job_endpoint=localhost:8099",
        "--temp_location=s3://b/tmp", "--experiments=use_runner_v2", "--save_main_session"]) == []
    assert unknown_beam_options(["--runner", "DirectRunner", "--direct_num_worker=2"]) == ["--direct_num_worker=2"]


def test_a_well_formed_run_reaches_kafka_and_exits_with_its_code(tmp_path):
    path = _write(tmp_path, UNREACHABLE + "pipeline:\n  max_records_per_run: null\n  lock_path: "
                  f"{tmp_path / 'lock'}\n")
    proc = _newsbeam(tmp_path, "run", "--config", str(path), "--direct_num_workers=1")
    assert proc.returncode == KafkaUnavailable.exit_code == 3, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("newsbeam run: Kafka broker unreachable at 127.0.0.1:1")


def test_help_lists_config_check_and_alerts_retry():
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert "config" in sub.choices and "check" in sub.choices["config"].format_help()
    assert "retry" in sub.choices["alerts"].format_help()


@pytest.mark.parametrize("section, text", [
    ("kafka", "kafka:\n  topik: x\n"), ("s3", "s3:\n  buckett: x\n"), ("pipeline", "pipeline:\n  nlp_enable: false\n"),
    ("nlp", "nlp:\n  modell: x\n"), ("feeds", "feeds:\n  state: x.db\n"),
    ("alerts", "alerts:\n  rules: [{name: r, sinks: [hook], leader: [x]}]\n"
               "  sinks: [{type: slack, name: hook, url: 'https://hooks.example/x'}]\n"),
])
def test_a_typo_in_any_section_stops_every_command_with_exit_2(tmp_path, section, text):
    """`alerts:` used to be validated inside the run: a typo there was logged and the run exited 0
    with the statements never alerted."""
    path = _write(tmp_path, text)
    for command in (["run"], ["poll", "--once"], ["alerts", "list"], ["config", "check"]):
        proc = _newsbeam(tmp_path, *command, "--config", str(path))
        assert proc.returncode == 2, (command, proc.stderr)
        problems = [line for line in proc.stderr.splitlines() if line.startswith(f"  {section}.")]
        assert len(problems) == 1 and "unknown key" in problems[0], proc.stderr
        assert proc.stdout == ""
