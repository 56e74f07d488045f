"""Process-wide logging: human text or JSON lines, with secrets redacted from every record.

Redaction is by value, not by pattern: the set of secret strings (from the environment and the
configuration, see `secret_values`) is replaced wherever it appears, in the message, its
arguments, extra fields and tracebacks, because a secret can leak through any of them (an
exception text quoting a URL with a token, a config dump at debug level ...).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Mapping, TextIO

from connectors import console

REDACTED = "***"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
# An access key *ID* names a key, like a user name (AWS_ACCESS_KEY_ID, s3.access_key_id): useless
# without the secret, and locally it is "newsbeam", the bucket's name too, which every line
# would otherwise show as ***.
NOT_SECRET_NAME = re.compile(r"KEY_?ID$", re.IGNORECASE)
# Shorter values are too likely to occur in ordinary text ("1", "true") to be replaced safely.
MIN_SECRET_LENGTH = 6
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def secret_values(environ: Mapping[str, str] | None = None, config: Any = None) -> set[str]:
    """Values to redact: environment variables whose names contain SECRET, PASSWORD, TOKEN or KEY
    (not KEY_ID);
    config fields with such names (pydantic SecretStr included); the variables alert sinks name
    in `*_env` (webhook secret, SMTP password); alert sink URLs (Slack keeps its token there)."""
    environ = environ or {}
    found = {v for k, v in environ.items() if _secret_name(k)}
    if config is not None:
        data = config.model_dump() if hasattr(config, "model_dump") else config
        found |= _secrets_in(data, environ)
        for sink in (data.get("alerts") or {}).get("sinks") or []:
            if isinstance(sink, dict) and isinstance(sink.get("url"), str):
                found.add(sink["url"])
    return {v for v in found if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}


def _secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET_NAME.search(name)


def _secrets_in(node: Any, environ: Mapping[str, str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            key = str(key)
            if hasattr(value, "get_secret_value"):
                value = value.get_secret_value()
            if isinstance(value, str):
                if key.endswith("_env"):  # names the variable holding the secret, is none itself
                    if value in environ:
                        found.add(environ[value])
                elif key.endswith("_file"):  # a path to the secret (the sink reads it), not a secret
                    continue
                elif _secret_name(key):
                    found.add(value)
            else:
                found |= _secrets_in(value, environ)
    elif isinstance(node, (list, tuple)):
        for item in node:
            found |= _secrets_in(item, environ)
    return found


class Redactor:
    """str -> str with every known secret replaced; longest first so a secret that contains
    another is replaced whole."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value


class RedactSecrets(logging.Filter):
    """Handler filter: renders the message, traceback and extras with secrets replaced, before
    any formatter sees them."""

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redact = redactor
        self._tb = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tb.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key in set(vars(record)) - _STANDARD_ATTRS:
            setattr(record, key, self.redact.value(getattr(record, key)))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, then any `extra=` fields, and
    `exc` with the traceback when there is one (the shape of every JSON line, connectors/console.py)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {key: getattr(record, key) for key in sorted(set(vars(record)) - _STANDARD_ATTRS)}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields["exc"] = record.exc_text
        if record.stack_info:
            fields["stack"] = record.stack_info
        return console.json_line(record.levelname, record.name, record.getMessage(), fields, record.created)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(fmt: str = "text", level: int | str = "INFO", secrets: Iterable[str] = (),
                      stream: TextIO | None = None) -> logging.Handler:
    """Route the root logger to one handler on `stream` (stderr through connectors/console.py by
    default) in `fmt` ("text" or "json"), redacting `secrets`; the command's own lines
    (connectors/console.py) take the same format and redaction. Calling it again replaces the
    handler it installed before (and keeps the redaction when no secrets are given)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")
    redactor = Redactor(secrets)
    console.configure(fmt, redact=redactor if redactor.secrets else None)
    handler = logging.StreamHandler(stream or console.stream("stderr"))
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(redactor))
    handler._newsbeam = True  # marks our handler, so a second call does not stack another
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_newsbeam", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler
