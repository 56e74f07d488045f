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

from transforms.entities import ORG_NOUNS, Mention
from transforms.quotes import tokens_with_lower

DEFAULT_GAZETTEER = Path(__file__).with_name("data") / "leaders.yaml"
PLACES = Path(__file__).with_name("data") / "places.yaml"

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
minority leader|majority leader|senior adviser|senior advisor|official|lawmaker|
chief|head|managing director|director-general|director general|chair|chief executive|ceo|
high commissioner|commissioner|spokesperson|foreign affairs minister|minister of foreign affairs|
minister of finance|minister of defence|minister of defense|economy minister|trade minister|
interior minister|justice minister|health minister|energy minister|deputy prime minister|
chief economist|governor of the central bank|central bank chief
""".replace("\n", "").split("|"))
# Heads of an international body (IMF, UN, NATO...) are leaders whatever their title word.
BODY_HEAD_ROLES = frozenset("""chief|head|managing director|director-general|director general|
secretary-general|secretary general|president|chair|chairman|chairwoman|governor|
high commissioner|leader""".replace("\n", "").split("|"))
# Leader titles that companies, universities, parties and NGOs use too ("Microsoft Vice President
# X", "X, president and CEO of the Chamber of Commerce", "LDP secretary-general X"). One of them
# names a leader only with a country or an international body, or standing bare before a name
# ("President X", the gazetteer then says who); qualified by anything else, it is that
# organisation's title. Titles no organisation has (prime minister, supreme leader) need neither.
SHARED_TITLES = frozenset("president|vice president|chancellor|secretary-general|secretary general".split("|"))
# Words before a title that put its holding in the past ("assassinated President Ziaur Rahman",
# "ousted Prime Minister Sheikh Hasina").
_FORMER = frozenset(("former", "formerly", "ex", "ex-", "late", "then", "erstwhile", "outgoing", "assassinated",
                     "slain", "murdered", "deceased", "deposed", "ousted", "toppled", "overthrown", "exiled"))
# A word right before a title that makes it a rank below it: a "Deputy Secretary of State" or a
# "shadow chancellor" is not the secretary of state or the chancellor. (A deputy role of its own,
# "deputy prime minister", is matched whole first.)
_SUBORDINATE = frozenset(("deputy", "assistant", "associate", "junior", "shadow", "vice"))
_PLACES = yaml.safe_load(PLACES.read_text(encoding="utf-8"))
_DEMONYMS: dict[str, str] = _PLACES["demonyms"]
# lower-cased alias -> canonical body name ("imf" -> "International Monetary Fund")
INTERNATIONAL_BODIES: dict[str, str] = _PLACES["international_bodies"]
_MAX_BODY_WORDS = max(len(k.split()) for k in INTERNATIONAL_BODIES)


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


def _joined_words(tokens) -> tuple[list[str], list[int]]:
    """Lower-cased words with hyphenated pieces joined ("Secretary", "-", "General" ->
    "secretary-general"), and how many tokens each word took."""
    words: list[str] = []
    sizes: list[int] = []
    previous = None
    for t in tokens:
        attached = previous is not None and previous.idx + len(previous) == t.idx
        previous = t
        if words and attached and (t.text == "-" or words[-1].endswith("-")):
            words[-1] += t.lower_
            sizes[-1] += 1
        else:
            words.append(t.lower_)
            sizes.append(1)
    return words, sizes


# Abbreviated titles and the role they stand for ("Gov. Christie" and "the governor" are one role).
_ROLE_ABBREVIATIONS = {"gov.": "governor", "sen.": "senator", "rep.": "representative"}


def role_head(role: str) -> str:
    """Last word of a role, abbreviations spelt out: "gov." -> "governor", "prime minister" -> "minister"."""
    head = role.split()[-1]
    return _ROLE_ABBREVIATIONS.get(head, head)


# The last word of every role: a phrase can end in a role only if its last word is one of these.
_ROLE_LAST_WORDS = frozenset(role.rpartition(" ")[2] for role in ARTICLE_ROLES)


def _match_role(words: list[str]) -> tuple[str, int] | None:
    """Longest known role that is a suffix of ``words``; returns (role, words used)."""
    if not words or words[-1].rpartition(" ")[2] not in _ROLE_LAST_WORDS:  # most phrases: one test
        return None
    for n in range(min(5, len(words)), 0, -1):
        candidate = " ".join(words[-n:])
        if candidate in ARTICLE_ROLES:
            return candidate, n
    return None


def _body_in(tokens) -> str | None:
    """The international body whose head a title names: one named last in ``tokens`` ("IMF",
    "the United Nations", "the IMF's"), longest first. A word after it names a part of the body
    and its own chief ("the European Commission's tech chief", "the UN refugee agency")."""
    texts = [t.text for t in tokens]
    for i in range(len(texts)):
        if not texts[i][:1].isupper():
            continue
        for n in range(min(_MAX_BODY_WORDS, len(texts) - i), 0, -1):
            key = " ".join(texts[i:i + n]).lower()
            if key in INTERNATIONAL_BODIES:
                if all(t in ("'s", "\u2019s") or not t.isalnum() for t in texts[i + n:]):
                    return INTERNATIONAL_BODIES[key]
                break
    return None


def _place_in(doc: Doc, tokens, gpe_at: dict[int, str]) -> str | None:
    """A country in a role phrase: a GPE mention ("Kenya's"), else a demonym ("Spanish", "South African")."""
    for t in tokens:
        if t.i in gpe_at:
            return gpe_at[t.i]
    words = [t.lower_ for t in tokens]
    for i in range(len(words)):
        for n in (2, 1):
            key = " ".join(words[i:i + n])
            if i + n <= len(words) and key in _DEMONYMS:
                return _DEMONYMS[key]
    return None


def role_of_phrase(doc: Doc, tokens, gpe_at: dict[int, str], continued: bool = False) -> Role | None:
    """The role a title phrase names, with its country or international body.

    ``continued``: the title goes on past the phrase ("a senior vice president at X",
    "president and CEO of X"): a shared title is then that organisation's.

    "Spanish Prime Minister", "Kenya's finance minister", "the chief of the International
    Monetary Fund", "IMF chief", "president of Brazil". A head of an international body is
    a leader whatever the title word; "former"/"ex-" phrases name no current role.
    """
    tokens = [t for t in tokens if not t.is_space]
    while tokens and (tokens[-1].is_punct or tokens[-1].lower_ in ("'s", "\u2019s")):
        tokens = tokens[:-1]
    words, sizes = _joined_words(tokens)
    if len(words) != len(tokens):  # keep one token per word below: re-split on the joined words
        merged = []
        k = 0
        for size in sizes:
            merged.append(tokens[k + size - 1])
            k += size
        tokens = merged
    if not words or any(w in _FORMER for w in words):
        return None
    found = _match_role(words)
    rest_tokens = tokens[:len(words) - found[1]] if found else []
    of_what = False
    if found is None and "of" in words:
        k = words.index("of")
        found = _match_role(words[:k])
        if found is None or found[1] != k - sum(1 for w in words[:k - found[1]] if w in _DETERMINER_WORDS):
            return None
        rest_tokens = tokens[:k - found[1]] + tokens[k + 1:]
        of_what = True
    if found is None:
        return None
    role_end = k if of_what else len(words)  # the role's words end here
    if role_end > found[1] and words[role_end - found[1] - 1] in _SUBORDINATE:
        return None
    role = found[0]
    body = _body_in(rest_tokens)
    if body is not None and (role in BODY_HEAD_ROLES or role in LEADER_ROLES):
        return Role(role, body, True)
    place = _place_in(doc, rest_tokens, gpe_at)
    # "vice president of communications", "the president of the chamber", "Microsoft's president"
    return Role(role, place, _leads(
        role, place, lambda: of_what or continued or _names_an_organisation(rest_tokens)))


_DETERMINER_WORDS = frozenset(("the", "a", "an"))
# Last words of the roles: a subject phrase can only name a role if its head is one of them.
_ROLE_HEADS = frozenset(role.split()[-1] for role in ARTICLE_ROLES) | {"head", "chief"}


def _country_before(doc: Doc, i: int, gpe_at: dict[int, str]) -> str | None:
    """Country named just before token i: "Iran 's" or a demonym ("Iranian")."""
    if i >= 1 and doc[i].lower_ in ("'s", "\u2019s") and (i - 1) in gpe_at:
        return gpe_at[i - 1]
    if i >= 0:
        return _DEMONYMS.get(doc[i].lower_) or gpe_at.get(i)
    return None


def _former_before(doc: Doc, i: int) -> bool:
    """Whether the title ending before token i+1 is a past one: "former" just before it or before
    its country ("Former U.K. Prime Minister Tony Blair", "the ex-Brazilian president")."""
    for j in range(i, max(-1, i - 5), -1):
        token = doc[j]
        if token.lower_ in _FORMER:
            return True
        if not (token.ent_type_ in ("GPE", "NORP") or token.lower_ in ("'s", "\u2019s", "-", "the")):
            return False
    return False


def _title_before(doc: Doc, mention: Mention, gpe_at: dict[int, str]) -> Role | None:
    """"Iran's Supreme Leader Ali Khamenei", "IMF chief Kristalina Georgieva"."""
    tokens: list = []
    j = mention.tok_start - 1
    while j >= 0 and len(tokens) < 7:
        token = doc[j]
        if token.is_punct and token.text != "-" or token.ent_type_ in ("GPE", "NORP") and token.lower_ not in ARTICLE_ROLES:
            break
        if not (token.text[:1].isupper() or token.lower_ in ARTICLE_ROLES or token.lower_ in ("of", "-")):
            break
        tokens.insert(0, token)
        j -= 1
    if not tokens:  # most names: no capitalised or title word before them
        return None
    words, sizes = _joined_words(tokens)
    found = _match_role(words)
    if found is None:
        return None
    role, used_words = found
    used = sum(sizes[len(sizes) - used_words:])
    before = mention.tok_start - used - 1
    if _former_before(doc, before) or before >= 0 and doc[before].lower_ in _SUBORDINATE:
        return None
    qualifiers = tokens[:len(tokens) - used]  # "Microsoft Corporate" of "Microsoft Corporate Vice President"
    body = _body_in(qualifiers)
    if body is not None and (role in BODY_HEAD_ROLES or role in LEADER_ROLES):
        return Role(role, body, True)
    if role in ("leader", "official", "chief", "head"):
        return None  # too vague to name a role ("opposition leader", "party official")
    country = _country_before(doc, before, gpe_at)
    return Role(role, country, _leads(role, country, lambda: _names_an_organisation(qualifiers)))


def _leads(role: str, place: str | None, of_an_organisation) -> bool:
    """Whether a title names a leader: a shared title needs its country unless nothing else
    qualifies it (SHARED_TITLES). ``of_an_organisation`` is asked only for a shared title
    without a place."""
    return role in LEADER_ROLES and not (place is None and role in SHARED_TITLES and of_an_organisation())


def _names_an_organisation(tokens) -> bool:
    """A proper name or an organisation among a title's qualifiers ("Microsoft", "LDP", "UCLA",
    "the company's")."""
    return any(t.ent_type_ in ("ORG", "FAC") or t.pos_ == "PROPN" or t.lower_ in ORG_NOUNS for t in tokens)


def _phrase_tokens(doc: Doc, j: int, step: int, limit: int = 12) -> list:
    """Tokens of an appositive role phrase from j in direction step, up to a comma or clause word."""
    out = []
    while 0 <= j < len(doc) and len(out) < limit:
        t = doc[j]
        if t.text in (",", ";", ":", "(", ")") or t.is_sent_start and step > 0 and out or t.text == "\n":
            break
        if t.is_quote:
            break  # 'to beat Hillary Clinton," the governor said': a quote mark ends the apposition
        if t.pos_ in ("VERB", "AUX", "PRON", "SCONJ", "CCONJ") or t.pos_ == "ADP" and t.lower_ != "of":
            break  # "an advisor to the foreign minister" names the role "advisor"
        out.append(t)
        if step < 0 and t.is_sent_start:
            break
        j += step
    return out[::-1] if step < 0 else out


def _title_after(doc: Doc, mention: Mention, gpe_at: dict[int, str]) -> Role | None:
    """'X, the foreign minister,' / "X, Iran's president" / "X, the head of the IMF,"."""
    j = mention.tok_end
    if j >= len(doc) or doc[j].text != ",":
        return None
    tokens = _phrase_tokens(doc, j + 1, 1)
    if not tokens:
        return None
    after = tokens[-1].i + 1
    if after < len(doc) and doc[after].pos_ in ("VERB", "AUX") and any(
            t.dep_ in ("nsubj", "nsubjpass") and t.head.i >= after for t in tokens):
        return None  # "According to X, the President could ...": the next clause's subject, no apposition
    continued = after < len(doc) and doc[after].pos_ in ("ADP", "CCONJ") and doc[after].lower_ != "of"
    role = role_of_phrase(doc, tokens, gpe_at, continued)
    if role is None:
        return None
    # The phrase must be a title of the person, not "X, an advisor to the foreign minister".
    return role


def _title_appositive_before(doc: Doc, mention: Mention, gpe_at: dict[int, str]) -> Role | None:
    """"Brazil's president, Luiz Inacio Lula da Silva, said" / "The head of the IMF, X, warned"."""
    j = mention.tok_start - 1
    if j < 1 or doc[j].text != ",":
        return None
    end = mention.tok_end
    if end < len(doc) and doc[end].text not in (",", ")") and doc[end].pos_ not in ("VERB", "AUX", "PUNCT"):
        return None
    tokens = _phrase_tokens(doc, j - 1, -1)
    if not tokens:
        return None
    return role_of_phrase(doc, tokens, gpe_at)


def _lede_role_holders(doc: Doc, mentions: list[Mention], gpe_at: dict[int, str],
                       roles: dict[str, Role]) -> None:
    """"The chief of the International Monetary Fund warned on Tuesday ... Kristalina Georgieva
    told reporters": a role phrase as the subject of a sentence, and the next person the article
    names (in that sentence or the next, outside the role holder's own clause) as a subject, with
    no role of their own, are one person."""
    persons = [m for m in mentions if m.label == "PERSON"]
    if not any(m.is_subject and m.canonical not in roles for m in persons):
        return  # no one a role phrase could be given to (a quarter of articles): no need to find the phrases
    for token in tokens_with_lower(doc, _ROLE_HEADS):
        if token.dep_ not in ("nsubj", "nsubjpass") or token.pos_ != "NOUN" or (
                token.ent_type_):
            continue
        phrase = [t for t in token.subtree if t.i <= token.right_edge.i]
        role = role_of_phrase(doc, phrase, gpe_at) if len(phrase) <= 10 else None
        if role is None or not role.is_leader or role.country is None:
            continue  # only a qualified title ("the chief of the IMF", "Kenya's finance minister")
        # End of the next sentence (Token.sent would scan the whole doc).
        limit, ends = token.i + 1, 0
        while limit < len(doc) and ends < 2:
            if doc[limit].is_sent_start:
                ends += 1
                if ends == 2:
                    break
            limit += 1
        # Who the role holder's own clause names is someone else: "Albania's prime minister
        # announced [Diella was pregnant]", "the chief of the IMF met [X]".
        clause = token.head  # the subject's verb: never the subject itself
        for m in persons:
            if m.tok_start <= token.right_edge.i or m.tok_start >= limit:
                continue
            if clause.left_edge.i <= m.tok_start <= clause.right_edge.i:
                continue
            if m.canonical not in roles and m.is_subject:
                roles[m.canonical] = role
            break


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
        role = (_title_before(doc, m, gpe_at) or _title_after(doc, m, gpe_at)
                or _title_appositive_before(doc, m, gpe_at))
        if role is not None:
            roles[m.canonical] = role
    _lede_role_holders(doc, mentions, gpe_at, roles)
    return roles


def speaker_role(name: str | None, roles: dict[str, Role], gazetteer: Gazetteer,
                 day: dt.date | None) -> Role | None:
    """Role of a resolved speaker: the article's own words at its date, else the gazetteer.

    The article wins even when the gazetteer disagrees or is silent (a new minister, a
    reshuffle the list has not caught up with); the gazetteer fills in a missing country.
    """
    if not name:
        return None
    article = roles.get(name)
    entry = gazetteer.lookup(name, day)
    if article is not None:
        if article.country is None and entry is not None and entry.role == article.role:
            return Role(article.role, entry.country, article.is_leader)
        if not article.is_leader and entry is not None and entry.role in LEADER_ROLES and (
                article.role.split()[-1] == entry.role.split()[-1]):
            return Role(entry.role, entry.country or article.country, True)
        return article
    if entry is not None:
        return Role(entry.role, entry.country, entry.role in LEADER_ROLES)
    return None
