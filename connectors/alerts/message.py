"""The alert record and its renderings (Slack, generic JSON, e-mail). Pure functions only."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

# Slack rejects section texts over 3000 characters; list this many links, then "and N more".
MAX_LINKS_SHOWN = 15


@dataclass(frozen=True)
class Link:
    url: str
    feed_title: str = ""
    feed_url: str = ""
    published: str = ""


@dataclass(frozen=True)
class Alert:
    statement_id: str
    rule: str
    speaker: str
    role: str
    country: str
    text: str
    first_seen: str
    confidence: float = 0.0
    links: tuple[Link, ...] = field(default_factory=tuple)

    @property
    def idempotency_key(self) -> str:
        return f"{self.statement_id}:{self.rule}"

    @property
    def outlets(self) -> list[str]:
        """Distinct outlet names carrying the statement, in first-seen order."""
        return list(dict.fromkeys(link.feed_title or link.feed_url for link in self.links))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Alert":
        links = tuple(Link(**link) for link in data.get("links", ()))
        return cls(**{**data, "links": links})


def speaker_label(alert: Alert) -> str:
    """"Jane Doe (Prime Minister, NZ)" with the empty parts left out."""
    details = ", ".join(part for part in (alert.role, alert.country) if part)
    return f"{alert.speaker} ({details})" if details else alert.speaker


def message_id(idempotency_key: str, domain: str = "newsbeam.alerts") -> str:
    """A stable RFC 5322 Message-ID, so a re-sent e-mail can at least be threaded/deduped by clients."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def _slack_escape(text: str) -> str:
    # Slack mrkdwn control characters; everything else is literal.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(link: Link) -> str:
    label = _slack_escape(link.feed_title or link.feed_url or link.url)
    url = link.url.replace("|", "%7C").replace(">", "%3E")
    return f"<{url}|{label}>"


def slack_payload(alert: Alert) -> dict:
    """Incoming-webhook body: `text` is the notification fallback, `blocks` the rich layout."""
    who = _slack_escape(speaker_label(alert))
    quote = _slack_escape(alert.text)
    shown = alert.links[:MAX_LINKS_SHOWN]
    link_lines = [f"• {_slack_link(link)}" for link in shown]
    if len(alert.links) > len(shown):
        link_lines.append(f"…and {len(alert.links) - len(shown)} more")
    outlets = len(alert.outlets)
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{who}*\n>{quote}"[:3000]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": _slack_escape(
                        f"rule {alert.rule} · first seen {alert.first_seen} · "
                        f"{outlets} outlet{'s' if outlets != 1 else ''}"
                    ),
                }
            ],
        },
    ]
    if link_lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(link_lines)[:3000]}})
    return {"text": f"New statement by {who}: “{quote}”", "blocks": blocks}


def json_body(alert: Alert, sent_at: str) -> dict:
    """Generic webhook / Kafka value. `sent_at` sits inside the signed body so receivers can
    reject replays of old deliveries."""
    return {
        "type": "newsbeam.leadership_statement",
        "idempotency_key": alert.idempotency_key,
        "statement_id": alert.statement_id,
        "rule": alert.rule,
        "speaker": {"name": alert.speaker, "role": alert.role, "country": alert.country},
        "text": alert.text,
        "confidence": alert.confidence,
        "first_seen": alert.first_seen,
        "outlets": alert.outlets,
        "links": [asdict(link) for link in alert.links],
        "sent_at": sent_at,
    }


def email_subject(alert: Alert) -> str:
    return f"[newsbeam] {speaker_label(alert)}: new statement ({alert.rule})"


def email_body(alert: Alert) -> str:
    lines = [
        f"{speaker_label(alert)} said:",
        "",
        f"  “{alert.text}”",
        "",
        f"Rule: {alert.rule}",
        f"First seen: {alert.first_seen}",
        f"Carried by {len(alert.outlets)} outlet(s):",
    ]
    lines += [f"  - {link.feed_title or link.feed_url}: {link.url}" for link in alert.links]
    lines += ["", f"Statement id: {alert.statement_id}"]
    return "\n".join(lines) + "\n"
