"""Pure grouping of the pipeline's per-outlet quote rows into one statement each."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connectors.alerts.message import Alert, Link

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Statement:
    """One leadership statement and every outlet row carrying it in the batch. `fields` is the
    most confident row with `confidence` raised to the group maximum (used for rule matching)."""

    statement_id: str
    fields: Mapping
    links: tuple[Link, ...]
    first_seen: str


def link_of(row: Mapping) -> Link:
    return Link(
        url=str(row.get("url") or ""),
        feed_title=str(row.get("feed_title") or ""),
        feed_url=str(row.get("feed_url") or ""),
        published=str(row.get("published") or ""),
    )


def group_statements(rows: Iterable[Mapping]) -> list[Statement]:
    """Group leadership rows by statement_id, keeping first-appearance order of statements
    and of links (one link per distinct URL)."""
    grouped: dict[str, list[Mapping]] = {}
    for row in rows:
        if not row.get("is_leadership", True):
            continue
        statement_id = row.get("statement_id")
        if not statement_id:
            log.warning("alert input row without statement_id skipped (item %s)", row.get("item_id"))
            continue
        grouped.setdefault(str(statement_id), []).append(row)
    statements = []
    for statement_id, members in grouped.items():
        best = max(members, key=lambda r: float(r.get("confidence") or 0.0))
        links: dict[str, Link] = {}
        for link in map(link_of, members):
            if link.url and link.url not in links:
                links[link.url] = link
        # ISO 8601 UTC strings from one producer sort chronologically.
        first_seen = min((str(m["first_seen"]) for m in members if m.get("first_seen")), default="")
        fields = {**best, "confidence": float(best.get("confidence") or 0.0)}
        statements.append(Statement(statement_id, fields, tuple(links.values()), first_seen))
    return statements


def alert_for(statement: Statement, rule: str, links: tuple[Link, ...]) -> Alert:
    f = statement.fields
    return Alert(
        statement_id=statement.statement_id,
        rule=rule,
        speaker=str(f.get("speaker_name") or ""),
        role=str(f.get("speaker_role") or ""),
        country=str(f.get("speaker_country") or ""),
        text=str(f.get("text") or ""),
        first_seen=statement.first_seen,
        confidence=float(f.get("confidence") or 0.0),
        links=links,
    )
