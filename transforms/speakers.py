"""Resolve speaker spans to names: named mentions, pronouns, roles, continued speech.

Rules, in order, for one attribution:

1. The speaker span overlaps an entity mention -> that mention's canonical name
   (PERSON first; ORG/GPE speakers such as "the White House" keep their name).
2. A pronoun (he/she) -> the most recent person who was the grammatical subject
   outside quotes before the quote, or the most recent resolved speaker, whichever
   is later; gender from titles/first names filters candidates when known. When the
   last speaker was someone unnamed ("a resident told TIME") who addressed nobody named,
   and no person became a subject (or a subject's possessor) since, the pronoun is
   theirs: no name.
3. A role noun phrase ("the Supreme Leader", "the minister") -> the most recently
   mentioned person the article gave that role (head-noun match), else a person
   of the article whom the gazetteer gives that role on the article date.
4. A quote paragraph without cue continues the previous quote's speaker, but only
   when no other person is named (outside quotes) in between and the previous
   quote is at most two paragraphs back.
"""
from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from spacy.tokens import Doc

from transforms.entities import (NAME_PARTICLES, ORG_NOUNS, TITLE_WORDS, Mention, extend_particles,
                                 surname_forms)
from transforms.leaders import _FORMER, Gazetteer, Role, _match_role, role_head
from transforms.quotes import _SUBJECT_DEPS, CUE_FORMS, ORG_LABELS, Attribution, QuoteSpan, quotes_speaker

_MALE = frozenset("he him his himself".split())
_FEMALE = frozenset("she her hers herself".split())
_RESOLVABLE_PRONOUNS = _MALE | _FEMALE
_FEMALE_TITLES = frozenset("mrs. ms. mrs ms queen madam dame lady".split())
_MALE_TITLES = frozenset("mr. mr king sir lord".split())
# Small list of frequent female first names in news; used only to filter he/she candidates.
_FEMALE_NAMES = frozenset("""
hillary kellyanne nancy elizabeth melania ivanka chelsea michelle sarah jill huma donna debbie
kamala theresa angela christine ursula janet marine nikki condoleezza madeleine susan hope katrina
kayleigh karine jen dana megyn katy maria mary anne ann jane laura barbara hope samantha
tulsi liz giorgia claudia ruth sonia amy kirsten tammy patty dianne maxine alexandria ilhan
rashida ayanna lisa susan kristalina gina jennifer jessica emily rachel yvette priti
""".split())
_MALE_NAMES = frozenset("""
donald barack bill joe mike john george jeb ted marco ben chris paul bernie tim rudy newt reince
steve jared eric corey jason vladimir ali masoud hassan mohammad mahmoud ebrahim xi emmanuel boris
rishi keir justin benjamin recep narendra kim david james robert michael william richard thomas
mark jeff jim tom frank harry peter andrew rex jerome scott pete marco antony lloyd
""".split())
_DETERMINERS = frozenset("the a an this that his her their its our".split())
_INDEFINITE = frozenset("a an one another some several many any".split())
_ONE = frozenset("a an one another".split())
# Heads that stand for whichever organisation the article is about ("the company said"). Not
# "developer", "producer", "publisher", "operator", "miner", nor "lawmaker", "policymaker",
# "filmmaker": as often or always a person.
_GENERIC_ORG_NOUNS = frozenset("""
company firm corporation group organisation organization carrier airline business conglomerate
retailer lender insurer manufacturer startup start-up supplier chain platform brand broadcaster
carmaker automaker chipmaker drugmaker planemaker steelmaker toymaker phonemaker
""".split())
# Things that "say" in news copy ("the report said"): a nameless speaker that no "he"/"she" refers to.
_DOCUMENT_NOUNS = frozenset("""
statement report document study letter survey poll filing memo memorandum release post tweet email
message note paper analysis article website site data figures research review audit complaint
lawsuit suit indictment ruling order decision judgment verdict book video advertisement ad
transcript record records notice plan proposal bill law policy draft agreement deal contract
announcement communique declaration forecast estimate assessment investigation inquiry
""".split())
# Verbs whose subject is a speaker proper; "a polite smile deflected", "a reader might ask" are not.
_SAYING = frozenset("say tell add explain note state insist argue write reply respond answer confirm warn".split())
PERSON, ORGANISATION = "person", "organisation"


@dataclass
class ResolvedSpeaker:
    text: str | None  # speaker span as written
    name: str | None  # resolved canonical name
    start: int | None  # character offsets of the speaker span
    end: int | None
    confidence: float
    kind: str | None = None  # person | organisation, when known


def _gender(mention: Mention, doc: Doc) -> str | None:
    first = mention.text.split()[0].lower()
    before = doc[mention.tok_start - 1].lower_ if mention.tok_start else ""
    if before in _FEMALE_TITLES or first in _FEMALE_NAMES:
        return "f"
    if before in _MALE_TITLES or first in _MALE_NAMES:
        return "m"
    return None


def _of_subject(doc: Doc, m: Mention) -> bool:
    """Whether the mention qualifies a sentence's subject: its modifier or possessor ("Acme shares",
    "Acme's chief") or the object of its "of" ("Shares of Acme")."""
    root = doc[m.tok_start:m.tok_end].root
    if root.dep_ == "poss":
        return root.head.dep_ in _SUBJECT_DEPS
    if root.dep_ == "compound":  # not in "its new RipGuard technology": someone else's thing
        return root.head.dep_ in _SUBJECT_DEPS and not any(c.dep_ == "poss" for c in root.head.lefts)
    return root.dep_ == "pobj" and root.head.lower_ == "of" and root.head.head.dep_ in _SUBJECT_DEPS


def _nameless_person(span) -> bool:
    """Whether a speaker span no name resolved introduces someone the article does not name ("a
    resident", "one worker", "an officer at the scene"): indefinite, headed by a singular common
    noun that is no organisation ("a ministry") and no document ("a report"). A definite one
    ("the senator") may be a person named earlier, so it is not one."""
    root = span.root
    head = root.lower_
    return (span[0].lower_ in _ONE and root.pos_ == "NOUN" and root.tag_ == "NN"
            and head not in ORG_NOUNS and head not in _GENERIC_ORG_NOUNS and head not in _DOCUMENT_NOUNS)


def _tells_a_person(cue) -> bool:
    """Whether the cue addresses a named person ("A reporter told Trump that ..."): the "he" of
    the reply is then that person's."""
    for child in cue.children:
        if child.dep_ in ("dobj", "dative") and child.ent_type_ == "PERSON":
            return True
        if child.dep_ == "prep" and child.lower_ == "to" and any(
                c.dep_ == "pobj" and c.ent_type_ == "PERSON" for c in child.children):
            return True
    return False


class SpeakerResolver:
    """Resolves the attributions of one article in text order."""

    def __init__(self, doc: Doc, mentions: list[Mention], quote_spans: list[QuoteSpan],
                 roles: dict[str, Role], gazetteer: Gazetteer, day: dt.date | None,
                 paragraphs: list[tuple[int, int]]):
        self.doc = doc
        self.roles = roles
        self.gazetteer = gazetteer
        self.day = day
        self.paragraph_starts = [p[0] for p in paragraphs]
        quote_starts = [q.start for q in quote_spans]

        def inside_quote(pos: int) -> bool:
            k = bisect.bisect_right(quote_starts, pos) - 1
            return k >= 0 and quote_spans[k].start <= pos < quote_spans[k].end

        self.mentions = mentions
        self.persons = [m for m in mentions if m.label == "PERSON" and not inside_quote(m.start)]
        self.orgs = [m for m in mentions if m.label in ("ORG",) and not inside_quote(m.start)]
        self.org_starts = [m.start for m in self.orgs]
        self.person_starts = [m.start for m in self.persons]
        self.gender: dict[str, str] = {}
        for m in mentions:
            if m.label == "PERSON" and m.canonical not in self.gender:
                g = _gender(m, doc)
                if g:
                    self.gender[m.canonical] = g
        self.mention_starts = [m.start for m in mentions]
        self.surnames = {form: m.canonical for m in mentions if m.label == "PERSON"
                         for form in surname_forms(m.canonical.split()[-1])}
        # (position, name, (span text, start, end)) of the last resolved speaker
        self.last: tuple[int, str, tuple[str, int, int]] | None = None
        self.last_direct: tuple[int, str | None, tuple[str, int, int]] | None = None
        self.last_kind: str | None = None
        self.last_direct_kind: str | None = None

    def _paragraph(self, pos: int) -> int:
        return bisect.bisect_right(self.paragraph_starts, pos) - 1

    def _mention_in(self, start: int, end: int) -> Mention | None:
        k = bisect.bisect_left(self.mention_starts, start)
        best = None
        for m in self.mentions[max(0, k - 1):]:
            if m.start >= end:
                break
            if m.end > start and (best is None or (m.label == "PERSON" and best.label != "PERSON")):
                best = m
        return best

    def _named_head(self, span) -> Mention | None:
        """The mention that is the speaker span's head. A name that only modifies the head
        ("Grayson's spokeswoman", "the U.S. media", "Clinton's campaign", "Sirius XM Vice
        President") is not who spoke: the span is then a description."""
        mention = self._mention_in(span.start_char, span.end_char)
        if mention is None:
            return None
        head = span.root
        if head.is_punct or head.is_space:
            return mention
        return mention if mention.tok_start <= head.i < mention.tok_end else None

    def _pronoun(self, pronoun: str, before: int) -> str | None:
        wanted = "m" if pronoun in _MALE else "f"
        k = bisect.bisect_left(self.person_starts, before) - 1
        window_start = self.paragraph_starts[max(0, self._paragraph(before) - 3)]
        subject = fallback = None
        while k >= 0 and self.persons[k].start >= window_start:
            m = self.persons[k]
            if self.gender.get(m.canonical, wanted) == wanted:
                if m.is_subject:
                    subject = m
                    break
                fallback = fallback or m
            k -= 1
        if self.last is not None and self.last_kind == PERSON and self.last[0] < before and self.gender.get(
                self.last[1], wanted) == wanted:
            if self.last[1] is None:  # someone unnamed spoke last: "he" is them unless a person
                # was a subject since, or its possessor ("Trump's speech also revisited ...")
                since = self.persons[bisect.bisect_right(self.person_starts, self.last[0]):
                                     bisect.bisect_left(self.person_starts, before)]
                if not any((m.is_subject or _of_subject(self.doc, m)) and self.gender.get(m.canonical, wanted) == wanted
                           for m in since):
                    return None
            elif subject is None or self.last[0] > subject.start:
                return self.last[1]
        if subject is not None:
            return subject.canonical
        return fallback.canonical if fallback else None

    def _person_at(self, i: int) -> Mention | None:
        """The PERSON mention starting at token i, if any."""
        if i >= len(self.doc):
            return None
        m = self._mention_in(self.doc[i].idx, self.doc[i].idx + 1)
        return m if m is not None and m.label == "PERSON" and m.tok_start == i else None

    def _role_holder(self, words: list[str], before: int, use_gazetteer: bool = True) -> str | None:
        found = _match_role(words)
        if found is None or any(w in _FORMER for w in words):
            return None  # "the former president" is not the article's president
        role = found[0]
        head = role_head(role)
        k = bisect.bisect_left(self.person_starts, before) - 1
        while k >= 0:
            name = self.persons[k].canonical
            known = self.roles.get(name)
            if known and (known.role == role or role_head(known.role) == head):
                return name
            k -= 1
        if not use_gazetteer:
            return None
        for entry in self.gazetteer.holders(role, self.day):
            if any(m.canonical == entry.name or m.canonical in entry.aliases for m in self.persons):
                return entry.name
        return None

    def _unrecognised_name(self, span) -> str | None:
        """A proper-name run the NER missed ("said Adrian Mapp", "de la Cruz said"): its last
        PROPN run with the name particles inside it, titles dropped. A span that ends in a person
        the NER found but does not head ("Chief of the Defence Staff Maria Santos") is that person."""
        last = self._mention_in(span[-1].idx, span.end_char)
        if last is not None and last.label == "PERSON" and last.end == span.end_char:
            return last.canonical
        tokens = [t for t in span if (t.pos_ == "PROPN" or t.lower_ in NAME_PARTICLES)
                  and t.lower_ not in TITLE_WORDS]
        while tokens and tokens[-1].lower_ in NAME_PARTICLES:
            tokens.pop()
        if not tokens:
            return None
        run = [tokens[-1]]
        for t in reversed(tokens[:-1]):
            if t.i != run[0].i - 1 or t.lower_ in TITLE_WORDS:
                break
            run.insert(0, t)
        name = " ".join(t.text for t in run)
        if name in self.surnames:
            return self.surnames[name]
        for full in self.surnames.values():  # "de la Cruz" after "Maria de la Cruz"
            if full.endswith(" " + name):
                return full
        return name

    def _organisation(self, head: str | None, before: int, modifiers: tuple[str, ...] = ()) -> str | None:
        """The organisation "it" / "the company" refers to (``_referent_organisation``), unless the
        leaders list knows the name as a person's (a surname the NER took for an organisation:
        "it said" is never Trump)."""
        name = self._referent_organisation(head, before, modifiers)
        return None if name is None or self.gazetteer.lookup(name, self.day) is not None else name

    def _referent_organisation(self, head: str | None, before: int, modifiers: tuple[str, ...] = ()) -> str | None:
        """"the ministry" / "the company" / "it": an organisation named in the three paragraphs
        before the quote. One whose name holds the head noun and the description's modifiers
        ("the ministry" -> "Ministry of Defence"; "the terrorist group" is not "SITE Intelligence
        Group"). A generic head ("the company") or "it" only goes to an organisation the article
        was talking about: the last one that spoke or was the subject of a sentence; failing both,
        a generic description takes the last one a subject was of ("Acme shares fell", "Shares of
        Acme fell", "Acme's chief said"). A mere mention in passing ("telling Fox 35") is no
        referent, and the description stays as written."""
        k = bisect.bisect_left(self.org_starts, before) - 1
        window_start = self.paragraph_starts[max(0, self._paragraph(before) - 3)]
        salient = qualifier = None
        while k >= 0 and self.orgs[k].start >= window_start:
            m = self.orgs[k]
            name = m.text.lower()
            if head is not None and head in name and all(w in name for w in modifiers):
                return m.canonical
            if salient is None and m.is_subject:
                salient = m
            if qualifier is None and head is not None and _of_subject(self.doc, m):
                qualifier = m  # only a description reads it (below): "it" pays nothing
            k -= 1
        if modifiers or head is not None and head not in _GENERIC_ORG_NOUNS:
            return None
        if self.last is not None and self.last_kind == ORGANISATION and self.last[0] >= window_start and (
                salient is None or self.last[0] > salient.start):
            return self.last[1]
        if salient is not None:
            return salient.canonical
        # Only a description falls back to the organisation a subject was of; "it" is too often
        # a thing ("Windows users", "iPod sales" are no speakers).
        return qualifier.canonical if qualifier is not None and head is not None else None

    def resolve(self, att: Attribution) -> ResolvedSpeaker:
        doc = self.doc
        if att.speaker_start is None:
            return self._continuation(att)
        span = doc[att.speaker_start:att.speaker_end]
        if span[-1].lower_ in NAME_PARTICLES:  # the parse's subject was "de" of "de la Fuente said"
            span = doc[slice(*extend_particles(doc, span.start, span.end))]
        start, end, text = span.start_char, span.end_char, span.text
        before = min(start, att.start)
        mention = self._named_head(span)
        words = [t.lower_ for t in span if t.lower_ not in _DETERMINERS and not t.is_punct]
        name, confidence, kind = None, att.confidence, None
        if mention is not None:
            name = mention.canonical
            kind = PERSON if mention.label == "PERSON" else ORGANISATION if mention.label in ORG_LABELS else None
        elif len(span) == 1 and span[0].lower_ in _RESOLVABLE_PRONOUNS:
            name = self._pronoun(span[0].lower_, before)
            confidence *= 0.9
            kind = PERSON
        elif len(span) == 1 and span[0].lower_ == "it":
            name = self._organisation(None, before)
            confidence *= 0.8
            kind = ORGANISATION if name else None
        elif words and _match_role(words) is not None:
            # "Grayson's spokeswoman" is whoever speaks for Grayson: the description stays as written.
            possessed = any(t.dep_ == "poss" and t.head.i == span.root.i and t.lower_ not in _DETERMINERS
                            for t in span)
            # A bare title heads a name the parse left out of the span: the person right after it
            # ("President Barack Obama and his wife") or nobody the list knows ("President and
            # CEO of the Bulletin ... Alexandra Bell said" is no president of the leaders list).
            bare = span[0].lower_ not in _DETERMINERS and span[0].ent_type_ not in ("GPE", "NORP")
            named = self._person_at(span.end) if bare else None
            if named is not None:
                name = named.canonical
            elif not possessed:
                name = self._role_holder([w for w in words if w not in ("'s", "\u2019s")], before,
                                         use_gazetteer=not bare)
            confidence *= 0.9
            kind = PERSON
        elif words and (words[-1] in ORG_NOUNS or words[-1] in _GENERIC_ORG_NOUNS) and span[-1].pos_ == "NOUN":
            # "a group", "one research firm": an indefinite description names no one in particular.
            definite = span[0].lower_ not in _INDEFINITE
            modifiers = tuple(t.lower_ for t in span if t.dep_ in ("amod", "compound") and t.i != span.root.i)
            name = self._organisation(words[-1], before, modifiers) if definite else None
            confidence *= 0.85
            kind = ORGANISATION
        elif span[-1].pos_ == "PROPN":
            name = self._unrecognised_name(span)
            kind = PERSON if name and name in self.surnames.values() else None
        if name is not None and (mention is None or kind is not None):
            self.last = (start, name, (text, start, end))
            self.last_kind = kind or PERSON  # an unrecognised name is most often a person
        elif (name is None and mention is None and att.cue is not None
              and CUE_FORMS.get(att.cue.lower_) in _SAYING and _nameless_person(span)
              and not _tells_a_person(att.cue)):
            # "A resident of Shiraz told TIME ... "We have nothing left," he added": the "he" is
            # that resident, not the last person the article named (who may be a president).
            self.last = (start, None, (text, start, end))
            self.last_kind = PERSON
        if quotes_speaker(att):
            self.last_direct = (att.end, name, (text, start, end))
            self.last_direct_kind = kind
        return ResolvedSpeaker(text, name, start, end, confidence, kind)

    def _previous_paragraph_subject(self, att: Attribution) -> ResolvedSpeaker:
        """Weakest guess for a quote with no cue and no earlier speaker: the person the
        preceding paragraph is about (its last named grammatical subject)."""
        here = self._paragraph(att.start)
        if here > 0:
            lo, hi = self.paragraph_starts[here - 1], self.paragraph_starts[here]
            k = bisect.bisect_left(self.person_starts, hi) - 1
            while k >= 0 and self.persons[k].start >= lo:
                m = self.persons[k]
                if m.is_subject:
                    return ResolvedSpeaker(m.text, m.canonical, m.start, m.end, att.confidence * 0.5, PERSON)
                k -= 1
        return ResolvedSpeaker(None, None, None, None, att.confidence * 0.5)

    def _continuation(self, att: Attribution) -> ResolvedSpeaker:
        """Cue-less quote: the previous quote's speaker goes on.

        Always within the same paragraph ('"A," X said. "B."'); across paragraphs only
        up to two paragraphs on and when nobody else is named outside quotes meanwhile.
        """
        unknown = self._previous_paragraph_subject(att)
        if self.last_direct is None:
            return unknown
        quote_end, name, (text, start, end) = self.last_direct
        here, there = self._paragraph(att.start), self._paragraph(quote_end - 1)
        if here != there:
            if here - there > 2:
                return unknown
            k = bisect.bisect_left(self.person_starts, self.paragraph_starts[there + 1])
            while k < len(self.persons) and self.persons[k].start < att.start:
                if self.persons[k].canonical != name:
                    return unknown
                k += 1
        self.last_direct = (att.end, name, (text, start, end))
        # The speaker span is the mention that introduced this speech.
        return ResolvedSpeaker(text, name, start, end, att.confidence, self.last_direct_kind)
