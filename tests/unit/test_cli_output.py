"""What the commands print, as a script sees it: with --log-format json every line on stdout and
stderr is a JSON object; `run --json` answers with an object on failure too; `--version`;
`extract` refuses bad input in one line. Kafka and S3 point at closed ports: no services."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = ("kafka:\n  bootstrap_servers: 127.0.0.1:1\n  request_timeout_ms: 2000\n"
               "s3:\n  endpoint_url: http://127.0.0.1:1\n  max_attempts: 1\n  connect_timeout: 1\n"
               "  access_key_id: k\n  secret_access_key: s3-secret-value\n"
               "feeds:\n  feeds_file: {dir}/feeds.yaml\n  state_path: {dir}/state.sqlite\n"
               "alerts:\n  ledger_path: {dir}/alerts.sqlite\n"
               "pipeline:\n  lock_path: {dir}/run.lock\n")


def newsbeam(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    config = tmp_path / "newsbeam.yaml"
    if not config.exists():
        config.write_text(UNREACHABLE.format(dir=tmp_path))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NEWSBEAM_CONFIG": str(config)}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.split("\n")[:-1] if text else []:
        record = json.loads(line)  # fails the test on any line that is not JSON
        assert isinstance(record, dict), line
        out.append(record)
    return out


# code: the exit status (None: either, the local stack may be up or down); raised: an ERROR line
# ends the output (config check and status answer with their lines and a status instead)
@pytest.mark.parametrize("args, code", [
    (["config", "check"], 3),                 # a line per check, Kafka fails first
    (["status"], 1),                          # the probe's lines
    (["run"], 3),                             # the error line
    (["run", "--since", "yesterday"], 2),     # a usage error found by the command
    (["runn"], 2),                            # a usage error found by the parser
    (["feeds", "status"], 0),                 # a result line
    (["alerts", "list"], 0),
    (["alerts", "retry"], 0),
    (["kafka", "acls"], 0),                   # a multi-line rendering, one object
    (["kafka", "init"], 3),
    (["poll", "--once"], 2),                  # the feed list is missing
    (["query", "SELECT 1"], 4),               # S3 unreachable
    (["extract", "/no/such/file.txt"], 2),
    (["--version"], 0),
    (["stack", "status"], None),              # lines relayed from deploy/local/stack.sh
])
def test_every_line_is_json_under_log_format_json(tmp_path, args, code):
    proc = newsbeam(tmp_path, "--log-format", "json", *args)
    assert code is None or proc.returncode == code, proc.stdout + proc.stderr
    records = json_lines(proc.stdout) + json_lines(proc.stderr)
    assert records, "the command said nothing"
    for record in records:
        assert {"ts", "level", "logger", "message"} <= set(record), record
        assert "s3-secret-value" not in json.dumps(record)
    if code and args[0] not in ("config", "status"):
        errors = [r for r in json_lines(proc.stderr) if r["level"] == "ERROR"]
        assert errors and errors[-1]["exit_code"] == code and errors[-1]["error"], proc.stderr


def test_text_errors_are_one_line_naming_the_command(tmp_path):
    proc = newsbeam(tmp_path, "kafka", "init")
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines()[-1].startswith("newsbeam kafka init: ")
    proc = newsbeam(tmp_path, "run", "--bogus-option")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("flags, code, error", [
    ([], 3, "KafkaUnavailable"),
    (["--since", "2025-02-30"], 2, "UsageError"),
    (["--direct_num_worker=2"], 2, "UsageError"),
    (["--since"], 2, "UsageError"),  # argparse's own complaint
])
def test_run_json_answers_with_an_object_on_failure(tmp_path, flags, code, error):
    proc = newsbeam(tmp_path, "run", "--json", *flags)
    assert proc.returncode == code, proc.stderr
    [answer] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert answer["status"] == "failed" and answer["error"] == error and answer["exit_code"] == code
    assert answer["message"] and "\n" not in answer["message"]
    assert answer["message"].split(": ")[-1] in proc.stderr  # the same reason as the error line


def test_version(tmp_path):
    from importlib import metadata

    proc = newsbeam(tmp_path, "--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"newsbeam {metadata.version('newsbeam')} (python ")
    assert "apache-beam " in proc.stdout and "duckdb " in proc.stdout


@pytest.mark.parametrize("args, stdin, words", [
    (["extract", "/no/such/file.txt"], None, "newsbeam extract: /no/such/file.txt: no such file"),
    (["extract", "."], None, "newsbeam extract: .: is a directory"),
    (["extract"], '{"id": 1, "text": "unterminated\n', "newsbeam extract: stdin line 1: not JSON"),
    (["extract"], '{"id": 1, "text": "ok"}\n["a list"]\n', "newsbeam extract: stdin line 2: expected a JSON object"),
    (["extract"], '{"id": 1, "body": "x"}\n', 'stdin line 1: expected a JSON object with a string "text"'),
    (["extract"], '{"id": 1, "text": "x", "title": "t"}\n', "stdin line 1: unknown field(s) title"),
    (["extract"], '{"id": 1, "text": "x", "date": "last week"}\n', "stdin line 1: date 'last week' is not a date"),
    (["extract", "--date", "28/01/2025", "README.md"], None, "--date '28/01/2025' is not a date"),
    (["eval", "--data", "/no/such/polnear"], None, "newsbeam eval: no PolNeAR split at /no/such/polnear/dev"),
])
def test_extract_refuses_bad_input_in_one_line_exit_2(tmp_path, args, stdin, words):
    proc = newsbeam(tmp_path, *args, stdin=stdin)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr, proc.stderr


def test_extract_reads_a_file_that_is_not_utf8_as_an_error(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 said \"hello\".".encode("latin-1"))
    proc = newsbeam(tmp_path, "extract", str(tmp_path / "latin1.txt"))
    assert proc.returncode == 2 and "not UTF-8 text (byte 3" in proc.stderr, proc.stderr
