"""`FeedItem`: the Kafka wire record, one per feed entry, and its rules, in one place.

Everything about the record is declared here and only here: the fields, their types and forms,
what each means, the sane window for its dates. The poller builds FeedItems
(connectors/feeds/normalizer.py); the run decodes them with `FeedItem.from_dict` and `sane_dates`
(transforms/decode.py); the JSON schema for other producers and consumers,
connectors/feeds/feed_item.schema.json, is generated from this module
(`python -m connectors.feeds.item --write`; a test fails when the checked-in file differs).

Dates travel as `YYYY-MM-DDTHH:MM:SSZ` (UTC, four-digit year). A date must also fall inside
the sane window `[EARLIEST, reference + MAX_AHEAD]`: a `published` or `updated` outside it is
treated as missing (a feed's typo or placeholder, e.g. 0001-01-01, must not become a partition
or a crash); a `fetched_at` outside it is the poller's own clock gone wrong, and the record is
rejected with the reason (docs/schema.md).
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("feed_item.schema.json")

# The sane window for every date of the record.
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
MAX_AHEAD = timedelta(days=1)

TIMESTAMP_EXAMPLE = "2025-01-28T10:00:00Z"
# Calendar-shaped, UTC ("Z"), whole seconds: what `iso_utc` writes.
TIMESTAMP_PATTERN = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                     r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$")
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


class InvalidFeedItem(ValueError):
    """A record that is not a valid FeedItem; the message names every field at fault."""


@dataclass(frozen=True)
class Rule:
    """The wire rule of one field: its kind, whether null is allowed, whether it may be empty."""

    kind: str            # "string" | "timestamp" | "strings" | "boolean" | "version"
    description: str = ""
    nullable: bool = False
    non_empty: bool = False
    optional: bool = False  # may be absent from the record (then None); never written as null


def _wire(kind: str, description: str = "", *, nullable: bool = False, non_empty: bool = False,
          optional: bool = False, **kw):
    return field(metadata={"wire": Rule(kind, description, nullable, non_empty, optional)}, **kw)


@dataclass(frozen=True)
class FeedItem:
    item_id: str = _wire("string", "stable id scoped by the feed (connectors/feeds/identity.py): "
                         "'<basis>:' + 32 hex of SHA-256 over the configured feed URL, the basis and "
                         "its key; basis 'guid' (a sane GUID: at most 1024 characters, not the feed URL, "
                         "not shared by another entry of the document), else 'link' (the canonical link "
                         "when no other entry of the document has it), else 'content' (title, date, "
                         "summary and content). Records produced before this scheme carry the raw GUID, "
                         "link or 'h:' hash", non_empty=True)
    url: str = _wire("string", "canonical URL: scheme/host lowercased, default port, fragment and "
                     "tracking parameters removed; '' when the entry has no link")
    title: str = _wire("string", "entry title as one line of text; '' when the entry has none")
    summary_html: str = _wire("string", "sanitised HTML (no scripts, styles, event handlers)")
    summary_text: str = _wire("string", "plain text, paragraphs separated by a blank line")
    content_html: str = _wire("string", "full content from the feed or the full-text fetch, else ''")
    content_text: str = _wire("string", "plain text of content_html")
    authors: list[str] = _wire("strings", "entry authors")
    tags: list[str] = _wire("strings", "entry categories")
    published: str = _wire("timestamp", "UTC; the fetch time when published_missing")
    updated: str | None = _wire("timestamp", "UTC, or null", nullable=True)
    published_missing: bool = _wire("boolean", "true when the feed gave no (sane) date and "
                                    "published is the fetch time")
    language: str | None = _wire("string", "language tag from the entry or feed, e.g. 'en-gb'",
                                 nullable=True)
    feed_url: str = _wire("string", "the feed's configured URL", non_empty=True)
    feed_title: str = _wire("string", "the feed's title")
    fetched_at: str = _wire("timestamp", "UTC time the poller fetched the feed")
    schema_version: int = _wire("version", "version of this record's layout",
                                default=SCHEMA_VERSION)
    # Only on a dead-letter stub (connectors/kafka_producer.py): the entry could not be produced
    # as it is; the stub keeps its identity with the texts emptied, and the run writes it to
    # `rejects` at stage `poll` with this reason instead of making an article of it.
    reject_reason: str | None = _wire(
        "string", "only on a dead-letter stub (an entry that could not be produced as it is, e.g. "
        "too large for Kafka; its texts are emptied): the reason, which the run writes to rejects "
        "at stage 'poll'; absent from ordinary records", non_empty=True, optional=True, default=None)

    def to_dict(self) -> dict:
        data = asdict(self)
        for name, rule in RULES.items():
            if rule.optional and data[name] is None:
                del data[name]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict) -> "FeedItem":
        """Strict inverse of `to_dict`: raises InvalidFeedItem naming every field at fault
        (missing, unknown, wrong type or form)."""
        if not isinstance(data, dict):
            raise InvalidFeedItem(f"value is a JSON {_json_type(data)}, expected an object")
        problems = wire_problems(data)
        if problems:
            raise InvalidFeedItem("; ".join(problems))
        return cls(**{k: list(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str | bytes) -> "FeedItem":
        return cls.from_dict(json.loads(text))


RULES: dict[str, Rule] = {f.name: f.metadata["wire"] for f in fields(FeedItem)}


# ----------------------------------------------------------------------------- validation
def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return {list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_timestamp(value: str) -> datetime | None:
    """The wire form -> aware UTC datetime; None when it is not that form (or no such day)."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):  # "$" alone allows a final "\n"
        return None
    try:  # the pattern fixed the shape; fromisoformat (C, unlike strptime) checks the day exists
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
    except ValueError:  # 2025-02-30: the right shape, no such day
        return None


def iso_utc(moment: datetime) -> str:
    """`2025-01-28T10:00:00Z`; formatted by hand because strftime does not zero-pad tiny years."""
    m = moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def _problem(name: str, rule: Rule, value) -> str | None:
    if value is None:
        return None if rule.nullable else f"field {name!r} is null, expected {_expected(rule)}"
    kind = rule.kind
    if kind == "version":
        if isinstance(value, bool) or not isinstance(value, int) or value != SCHEMA_VERSION:
            return (f"schema_version {_short(value)} not supported (expected {SCHEMA_VERSION}; "
                    "upgrade the run before the poller)")
        return None
    expected_type = {"string": str, "timestamp": str, "strings": list, "boolean": bool}[kind]
    if not isinstance(value, expected_type):
        return f"field {name!r} is a {_json_type(value)}, expected {_expected(rule)}"
    if kind == "strings":
        for i, v in enumerate(value):
            if not isinstance(v, str):
                return f"field {name!r} item {i} is a {_json_type(v)}, expected a string"
            if not _is_text(v):
                return f"field {name!r} item {i} holds an unpaired surrogate (e.g. \\ud800), not text"
    elif isinstance(value, str) and not _is_text(value):
        return f"field {name!r} holds an unpaired surrogate (e.g. \\ud800), not text"
    if rule.non_empty and value == "":
        return f"field {name!r} is empty, expected a non-empty string"
    if kind == "timestamp" and parse_timestamp(value) is None:
        return (f"field {name!r} is {_short(value)}, expected an ISO 8601 UTC timestamp like "
                f"{TIMESTAMP_EXAMPLE}")
    return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def as_text(value: str) -> str:
    """`value` with every unpaired surrogate replaced by U+FFFD: how a producer makes a string
    decoded from JSON (which may escape half a pair) valid for the wire record."""
    return _LONE_SURROGATE.sub("\ufffd", value)


def _is_text(value: str) -> bool:
    """JSON can escape half a UTF-16 pair ("\\ud800"); such a string has no UTF-8 form, so no
    Parquet column (or text cleaner) can take it."""
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _expected(rule: Rule) -> str:
    base = {"string": "a string", "timestamp": f"a timestamp like {TIMESTAMP_EXAMPLE}",
            "strings": "an array of strings", "boolean": "true or false",
            "version": f"{SCHEMA_VERSION}"}[rule.kind]
    return base + (" or null" if rule.nullable else "")


def wire_problems(data: dict) -> list[str]:
    """Every way `data` breaks the wire rules (empty: it is a valid FeedItem dict)."""
    # The version first and alone: a record of another version has other fields.
    version = _problem("schema_version", RULES["schema_version"], data.get("schema_version"))
    if version:
        return [version]
    problems = []
    missing = [n for n, rule in RULES.items() if n not in data and not rule.optional]
    unknown = sorted(k for k in data if k not in RULES)
    if missing:
        problems.append(f"missing field(s) {', '.join(map(repr, missing))}")
    if unknown:
        problems.append(f"unknown field(s) {', '.join(repr(k)[:60] for k in unknown)}")
    for name, rule in RULES.items():
        if name in data:
            p = _problem(name, rule, data[name])
            if p:
                problems.append(p)
    return problems


# ----------------------------------------------------------------------------- dates
def in_window(moment: datetime | None, reference: datetime) -> bool:
    """Inside the sane window: not before EARLIEST, not more than MAX_AHEAD after `reference`."""
    return moment is not None and EARLIEST <= moment <= reference + MAX_AHEAD


def sane_dates(published: datetime | None, updated: datetime | None,
               fetched_at: datetime) -> tuple[datetime, datetime | None, bool]:
    """(published, updated, published_missing) with dates outside the window dropped.

    `published` falls back to `updated` (some Atom feeds only carry <updated>), then to the
    fetch time, which is then flagged as missing. Used by the poller on what a feed says and by
    the run on what a record says, so both apply one rule."""
    updated = updated if in_window(updated, fetched_at) else None
    published = published if in_window(published, fetched_at) else None
    chosen = published or updated
    return (chosen or fetched_at), updated, chosen is None


# ----------------------------------------------------------------------------- JSON schema
def json_schema() -> dict:
    """The JSON schema (draft 2020-12) of the record, derived from the rules above."""
    props = {}
    for name, rule in RULES.items():
        if rule.kind == "version":
            prop = {"type": "integer", "const": SCHEMA_VERSION}
        elif rule.kind == "strings":
            prop = {"type": "array", "items": {"type": "string"}}
        elif rule.kind == "boolean":
            prop = {"type": "boolean"}
        else:
            prop = {"type": "string"}
            if rule.kind == "timestamp":
                # the length too: some regex engines let "$" match before a final newline
                prop.update(pattern=TIMESTAMP_PATTERN, format="date-time",
                            minLength=len(TIMESTAMP_EXAMPLE), maxLength=len(TIMESTAMP_EXAMPLE))
            if rule.non_empty:
                prop["minLength"] = 1
        if rule.nullable:
            prop["type"] = [prop["type"], "null"]
        if rule.description:
            prop["description"] = rule.description
        props[name] = prop
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://newsbeam.invalid/schemas/feed_item.schema.json",
        "title": "FeedItem",
        "description": (
            "One feed entry as produced to Kafka topic newsbeam.items (key = item_id, value = this "
            "JSON object, UTF-8). Generated from connectors/feeds/item.py. Beyond this schema the "
            f"run applies one rule on dates: a date before {EARLIEST:%Y-%m-%d} or more than "
            f"{MAX_AHEAD.days} day after its reference is outside the sane window; published/updated "
            "outside it are treated as missing, a fetched_at outside it rejects the record; a date "
            "must exist (no 2025-02-30); and strings must be text (no unpaired surrogate escapes "
            "such as \\ud800)."),
        "type": "object",
        "additionalProperties": False,
        "required": [name for name, rule in RULES.items() if not rule.optional],
        "properties": props,
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """python -m connectors.feeds.item [--write]: print (or rewrite) feed_item.schema.json."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    elif not args:
        sys.stdout.write(schema_text())
    else:
        print("usage: python -m connectors.feeds.item [--write]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
