"""The one output path of every `newsbeam` command: each line a command emits goes through here.

- `result` - the command's answer, a line a person reads (a run's summary, a check, a table row): stdout;
- `info`, `warning`, `error` - what happens, what went wrong: stderr (log records too: pipeline/logs.py
  writes them through `stream("stderr")`);
- `data` - output already in a format the user chose (`--json`, `query --format csv|json`, extract's JSON
  lines): stdout, verbatim;
- `progress` - a bar on a terminal, nothing otherwise.

With `--log-format json` (`configure("json")`) every `result`, `info`, `warning`, `error` and table row
is one JSON object per line with the fields of a log record (`ts`, `level`, `logger`, `message`) plus
the line's own fields, so a log shipper or a script reads all of it alike; `data` stays as the
user asked; there is no bar. Secrets known to the process are replaced by `***` in every line
(`configure(redact=...)`, set up with the logs).

Process-wide state, set by the CLI once it has parsed the flags: commands and the modules they
call only say *what* to emit.
"""
from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

TEXT, JSON = "text", "json"
FORMATS = (TEXT, JSON)
_STANDARD = ("ts", "level", "logger", "message")


class _State:
    format: str = TEXT
    logger: str = "newsbeam"
    redact: Callable[[str], str] = staticmethod(lambda text: text)
    bar: Any = None  # the active tqdm bar: text lines are written above it
    stderr: Any = None  # the terminal's stderr while file descriptor 2 is adopted (`adopt_stderr`)


_state = _State()


def configure(fmt: str | None = None, command: str | None = None,
              redact: Callable[[str], str] | None = None) -> None:
    """Set what was given: the format ("text" or "json"), the command (JSON `logger` is
    `newsbeam.<command>`), the secret redactor."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"output format must be one of {FORMATS}, not {fmt!r}")
        _state.format = fmt
    if command is not None:
        _state.logger = f"newsbeam.{command}"
    if redact is not None:
        _state.redact = redact


def is_json() -> bool:
    return _state.format == JSON


def json_line(level: str, logger: str, message: str, fields: dict | None = None,
              created: float | None = None) -> str:
    """One JSON object, the shape of every JSON line newsbeam writes (log records included)."""
    when = datetime.fromtimestamp(created, timezone.utc) if created is not None else datetime.now(timezone.utc)
    out: dict[str, Any] = {"ts": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                           "level": level, "logger": logger, "message": message}
    for key, value in (fields or {}).items():
        out[key if key not in _STANDARD else f"{key}_"] = value
    return json.dumps(out, ensure_ascii=False, default=str)


# ----------------------------------------------------------------------------- writing
def _stream(name: str):
    # looked up at each write, so redirections (and pytest's capture) are honoured
    if name == "stdout":
        return sys.stdout
    return _state.stderr or sys.stderr


def _write(name: str, text: str) -> None:
    """Whole lines; above the progress bar when there is one."""
    stream = _stream(name)
    if _state.bar is not None:
        for line in text.rstrip("\n").split("\n"):
            _state.bar.write(line, file=stream)
    else:
        stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


def _emit(name: str, level: str, message: str, fields: dict) -> None:
    message = _state.redact(str(message))
    if _state.format == JSON:
        _write(name, json_line(level, _state.logger, message, _redacted(fields)))
    else:
        _write(name, message)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return _state.redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


def result(message: str, **fields: Any) -> None:
    """The command's answer, on stdout; `fields` join the JSON object (ignored in text)."""
    _emit("stdout", "INFO", message, fields)


def info(message: str, **fields: Any) -> None:
    """Progress and notes, on stderr."""
    _emit("stderr", "INFO", message, fields)


def warning(message: str, **fields: Any) -> None:
    _emit("stderr", "WARNING", message, fields)


def error(message: str, **fields: Any) -> None:
    """What went wrong, on stderr, one line (configuration errors: one line per problem)."""
    _emit("stderr", "ERROR", message, fields)


def data(text: str) -> None:
    """Output in a format the user asked for (JSON, CSV, ...): stdout, as it is."""
    _write("stdout", text)


def data_bytes(chunks: Iterable[bytes]) -> None:
    """Binary or already-encoded output (a file DuckDB wrote), copied to stdout as it is."""
    stream = sys.stdout
    stream.flush()
    target = getattr(stream, "buffer", None)
    for chunk in chunks:
        if target is not None:
            target.write(chunk)
        else:  # a text-only stream (tests): our files are UTF-8
            stream.write(chunk.decode("utf-8"))
    (target or stream).flush()


def document(obj: Any) -> None:
    """One JSON document (`status --json`): indented for a person, one line under --log-format json."""
    data(json.dumps(obj, ensure_ascii=False, default=str, indent=None if is_json() else 2))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], text_lines: Iterable[str] | None = None,
          **fields: Any) -> None:
    """A table on stdout: in text the given lines (or aligned columns); in JSON one object per row,
    its cells under `row` by column name."""
    if _state.format == JSON:
        for row in rows:
            cells = dict(zip(headers, row))
            _emit("stdout", "INFO", "  ".join("" if v is None else str(v) for v in row), {**fields, "row": cells})
        return
    lines = list(text_lines) if text_lines is not None else aligned(headers, rows)
    for line in lines:
        _emit("stdout", "INFO", line, {})


def aligned(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [list(headers), *cells]]


# ----------------------------------------------------------------------------- progress
class Progress:
    """A tqdm bar on stderr when it is a terminal and the output is text; otherwise nothing.
    While it is open, `result`/`info`/... lines are written above it."""

    def __init__(self, total: int | None, unit: str, desc: str | None = None, leave: bool = True):
        self._bar = None
        if _state.format == TEXT and sys.stderr.isatty() and _state.bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=unit, desc=desc, leave=leave, file=sys.stderr)
            _state.bar = self._bar

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            if _state.bar is self._bar:
                _state.bar = None
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress(total: int | None, unit: str, desc: str | None = None, leave: bool = True) -> Progress:
    return Progress(total, unit, desc, leave)


def relay(command: list[str]) -> int:
    """Run a helper process (the local stack's scripts); its lines come out through here like
    ours: its stdout as results, its stderr as messages. Returns its exit status."""
    import subprocess
    import threading

    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    messages = threading.Thread(target=lambda: [info(line.rstrip("\n")) for line in proc.stderr], daemon=True)
    messages.start()
    for line in proc.stdout:
        result(line.rstrip("\n"))
    messages.join()
    return proc.wait()


_PYTHON_LOG = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)$")


@contextmanager
def adopt_stderr():
    """Under JSON output, lines other writers put on file descriptor 2 - child processes such as
    Beam's SDK workers (they log "INFO:logger:message"), C libraries, Python warnings - come out
    as JSON objects too (`logger` and `level` from such a line, else `stderr`/INFO; JSON lines
    pass as they are). Without JSON output it does nothing."""
    if _state.format != JSON:
        yield
        return
    import os
    import threading

    sys.stderr.flush()
    saved = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    _state.stderr = os.fdopen(os.dup(saved), "w", encoding="utf-8", errors="replace", buffering=1)
    relay = threading.Thread(target=_relay_stray, args=(os.fdopen(read_end, encoding="utf-8", errors="replace"),),
                             daemon=True, name="stderr-relay")
    relay.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # our end of the pipe closes: the relay ends once children let go of it
        os.close(saved)
        relay.join(timeout=5)
        adopted, _state.stderr = _state.stderr, None
        adopted.close()


def _relay_stray(lines) -> None:
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line.startswith("{"):
            try:
                json.loads(line)
                _write("stderr", _state.redact(line))  # already one of ours (a run in a fresh process)
                continue
            except ValueError:
                pass
        found = _PYTHON_LOG.match(line)
        level, logger, message = found.groups() if found else ("INFO", "stderr", line)
        _write("stderr", json_line(level, logger, _state.redact(message), {"source": "stderr"}))


class _LineStream:
    """A file-like object for logging handlers: what they write goes out through `_write`."""

    def __init__(self, name: str):
        self.name = name
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            _write(self.name, line)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            line, self._pending = self._pending, ""
            _write(self.name, line)


def stream(name: str = "stderr") -> _LineStream:
    """For `logging.StreamHandler`: log records reach the terminal through this module too."""
    return _LineStream(name)
