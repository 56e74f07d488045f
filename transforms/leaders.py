"""Who holds a leadership role: from the article's own wording, else from a gazetteer.

Article roles: a title before the name ("Iran's Supreme Leader Ali Khamenei",
"President Masoud Pezeshkian") or an appositive after it ("X, the foreign
minister,"). "X, an advisor to the foreign minister" yields the role "advisor",
which is not a leadership role. "former President X" yields no current role.

Gazetteer: rows (name, aliases, role, country, from, to) loaded from
``transforms/data/leaders.yaml`` or an operator-supplied CSV/YAML with the same columns.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from spacy.tokens import Doc

from transforms.entities import Mention

DEFAULT_GAZETTEER = Path(__file__).with_name("data") / "leaders.yaml"

# Roles that make a statement a leadership statement.
LEADER_ROLES = frozenset("""
president|vice president|prime minister|premier|supreme leader|king|queen|monarch|emir|sultan|
chancellor|chancellor of the exchequer|foreign minister|foreign secretary|secretary of state|
defence minister|defense minister|defense secretary|defence secretary|finance minister|
treasury secretary|secretary of the treasury|secretary-general|secretary general|crown prince|pope|
central bank head|central bank governor|fed chair|federal reserve chair|
imf managing director|world bank president|european commission president|european council president
""".replace("\n", "").split("|"))
# Every role word sequence recognised in text (leaders and others, for "the senator" -> a person).
ARTICLE_ROLES = LEADER_ROLES | frozenset("""
senator|sen.|rep.|representative|congressman|congresswoman|governor|gov.|mayor|speaker|
house speaker|minister|secretary|spokesman|spokeswoman|spokesperson|advisor|adviser|commentator|
ambassador|chairman|chairwoman|director|candidate|nominee|nominee|analyst|professor|judge|
attorney general|general|commander|chief of staff|campaign manager|running mate|leader|
minority leader|majority leader|senior adviser|senior advisor|official|lawmaker
""".replace("\n", "").split("|"))
_FORMER = frozenset(("former", "ex", "ex-", "late", "then", "erstwhile", "outgoing"))
_DEMONYMS = {
    "iranian": "Iran", "american": "United States", "u.s.": "United States", "us": "United States",
    "russian": "Russia", "chinese": "China", "british": "United Kingdom", "french": "France",
    "german": "Germany", "israeli": "Israel", "turkish": "Turkey", "ukrainian": "Ukraine",
    "saudi": "Saudi Arabia", "japanese": "Japan", "indian": "India", "syrian": "Syria",
    "iraqi": "Iraq", "egyptian": "Egypt", "pakistani": "Pakistan", "canadian": "Canada",
    "mexican": "Mexico", "italian": "Italy", "spanish": "Spain", "brazilian": "Brazil",
    "lebanese": "Lebanon", "afghan": "Afghanistan", "palestinian": "Palestine",
    "venezuelan": "Venezuela", "korean": "Korea", "australian": "Australia", "polish": "Poland",
}


@dataclass(frozen=True)
class Role:
    role: str
    country: str | None
    is_leader: bool


@dataclass(frozen=True)
class GazetteerEntry:
    name: str
    aliases: tuple[str, ...]
    role: str
    country: str | None
    start: dt.date | None
    end: dt.date | None

    def holds_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


def _as_date(value) -> dt.date | None:
    if value in (None, "", "null"):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _aliases(value) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        value = value.replace("|", ";").split(";")
    return tuple(a.strip() for a in value if a and a.strip())


class Gazetteer:
    """Name/alias -> dated roles."""

    def __init__(self, entries: list[GazetteerEntry]):
        self.entries = entries
        self._by_name: dict[str, list[GazetteerEntry]] = {}
        for entry in entries:
            for key in {entry.name, *entry.aliases}:
                self._by_name.setdefault(key.lower(), []).append(entry)

    def lookup(self, name: str | None, day: dt.date | None = None) -> GazetteerEntry | None:
        """The role held by ``name`` on ``day`` (today when unknown)."""
        if not name:
            return None
        day = day or dt.date.today()
        for entry in self._by_name.get(name.lower(), ()):
            if entry.holds_on(day):
                return entry
        return None

    def holders(self, role: str, day: dt.date | None = None) -> list[GazetteerEntry]:
        day = day or dt.date.today()
        return [e for e in self.entries if e.role == role and e.holds_on(day)]


def _entry(row: dict) -> GazetteerEntry:
    return GazetteerEntry(
        name=str(row["name"]).strip(), aliases=_aliases(row.get("aliases")),
        role=str(row["role"]).strip().lower(), country=(row.get("country") or None),
        start=_as_date(row.get("from")), end=_as_date(row.get("to")))


def load_gazetteer(path: str | Path | None = None) -> Gazetteer:
    """Load a YAML list or a CSV (columns name, aliases, role, country, from, to; aliases ';'-separated)."""
    path = Path(path) if path else DEFAULT_GAZETTEER
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return Gazetteer([_entry(row) for row in rows])


@functools.lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    return load_gazetteer(DEFAULT_GAZETTEER)


def _match_role(words: list[str]) -> tuple[str, int] | None:
    """Longest known role that is a suffix of ``words``; returns (role, words used)."""
    for n in range(min(5, len(words)), 0, -1):
        candidate = " ".join(words[-n:])
        if candidate in ARTICLE_ROLES:
            return candidate, n
    return None


def _country_before(doc: Doc, i: int, gpe_at: dict[int, str]) -> str | None:
    """Country named just before token i: "Iran 's" or a demonym ("Iranian")."""
    if i >= 1 and doc[i].lower_ in ("'s", "\u2019s") and (i - 1) in gpe_at:
        return gpe_at[i - 1]
    if i >= 0:
        return _DEMONYMS.get(doc[i].lower_) or gpe_at.get(i)
    return None


def _title_before(doc: Doc, mention: Mention, gpe_at: dict[int, str]) -> Role | None:
    words: list[str] = []
    j = mention.tok_start - 1
    while j >= 0 and len(words) < 5:
        token = doc[j]
        if token.is_punct and token.text != "-" or token.ent_type_ in ("GPE", "NORP") and token.lower_ not in ARTICLE_ROLES:
            break
        if not (token.text[:1].isupper() or token.lower_ in ARTICLE_ROLES or token.lower_ == "of"):
            break
        words.insert(0, token.lower_)
        j -= 1
    found = _match_role(words)
    if found is None:
        return None
    role, used = found
    before = mention.tok_start - used - 1
    if before >= 0 and doc[before].lower_ in _FORMER:
        return None
    if role in ("leader", "official"):
        return None  # too vague to name a role ("opposition leader", "party official")
    return Role(role, _country_before(doc, before, gpe_at), role in LEADER_ROLES)


def _title_after(doc: Doc, mention: Mention, gpe_at: dict[int, str]) -> Role | None:
    """'X, the foreign minister,' / "X, Iran's president" (the appositive's head words only)."""
    j = mention.tok_end
    if j >= len(doc) or doc[j].text != ",":
        return None
    j += 1
    country = None
    while j < len(doc) and (doc[j].pos_ == "DET" or j in gpe_at or doc[j].lower_ in ("'s", "\u2019s")):
        if j in gpe_at:
            country = gpe_at[j]
        j += 1
    words: list[str] = []
    while j < len(doc) and len(words) < 5 and not doc[j].is_punct and (
            doc[j].pos_ not in ("ADP", "VERB", "AUX", "PRON", "SCONJ", "CCONJ") or doc[j].lower_ == "of"):
        words.append(doc[j].lower_)
        j += 1
    if words and words[0] in _FORMER:
        return None
    found = _match_role(words)
    if found is None or found[1] != len(words) and words[-1] != "of":
        return None
    role = found[0]
    if country is None and len(words) > found[1]:
        country = _DEMONYMS.get(words[0])
    return Role(role, country, role in LEADER_ROLES)


def article_roles(doc: Doc, mentions: list[Mention]) -> dict[str, Role]:
    """canonical PERSON name -> the first role the article gives that person."""
    gpe_at: dict[int, str] = {}
    for m in mentions:
        if m.label == "GPE":
            for k in range(m.tok_start, m.tok_end):
                gpe_at[k] = m.canonical
    roles: dict[str, Role] = {}
    for m in mentions:
        if m.label != "PERSON" or m.canonical in roles:
            continue
        role = _title_before(doc, m, gpe_at) or _title_after(doc, m, gpe_at)
        if role is not None:
            roles[m.canonical] = role
    return roles


def speaker_role(name: str | None, roles: dict[str, Role], gazetteer: Gazetteer,
                 day: dt.date | None) -> Role | None:
    """Role of a resolved speaker: the gazetteer on the article date, else the article's wording."""
    if not name:
        return None
    article = roles.get(name)
    entry = gazetteer.lookup(name, day)
    if entry is not None:
        country = entry.country or (article.country if article else None)
        return Role(entry.role, country, entry.role in LEADER_ROLES)
    if article is not None:
        return article
    return None
