"""Named entities of one article: model slips fixed, one canonical name per referent.

"Ali Khamenei", "Khamenei" and "Khamenei's" share the canonical "Ali Khamenei";
title words are not names ("Supreme Leader" tagged ORG is dropped); a name tagged
WORK_OF_ART/ORG that is preceded by a title or is the subject of a speech verb
becomes a PERSON.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from spacy.strings import get_string_id
from spacy.tokens import Doc

from transforms.quotes import CUE_FORMS

# Capitalised words that are titles/roles, never names on their own.
TITLE_WORDS = frozenset("""
president vice prime minister supreme leader king queen prince princess crown chancellor premier
secretary general secretary-general sen. senator rep. representative gov. governor mayor speaker
chairman chairwoman chair director spokesman spokeswoman spokesperson ambassador judge justice
chief commander gen. general lt. col. colonel adm. admiral pope ayatollah sheikh emir sultan
foreign defence defense finance interior treasury state deputy acting former first lady mr. mrs.
ms. dr. prof. sir lord dame the reverend rev. prophet minister-president advisor adviser
attorney candidate nominee mr mrs ms dr
""".split())
_PERSON_PREFIXES = frozenset("mr. mrs. ms. dr. mr mrs ms dr sen. rep. gov. gen. president prophet "
                             "pope ayatollah sheikh king queen prince sir".split())
_ORG_WORDS = frozenset("party house department ministry council committee agency union bank news "
                       "times post press association court university group inc. corp. co. "
                       "company network foundation institute campaign administration".split())
_ALIASES = {
    "us": "United States", "u.s.": "United States", "usa": "United States", "u.s.a.": "United States",
    "united states": "United States", "america": "United States",
    "uk": "United Kingdom", "u.k.": "United Kingdom", "britain": "United Kingdom",
    "great britain": "United Kingdom", "united kingdom": "United Kingdom",
    "un": "United Nations", "u.n.": "United Nations", "united nations": "United Nations",
    "eu": "European Union", "european union": "European Union",
}
# Head nouns of an organisation mentioned by description ("the company said in a statement").
ORG_NOUNS = frozenset("""
company firm group ministry department agency government bank office organisation organization
party campaign committee council commission administration authority authorities army military
police embassy court union association corporation institute foundation board regulator carrier
airline club team network broadcaster newspaper service station hospital university school
federation league alliance coalition cabinet parliament secretariat fund watchdog movement
""".split())
_KEPT_LABELS = frozenset("PERSON ORG GPE NORP LOC FAC EVENT PRODUCT LAW WORK_OF_ART LANGUAGE".split())
# Lower-case name particles: "Ruben van der Meer", "Maria de la Cruz", "Mohammed bin Salman".
NAME_PARTICLES = frozenset("van von der den de del della degli di da das dos do du la le ter ten "
                           "bin ibn bint al el ben zu y".split())
_ARTICLE_PREFIXES = ("al-", "el-", "al\u2010", "el\u2010")
_PLACES = yaml.safe_load((Path(__file__).with_name("data") / "places.yaml").read_text(encoding="utf-8"))
COUNTRY_NAMES = frozenset(_PLACES["demonyms"].values()) | frozenset(
    ("United States", "United Kingdom", "South Korea", "North Korea", "New Zealand", "South Africa",
     "Saudi Arabia", "Sri Lanka", "Costa Rica", "El Salvador", "Hong Kong", "Puerto Rico", "South Sudan"))


def _ids(words) -> frozenset[int]:
    """The words' string ids, as ``Token.lower`` gives them: testing ``token.lower`` against these
    skips decoding ``token.lower_`` from the StringStore (most tests of a name's neighbours fail)."""
    return frozenset(get_string_id(word) for word in words)


_PARTICLE_IDS = _ids(NAME_PARTICLES)
_TITLE_IDS = _ids(TITLE_WORDS)
_POSSESSIVE_IDS = _ids(("'s", "\u2019s"))


@dataclass
class Mention:
    start: int  # character offsets
    end: int
    tok_start: int
    tok_end: int
    text: str
    label: str
    canonical: str = ""
    is_subject: bool = False


@dataclass
class EntityRecord:
    name: str
    label: str
    canonical: str
    count: int
    first_start: int
    first_end: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _trim(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Drop a trailing possessive and punctuation/dashes at either end of an entity span."""
    while end > start:
        last = doc[end - 1]
        if not (last.is_punct or last.is_space or last.lower in _POSSESSIVE_IDS):
            break
        end -= 1
    while start < end:
        first = doc[start]
        if not (first.is_punct or first.is_space or first.text in "\u2015\u2014\u2013"):
            break
        start += 1
    return start, end


def _tokens(doc: Doc, start: int, end: int) -> list:
    """``list(doc[start:end])`` without the Span (making one costs more than reading its tokens)."""
    return [doc[i] for i in range(start, end)]


def _root(doc: Doc, start: int, end: int) -> int:
    """``doc[start:end].root.i`` without making the Span: a one-word name is its own root, and a
    span with one token headed from outside it (and no sentence root in it) has that one."""
    if end - start == 1:
        return start
    heads = [doc[i].head.i for i in range(start, end)]
    for i, head in enumerate(heads, start):
        if head == i:  # a sentence root: Span.root takes the first
            return i
    outside = [i for i, head in enumerate(heads, start) if not start <= head < end]
    if len(outside) == 1:
        return outside[0]
    return doc[start:end].root.i  # several: Span.root ranks them by their distance to the root


def _chars(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """``doc[start:end]``'s start_char and end_char (end > start)."""
    last = doc[end - 1]
    return doc[start].idx, last.idx + len(last)


def _text_of(doc: Doc, text: str, start: int, end: int) -> str:
    """``doc[start:end].text`` from the doc's ``text``."""
    start_char, end_char = _chars(doc, start, end)
    return text[start_char:end_char]


def _is_name_like(doc: Doc, start: int, end: int) -> bool:
    tokens = [t for t in _tokens(doc, start, end) if not t.is_punct]
    return (1 <= len(tokens) <= 5 and all(t.text[:1].isupper() or t.lower_ in NAME_PARTICLES for t in tokens)
            and tokens[-1].text[:1].isupper()
            and not any(t.lower_ in _ORG_WORDS or t.lower_ in TITLE_WORDS for t in tokens))


def surname_forms(word: str) -> set[str]:
    """A surname and its form without an Arabic article: {"al-Sisi", "Sisi"}."""
    forms = {word}
    lowered = word.lower()
    if lowered.startswith(_ARTICLE_PREFIXES):  # few names have one: one test for the rest
        for prefix in _ARTICLE_PREFIXES:
            if lowered.startswith(prefix) and len(word) > len(prefix) + 1:
                forms.add(word[len(prefix):])
    return forms


def _is_particle(token) -> bool:
    return token.lower_ in NAME_PARTICLES and not token.is_sent_start or (
        token.lower_ in NAME_PARTICLES and token.text[:1].isupper())


def _capitalised_name_token(token) -> bool:
    return (token.text[:1].isupper() and token.pos_ == "PROPN" and token.lower_ not in TITLE_WORDS
            and not token.is_punct)


def extend_particles(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Grow a name span over lower-case particles and the name words they join.

    "Ruben van" + "der Meer" -> "Ruben van der Meer"; "la Cruz" after "Maria de" ->
    "Maria de la Cruz"; "de la Cruz" at a sentence start stays itself. Spans with no
    particle at their edges are returned unchanged.
    """
    # Forward: a span ending on a particle, or followed by particles and a capitalised word.
    k = end
    while k < len(doc) and doc[k].lower in _PARTICLE_IDS and k - end < 3:
        k += 1
    if k < len(doc) and (k > end or doc[end - 1].lower in _PARTICLE_IDS) and _capitalised_name_token(doc[k]):
        end = k + 1
        while end + 1 < len(doc) and doc[end].text in ("-", "\u2010") and _capitalised_name_token(doc[end + 1]):
            end += 2
    # Backward: particles before the span, then the given names before them.
    k = start
    while k > 0 and doc[k - 1].lower in _PARTICLE_IDS and start - k < 3 and not doc[k - 1].is_sent_end:
        k -= 1
    if k < start:
        start = k
        j = k
        while j > 0 and k - j < 3 and _capitalised_name_token(doc[j - 1]) and doc[j - 1].ent_type_ not in (
                "GPE", "NORP", "DATE"):
            j -= 1
        start = j
    return start, end


def _followed_by_speech(doc: Doc, end: int) -> bool:
    """'X said' or 'X, an advisor to ..., wrote' (the name is the subject of a cue)."""
    root = doc[end - 1]
    return root.dep_ in ("nsubj", "nsubjpass") and root.head.lower_ in CUE_FORMS


_TITLE_OR_HEAD = TITLE_WORDS | {"head"}
_PREFIX_OR_TITLE = _PERSON_PREFIXES | TITLE_WORDS | {"head"}


def _role_apposition(doc: Doc, start: int, end: int) -> bool:
    """"The head of the IMF, Amara Okafor, warned" / "Amara Okafor, the WHO chief, said"."""
    before = start >= 2 and doc[start - 1].text == "," and (doc[start - 2].lower_ in _TITLE_OR_HEAD or (
        _appositive_of_title(doc[_root(doc, start, end)])))
    after = (end + 2 < len(doc) and doc[end].text == "," and doc[end + 1].lower_ in ("the", "a", "an")
             and any(t.lower_ in _TITLE_OR_HEAD for t in _tokens(doc, end + 2, min(len(doc), end + 7))
                     if not t.is_punct))
    return before or after


def _appositive_of_title(root) -> bool:
    return root.dep_ == "appos" and _titled(root.head)


def _titled(token) -> bool:
    """A title word, or the object of "of" after one ("the head of the IMF": Fund -> of -> head)."""
    for _ in range(3):
        if token.lower_ in TITLE_WORDS or token.lower_ == "head":
            return True
        if token.dep_ not in ("pobj", "prep", "compound") or token.head.i == token.i:
            return False
        token = token.head
    return False


def _title_or_punct(token) -> bool:
    return token.is_punct or token.lower in _TITLE_IDS


def _strip_titles(doc: Doc, start: int, end: int) -> int:
    while start < end - 1 and doc[start].lower in _TITLE_IDS:
        start += 1
    return start


def find_mentions(doc: Doc, text: str | None = None) -> list[Mention]:
    """Entity mentions with label fixes and canonical names, in text order. ``text``: the doc's
    text when the caller has it (``Doc.text`` re-joins every token); the mentions' texts are cut
    from it."""
    text = doc.text if text is None else text
    mentions: list[Mention] = []
    covered_until = 0  # a particle extension may swallow the next entity ("Ursula von der" + "Leyen")
    for ent in doc.ents:
        label = ent.label_
        if label not in _KEPT_LABELS:
            continue
        start, end = _trim(doc, ent.start, ent.end)
        if end <= covered_until:
            continue
        if label in ("PERSON", "ORG", "GPE", "NORP", "WORK_OF_ART"):
            wider = extend_particles(doc, start, end)
            if wider != (start, end) or doc[start].lower in _PARTICLE_IDS:
                start, end = wider
                if label != "PERSON" and _is_name_like(doc, start, end):
                    label = "PERSON"  # "Van der Meer" tagged ORG, "Leyen" tagged GPE
            if mentions and start < mentions[-1].tok_end:
                continue
        covered_until = end
        if label in ("PERSON", "ORG", "WORK_OF_ART", "NORP", "GPE") and not (
                label == "ORG" and doc[end - 1].lower_ in _ORG_WORDS):  # "the State Department" keeps "State"
            start = _strip_titles(doc, start, end)
        if all(_title_or_punct(doc[i]) for i in range(start, end)):
            continue  # "Supreme Leader" tagged ORG, "The Supreme Leader's" tagged WORK_OF_ART
        preceded_by_title = False
        if start > 0:
            before = doc[start - 1]
            word = before.lower_
            preceded_by_title = (word in _PREFIX_OR_TITLE and word != "the"
                                 and (word in ("chief", "head") or before.text[:1].isupper()))
        if label in ("WORK_OF_ART", "ORG", "NORP", "GPE") and (  # the cheap tests first
                preceded_by_title or _followed_by_speech(doc, end) or _role_apposition(doc, start, end)) and (
                _is_name_like(doc, start, end)):
            # A two-word "place" that speaks or holds a title is a person the model mislabelled
            # ("Amara Okafor told reporters"); countries ("South Korea said") and organisations
            # that speak stay what they are.
            # A plural nationality or party ("Iranians say", "Democrats said") is a group that
            # speaks, not one person: a pronoun later must not resolve to it.
            group = label == "NORP" and doc[end - 1].tag_ in ("NNS", "NNPS")
            if not group and (label in ("WORK_OF_ART", "NORP") or preceded_by_title or _role_apposition(
                    doc, start, end) or (label == "GPE" and end - start >= 2
                                         and _text_of(doc, text, start, end) not in COUNTRY_NAMES)):
                label = "PERSON"
        if end <= start:
            continue
        if label == "PERSON" and _place_complement(doc, start, end):
            label = "GPE"  # 'a resident of Shiraz': the small model calls the city a person
        # Offsets and text from the doc's text: a Span costs more than the rest of a mention.
        start_char, end_char = _chars(doc, start, end)
        mentions.append(Mention(start_char, end_char, start, end, text[start_char:end_char], label,
                                is_subject=doc[_root(doc, start, end)].dep_ in ("nsubj", "nsubjpass")))
    _trim_run_on_names(doc, mentions, text)
    _relabel_surnames(mentions)
    _canonicalise(mentions)
    return mentions


# Nouns whose "of" / "from" complement is a place ('a resident of Shiraz', 'the mayor of Lviv').
_PLACE_NOUNS = frozenset("resident residents native natives citizen citizens inhabitant inhabitants villager "
                         "villagers mayor governor outskirts suburb suburbs city town village province "
                         "region district county capital".split())


def _place_complement(doc: Doc, start: int, end: int) -> bool:
    """Is doc[start:end] the complement of 'of' / 'from' after a place noun ('a resident of X')?"""
    if start < 2 or doc[start - 1].lower_ not in ("of", "from"):  # nearly every name: one test
        return False
    root = doc[_root(doc, start, end)]
    return (root.dep_ == "pobj" and root.head.i == start - 1 and root.head.head.lower_ in _PLACE_NOUNS
            and root.head.head.i < start - 1)


# Short words a title-case line leaves in lower case ("Trump Refuses to Rule Out Leaving NATO").
_TITLE_CASE_MINOR = frozenset("a an and as at but by for from in into nor of on or over the to via vs with".split())
# Verbs of headlines that end in neither -s nor -ed.
_HEADLINE_VERBS = frozenset("is are was were has have had will would can could may might must should "
                            "got gets did does do".split())
# Longer lines are paragraphs, not headlines or links (the BBC's and PolNeAR's headlines: <= 120).
_HEADLINE_CHARS = 200
# What a sentence's first word follows: an end mark, a quote mark or colon, a line break.
_SENTENCE_OPENERS = frozenset(".!?:\"\u201c\u2018\n")
_NAME_SEPARATORS = frozenset("- \u2013 \u2014 | : /".split())
_SPACED_SEPARATORS = tuple(" " + separator for separator in _NAME_SEPARATORS)


def _title_case_line(text: str, start: int) -> bool:
    """Is the line holding character ``start`` in title case (a headline, a 'Read More: ...' link)?"""
    line_start, end = text.rfind("\n", 0, start) + 1, text.find("\n", start)
    end = end if end >= 0 else len(text)
    if end - line_start > _HEADLINE_CHARS:  # a paragraph of prose: no need to read its words
        return False
    line = text[line_start:end]
    words = [w for w in line.split() if w[:1].isalpha() and w.lower() not in _TITLE_CASE_MINOR]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _headline_verb(word: str) -> bool:
    """A capitalised word of a title-case line that reads as its verb (Refuses, Promised, Is)."""
    w = word.lower()
    if w in _HEADLINE_VERBS:
        return True
    return len(w) > 3 and (w.endswith("ed") or (w.endswith("s") and not w.endswith(("ss", "us", "is", "'s", "’s"))))


def _used_as_name(text: str, word: str) -> bool:
    """Does ``word`` occur capitalised inside a sentence of a line not in title case ('James Flames'
    in a headline and 'Flames designed it' in the text)? Then it is a name, not a headline's verb."""
    for match in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text):
        before = match.start() - 1
        while before >= 0 and text[before] == " ":
            before -= 1
        if before >= 0 and text[before] not in _SENTENCE_OPENERS and not _title_case_line(text, match.start()):
            return True
    return False


def _end_name(mention: Mention, doc: Doc, end: int) -> None:
    last = doc[end - 1]
    mention.tok_end, mention.end = end, last.idx + len(last.text)
    mention.text = doc[mention.tok_start:end].text


def _trim_run_on_names(doc: Doc, mentions: list[Mention], text: str | None = None) -> None:
    """Where the NER runs a person's name into the words after it, end the name.

    A spaced dash, bar or colon never stands inside a name ('Nick Toye - Pixels & Code', a byline
    'Carlos Becker - Guest'). In a title-case line every word is capitalised, so the NER also runs
    a name into the headline's verb ('Read More: Trump Refuses to ...' -> PERSON 'Trump Refuses'),
    and a later 'Trump' would resolve to that: there the name ends before a verb-like word
    (Refuses, Promised, Is) that follows a word the prose uses in a person's name, unless the prose
    uses that word as a name too. 'Mark Brickey', 'Edwin Peraza Hernandez' stay whole."""
    people = [m for m in mentions if m.label == "PERSON" and m.tok_end - m.tok_start > 1]
    if not people:
        return
    for m in people:
        if any(separator in m.text for separator in _SPACED_SEPARATORS):
            for i in range(m.tok_start + 1, m.tok_end):
                if doc[i].text in _NAME_SEPARATORS and doc[i - 1].whitespace_:
                    _end_name(m, doc, i)
                    break
    text = doc.text if text is None else text
    in_headlines = [m for m in people if m.tok_end - m.tok_start > 1 and _title_case_line(text, m.start)]
    if not in_headlines:  # nearly every article: no line test for the rest
        return
    prose_words = {t.text for m in mentions if m.label == "PERSON" and not _title_case_line(text, m.start)
                   for t in doc[m.tok_start:m.tok_end] if t.is_alpha}
    for m in in_headlines:
        for i in range(m.tok_start + 1, m.tok_end):
            token, before = doc[i], doc[i - 1]
            if (before.text in prose_words and token.text not in prose_words and _headline_verb(token.text)
                    and not _used_as_name(text, token.text)):
                _end_name(m, doc, i)
                break


def _relabel_surnames(mentions: list[Mention]) -> None:
    """A one-word ORG/GPE/NORP equal to a known person's surname is that person ('Nasrallah' as ORG)."""
    surnames: set[str] = set()
    for m in mentions:
        if m.label == "PERSON":
            words = m.text.split()
            if len(words) > 1:
                surnames |= surname_forms(words[-1])
    for m in mentions:
        if m.label in ("ORG", "GPE", "NORP", "WORK_OF_ART") and m.text in surnames:
            m.label = "PERSON"


def _canonicalise(mentions: list[Mention]) -> None:
    """Surname-only and short forms map to the most recent (else most frequent) full name."""
    full_names = Counter(m.text for m in mentions if m.label == "PERSON" and len(m.text.split()) > 1)
    recent: dict[str, str] = {}  # surname -> full name last seen
    full_forms = None  # (count, full name, its surname forms, its first word): made when first needed
    for m in mentions:
        if m.label != "PERSON":
            key = m.text.lower()
            the = key.startswith("the ")
            if the:
                key = key[4:]
            m.canonical = _ALIASES.get(key, m.text[4:] if the else m.text)
            continue
        words = m.text.split()
        if len(words) > 1:
            # "Seyyed Hassan Nasrallah" after "Hassan Nasrallah": one person, first full form wins.
            earlier = recent.get(words[-1])
            same = earlier is not None and (m.text.endswith(" " + earlier) or earlier.endswith(" " + m.text))
            m.canonical = earlier if same else m.text
            for form in surname_forms(words[-1]):
                recent[form] = m.canonical
            continue
        name = words[0]
        if name in recent:
            m.canonical = recent[name]
            continue
        if full_forms is None:
            full_forms = [(count, full, surname_forms(full.split()[-1]), full.split()[0])
                          for full, count in full_names.items()]
        candidates = [(count, full) for count, full, forms, first in full_forms if name in forms or first == name]
        m.canonical = max(candidates)[1] if candidates else name


def summarise(mentions: list[Mention]) -> list[EntityRecord]:
    """One record per canonical name: majority label (PERSON wins ties), count, first offsets."""
    records: dict[str, EntityRecord] = {}
    labels: dict[str, Counter] = {}
    for m in mentions:
        record = records.get(m.canonical)
        if record is None:
            records[m.canonical] = EntityRecord(m.text, m.label, m.canonical, 1, m.start, m.end)
            labels[m.canonical] = Counter()
        else:
            record.count += 1
        labels[m.canonical][m.label] += 1
    for canonical, record in records.items():
        record.label = max(labels[canonical].items(), key=lambda kv: (kv[1], kv[0] == "PERSON"))[0]
    return sorted(records.values(), key=lambda r: r.first_start)
