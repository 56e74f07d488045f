"""connectors/console.py is the one output path of the commands: text or JSON lines, secrets
redacted, progress bars only for people."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from connectors import console

ROOT = Path(__file__).resolve().parents[2]
# `python -m connectors.feeds.item --write` (a contributor's generator) and the local stack's
# readiness probe (run by deploy/local/stack.sh; `newsbeam stack` relays its lines through
# console.relay) are not commands' output.
OUTSIDE_COMMANDS = {"connectors/console.py", "connectors/feeds/item.py", "pipeline/stackcheck.py"}


@pytest.fixture(autouse=True)
def fresh_console():
    saved = (console._state.format, console._state.logger, console._state.redact)
    yield
    console._state.format, console._state.logger, console._state.redact = saved
    console._state.bar = None


def _writes(tree: ast.AST) -> list[int]:
    """Lines of print(...), sys.stdout/stderr.write(...) and any tqdm import."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "print":
                found.append(node.lineno)
            if isinstance(f, ast.Attribute) and f.attr in ("write", "writelines") \
                    and isinstance(f.value, ast.Attribute) and f.value.attr in ("stdout", "stderr"):
                found.append(node.lineno)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] == "tqdm" for n in names):
                found.append(node.lineno)
    return found


def test_no_command_writes_to_the_terminal_but_through_console():
    offenders = []
    for package in ("connectors", "transforms", "pipeline"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if rel in OUTSIDE_COMMANDS:
                continue
            offenders += [f"{rel}:{n}" for n in _writes(ast.parse(path.read_text(encoding="utf-8")))]
    assert offenders == []


def test_the_checker_finds_prints_and_writes():
    assert len(_writes(ast.parse("import sys\nprint(1)\nsys.stderr.write('x')\nfrom tqdm import tqdm\n"))) == 3


def test_text_lines_go_to_their_stream_as_they_are(capsys):
    console.configure("text", command="run")
    console.result("run abc: written", run={"records": 3})
    console.info("progress")
    console.error("newsbeam run: broken", exit_code=4)
    out, err = capsys.readouterr()
    assert out == "run abc: written\n" and err == "progress\nnewsbeam run: broken\n"


def test_json_lines_carry_the_log_record_fields_and_their_own(capsys):
    console.configure("json", command="run")
    console.result("run abc: written", run={"records": 3}, level="not-overwritten")
    console.error("newsbeam run: broken", error="S3Unavailable", exit_code=4)
    out, err = capsys.readouterr()
    line = json.loads(out)
    assert (line["level"], line["logger"], line["message"], line["run"]) == \
        ("INFO", "newsbeam.run", "run abc: written", {"records": 3})
    assert line["level_"] == "not-overwritten" and line["ts"].endswith("Z")
    problem = json.loads(err)
    assert (problem["level"], problem["error"], problem["exit_code"]) == ("ERROR", "S3Unavailable", 4)


def test_multi_line_messages_stay_one_json_line(capsys):
    console.configure("json")
    console.error("newsbeam: invalid configuration:\n  kafka.bogus: unknown key")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and json.loads(err)["message"].endswith("unknown key")


def test_tables_are_one_json_object_per_row(capsys):
    console.configure("json")
    console.table(["feed", "status"], [["https://a/rss", "ok"], ["https://b/rss", None]], text_lines=["ignored"])
    rows = [json.loads(line)["row"] for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"feed": "https://a/rss", "status": "ok"}, {"feed": "https://b/rss", "status": None}]


def test_secrets_are_redacted_from_lines_but_data_is_left_alone(capsys):
    console.configure("json", redact=lambda text: text.replace("hunter22", "***"))
    console.error("login failed with hunter22", detail={"password": "hunter22"})
    console.data('{"text": "hunter22"}')
    out, err = capsys.readouterr()
    assert "hunter22" not in err and json.loads(err)["detail"] == {"password": "***"}
    assert out == '{"text": "hunter22"}\n'


def test_documents_are_indented_for_people_and_one_line_in_json(capsys):
    console.configure("text")
    console.document({"a": 1})
    assert capsys.readouterr().out == '{\n  "a": 1\n}\n'
    console.configure("json")
    console.document({"a": 1})
    assert capsys.readouterr().out == '{"a": 1}\n'


def test_no_progress_bar_unless_text_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    console.configure("json")
    with console.progress(10, unit="rec") as bar:
        bar.update(5)
        assert console._state.bar is None
    console.configure("text")
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    with console.progress(10, unit="rec"):
        assert console._state.bar is None
    assert capsys.readouterr().err == ""


def test_log_records_share_the_json_shape(capsys):
    import logging

    from pipeline.logs import configure_logging

    try:
        configure_logging("json", "INFO")
        logging.getLogger("newsbeam.test").warning("careful", extra={"partition": 3})
        line = json.loads(capsys.readouterr().err)
        assert (line["level"], line["logger"], line["message"], line["partition"]) == \
            ("WARNING", "newsbeam.test", "careful", 3)
    finally:
        configure_logging("text", "WARNING")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        console.configure("xml")


def test_lines_of_child_processes_become_json_too(tmp_path):
    """Beam's SDK workers and other children write to file descriptor 2 themselves."""
    import subprocess
    import sys

    script = (
        "import subprocess, sys\n"
        "from connectors import console\n"
        "console.configure('json', command='run', redact=lambda t: t.replace('hunter22', '***'))\n"
        "with console.adopt_stderr():\n"
        "    console.info('ours')\n"
        "    subprocess.run(['sh', '-c', 'echo INFO:apache_beam.worker:Done consuming work >&2; "
        "echo a bare line with hunter22 >&2; echo \\'{\"level\": \"INFO\", \"message\": \"json already\"}\\' >&2'])\n"
        "    print('python stderr', file=sys.stderr)\n"
        "console.info('after')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    by_message = {line["message"]: line for line in lines}
    assert set(by_message) == {"ours", "Done consuming work", "a bare line with ***", "json already",
                               "python stderr", "after"}
    assert (by_message["Done consuming work"]["logger"], by_message["Done consuming work"]["level"]) == \
        ("apache_beam.worker", "INFO")
    assert by_message["a bare line with ***"]["logger"] == "stderr"
