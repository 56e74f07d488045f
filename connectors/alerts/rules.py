"""Pure rule matching: which alert rules a leadership statement satisfies."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from connectors.alerts.config import AlertRule

_WORD = re.compile(r"\w+")


def tokens(text: str | None) -> tuple[str, ...]:
    """Case- and accent-insensitive word tokens ("Lula da Silva" == "lula da silva", "Łukasz")."""
    if not text:
        return ()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(_WORD.findall(stripped.casefold()))


def contains_phrase(haystack: Sequence[str], phrase: Sequence[str]) -> bool:
    """True when `phrase` occurs as consecutive whole tokens of `haystack`.

    Whole tokens so that the alias "Li" does not fire on "Lin" and "war" not on "award"."""
    n = len(phrase)
    if n == 0 or n > len(haystack):
        return False
    return any(tuple(haystack[i : i + n]) == tuple(phrase) for i in range(len(haystack) - n + 1))


def _any_phrase(field_tokens: Sequence[str], phrases: Iterable[str]) -> bool:
    return any(contains_phrase(field_tokens, tokens(p)) for p in phrases)


def rule_matches(statement: Mapping, rule: AlertRule) -> bool:
    if not statement.get("is_leadership", True):
        return False
    if float(statement.get("confidence") or 0.0) < rule.min_confidence:
        return False
    if rule.leaders and not _any_phrase(tokens(statement.get("speaker_name")), rule.leaders):
        return False
    if rule.roles and not _any_phrase(tokens(statement.get("speaker_role")), rule.roles):
        return False
    # Countries are codes or names; compare whole values, not phrases ("Niger" != "Nigeria").
    if rule.countries and tokens(statement.get("speaker_country")) not in {tokens(c) for c in rule.countries}:
        return False
    if rule.keywords and not _any_phrase(tokens(statement.get("text")), rule.keywords):
        return False
    return True


def matching_rules(statement: Mapping, rules: Iterable[AlertRule]) -> list[str]:
    """Names of the rules `statement` matches, in configuration order."""
    return [rule.name for rule in rules if rule_matches(statement, rule)]
