"""Quote finding on a parsed spaCy ``Doc``: quote marks -> spans -> cue and speaker span.

Two layers:

* ``find_quote_spans(text)`` is pure text: it pairs quote marks paragraph by
  paragraph, follows quotes across paragraphs (news convention: a paragraph that
  ends inside a quote and a next paragraph that opens again continue one quote)
  and recovers from unbalanced marks instead of failing the document.
* ``find_attributions(doc, paragraphs)`` adds the cue verb and the speaker span
  from the dependency parse with linear scans (no re-parsing), and finds
  indirect and mixed speech ("X said that ...", "X urged ...").

Speaker *names* (pronouns, "the president", surnames) are resolved later in
``transforms.speakers``.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from spacy.attrs import IDX, LOWER
from spacy.tokens import Doc, Token

from transforms.code_text import looks_like_code
from transforms.datelines import dateline_end
from transforms.token_arrays import TokenArrays, form_hashes, in_sorted, token_arrays

# Speech and writing verbs, by surface form (the pipeline runs without a lemmatizer).
_CUE_LEMMAS = {
    "say": "say said says saying",
    "tell": "tell told tells telling",
    "add": "add added adds adding",
    "write": "write wrote writes writing written",
    "note": "note noted notes noting",
    "urge": "urge urged urges urging",
    "warn": "warn warned warns warning",
    "accuse": "accuse accused accuses accusing",
    "claim": "claim claimed claims claiming",
    "argue": "argue argued argues arguing",
    "insist": "insist insisted insists insisting",
    "explain": "explain explained explains explaining",
    "state": "state stated states",
    "declare": "declare declared declares declaring",
    "announce": "announce announced announces announcing",
    "acknowledge": "acknowledge acknowledged acknowledges acknowledging",
    "admit": "admit admitted admits admitting",
    "ask": "ask asked asks asking",
    "reply": "reply replied replies replying",
    "respond": "respond responded responds responding",
    "suggest": "suggest suggested suggests suggesting",
    "predict": "predict predicted predicts predicting",
    "recall": "recall recalled recalls recalling",
    "tweet": "tweet tweeted tweets tweeting",
    "post": "posted",
    "stress": "stress stressed stresses stressing",
    "emphasize": "emphasize emphasized emphasizes emphasise emphasised emphasises",
    "assert": "assert asserted asserts asserting",
    "contend": "contend contended contends",
    "promise": "promise promised promises promising",
    "vow": "vow vowed vows vowing",
    "deny": "deny denied denies denying",
    "report": "report reported reports",
    "continue": "continue continued continues",
    "conclude": "conclude concluded concludes",
    "believe": "believe believes believed",
    "think": "think thinks thought",
    "complain": "complain complained complains",
    "caution": "caution cautioned cautions",
    "charge": "charged charges",
    "call": "called calls",
    "describe": "described describes",
    "joke": "joked jokes",
    "boast": "boasted boasts",
    "quip": "quipped",
    "exclaim": "exclaimed",
    "remark": "remarked",
    "observe": "observed",
    "demand": "demanded demands",
    "pledge": "pledged pledges",
    "reveal": "revealed reveals",
    "confirm": "confirmed confirms",
    "learn": "learned",
    "estimate": "estimated estimates",
    "find": "found finds",
    "show": "showed shows",
    "agree": "agreed agrees",
    "answer": "answer answered answers",
    "read": "read reads",
    "chant": "chanted chant chanting",
    "shout": "shouted shouts shouting",
    "yell": "yelled yells",
    "scream": "screamed screams",
    "sing": "sings sang sung",
    "cry": "cried",
    "testify": "testified testifies",
    "begin": "began begins",
    "go": "went goes",
    "interject": "interjected",
    "counter": "countered counters",
    "retort": "retorted",
    "mutter": "muttered",
    "whisper": "whispered",
    "quote": "quoted",
    "elaborate": "elaborated",
    "concede": "conceded concedes",
    "muse": "mused",
    "assure": "assured",
    "fume": "fumed",
    "boom": "boomed",
    "echo": "echoed",
    "mock": "mocked mocks",
    "lament": "lamented laments",
    "scoff": "scoffed",
    "snap": "snapped",
    "gush": "gushed",
    "recount": "recounted",
    "proclaim": "proclaimed",
    "thunder": "thundered",
    "plead": "pleaded",
    "reason": "reasoned",
    "wonder": "wondered",
    "inform": "informed",
    "put": "put",
    "maintain": "maintained maintains",
    "reiterate": "reiterated reiterates",
}
CUE_FORMS: dict[str, str] = {f: lemma for lemma, forms in _CUE_LEMMAS.items() for f in forms.split()}
# Cues that only introduce or close a direct quote; as indirect cues they over-fire
# ("the war continued", "he called a meeting").
_DIRECT_ONLY = frozenset({"continue", "post", "agree", "read", "chant", "sing", "cry", "begin",
                          "go", "interject", "mutter", "whisper", "quote", "yell", "scream", "shout",
                          "muse", "fume", "boom", "echo", "mock", "scoff", "snap", "gush", "thunder",
                          "wonder", "put", "elaborate"})
# Cues whose object is who heard it ('..., told TIME', 'informed Congress'), never who spoke.
_HEARER_CUES = frozenset(("tell", "inform", "assure"))
_INDIRECT_FORMS = frozenset(f for f, lemma in CUE_FORMS.items() if lemma not in _DIRECT_ONLY)
_ACCORDING = frozenset(("according",))
# Cues whose content is an object/infinitive rather than a that-clause.
_OBJECT_CUES = frozenset({"urge", "accuse", "warn", "demand", "promise", "vow", "pledge", "deny",
                          "ask", "caution", "charge"})

_DOUBLE_MARKS = "\"\u201c\u201d\u201e\u00ab\u00bb"
_OPEN_GLYPHS = "\u201c\u201e\u00ab"
_CLOSE_GLYPHS = "\u201d\u00bb"
_OPEN_PRECEDERS = frozenset("([{\u2014\u2013\u2015-/") | frozenset(_DOUBLE_MARKS) | {"\u2018", "'"}
_CLOSE_FOLLOWERS = frozenset(".,;:!?)]}\u2014\u2013\u2015-\u2026") | frozenset(_DOUBLE_MARKS) | {"\u2019", "'"}
# Two apostrophes/backticks stand for a double quote in some wire and archive text.
_MARK_RE = re.compile("''|``|[" + _DOUBLE_MARKS + "]")
_SINGLE_RE = re.compile("[\u2018\u2019]")
_PARAGRAPH_RE = re.compile(r"[^\n]+")
_SUBJECT_DEPS = frozenset(("nsubj", "nsubjpass"))
_SENTENCE_END = frozenset((".", "!", "?"))


@dataclass(frozen=True)
class QuoteSpan:
    """A run of text between quote marks; offsets include the marks."""

    start: int
    end: int
    recovered: bool = False  # built from an unbalanced mark


@dataclass
class Attribution:
    """A quote with its cue and speaker span, before name resolution."""

    start: int
    end: int
    kind: str  # direct | mixed | indirect
    cue: Token | None
    speaker_start: int | None = None  # token indices of the speaker span
    speaker_end: int | None = None
    continues_previous: bool = False  # no cue: same speaker as the previous quote
    confidence: float = 0.9


def quotes_speaker(att: Attribution) -> bool:
    """The attribution quotes its speaker's words: a cue-less quotation after it goes on with
    that speaker. A direct quote, or a partial quote with its cue ('X called it "a disgrace"')."""
    return att.kind == "direct" or att.kind == "mixed" and att.cue is not None and att.speaker_start is not None


def paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-empty line; each line is a paragraph."""
    return [(m.start(), m.end()) for m in _PARAGRAPH_RE.finditer(text) if m.group().strip()]


def _mark_role(text: str, i: int, lo: int, hi: int, inside: bool, width: int = 1) -> str | None:
    """open/close/None for the quote mark at text[i:i+width], from its neighbours (flanking)."""
    prev = text[i - 1] if i > lo else " "
    nxt = text[i + width] if i + width < hi else " "
    can_open = not nxt.isspace() and (prev.isspace() or prev in _OPEN_PRECEDERS)
    can_close = not prev.isspace() and (nxt.isspace() or nxt in _CLOSE_FOLLOWERS)
    if can_open and not can_close:
        return "open"
    if can_close and not can_open:
        return "close"
    if not can_open and not can_close:
        return None  # a mark between two spaces carries no direction
    glyph = text[i]
    if glyph in _OPEN_GLYPHS or glyph == "`":
        return "open"
    if glyph in _CLOSE_GLYPHS:
        return "close"
    return "close" if inside else "open"


def _paragraph_opens_with_quote(text: str, bounds: tuple[int, int]) -> bool:
    start, end = bounds
    stripped = text[start:end].lstrip()
    mark = _MARK_RE.match(stripped)
    return mark is not None and _mark_role(
        text, end - len(stripped), start, end, False, len(mark.group())) == "open"


def _is_headline(paragraph: str) -> bool:
    return len(paragraph.split()) <= 20 and paragraph.rstrip()[-1:] not in ".!?\"\u201d"


def _single_quote_spans(text: str, start: int, end: int) -> list[QuoteSpan]:
    """‘...’ pairs in a headline-like paragraph; apostrophes never open."""
    spans, opened = [], None
    for m in _SINGLE_RE.finditer(text, start, end):
        i = m.start()
        role = _mark_role(text, i, start, end, opened is not None)
        if m.group() == "\u2018" and role == "open" and opened is None:
            opened = i
        elif m.group() == "\u2019" and role == "close" and opened is not None:
            spans.append(QuoteSpan(opened, i + 1))
            opened = None
    return spans


def find_quote_spans(text: str, paragraphs: list[tuple[int, int]] | None = None) -> list[QuoteSpan]:
    """Pair double quote marks; never fails on an odd number of marks.

    An opener left open at the end of a paragraph continues into the next
    paragraph when that one opens with a quote mark; otherwise the quote is closed
    at the paragraph end (``recovered``). A closer with no opener, before any other
    quote of its paragraph, closes a quote that started at the paragraph start
    (``recovered``); later lone closers are ignored.

    A paragraph of program code or markup (``transforms.code_text``) holds string literals and
    attribute values, not quotations: its marks are skipped, and no quote continues into it.
    """
    paragraphs = paragraph_bounds(text) if paragraphs is None else paragraphs
    spans: list[QuoteSpan] = []
    carried: int | None = None  # start of a quote continuing from earlier paragraphs
    for index, (p_start, p_end) in enumerate(paragraphs):
        marks = list(_MARK_RE.finditer(text, p_start, p_end))
        if marks and carried is None and looks_like_code(text[p_start:p_end]):
            continue
        stack: list[int] = []
        last_end = p_start
        for m in marks:
            i, width = m.start(), len(m.group())
            inside = bool(stack) or carried is not None
            role = _mark_role(text, i, p_start, p_end, inside, width)
            if role == "open":
                stack.append(i)
            elif role == "close":
                if stack:
                    opened = stack.pop()
                    if not stack:
                        spans.append(QuoteSpan(carried if carried is not None else opened, i + width))
                        carried, last_end = None, i + width
                elif carried is not None:
                    spans.append(QuoteSpan(carried, i + width))
                    carried, last_end = None, i + width
                elif last_end == p_start:
                    # Missing opening mark: the quote began with the paragraph. After an earlier
                    # quote in the paragraph a lone closer is more likely inches or a typo.
                    spans.append(QuoteSpan(_skip_space(text, p_start, i), i + width, recovered=True))
                    last_end = i + width
        if stack or carried is not None:
            start = carried if carried is not None else stack[0]
            if index + 1 < len(paragraphs) and len(stack) <= 1 and _paragraph_opens_with_quote(
                    text, paragraphs[index + 1]) and not looks_like_code(text[slice(*paragraphs[index + 1])]):
                carried = start
            else:
                spans.append(QuoteSpan(start, p_end, recovered=True))
                carried = None
        if _is_headline(text[p_start:p_end]) and not any(s.start < p_end and s.end > p_start for s in spans):
            spans.extend(_single_quote_spans(text, p_start, p_end))
    return spans


def _skip_space(text: str, i: int, limit: int) -> int:
    while i < limit and text[i].isspace():
        i += 1
    return i


# ---------------------------------------------------------------- parse layer

def _cue_lemma(token: Token) -> str | None:
    lemma = CUE_FORMS.get(token.lower_)
    if lemma is None or token.pos_ not in ("VERB", "AUX"):
        return None
    if lemma == "go" and (token.i + 1 >= len(token.doc) or token.doc[token.i + 1].lower_ != "on"):
        return None  # only "went on:" introduces speech
    return lemma


def subject_of(verb: Token) -> Token | None:
    """The nsubj of the verb, or of the verb it is coordinated with."""
    for _ in range(3):
        for child in verb.children:
            if child.dep_ in _SUBJECT_DEPS:
                return child
        if verb.dep_ not in ("conj", "xcomp", "advcl") or verb.head.i == verb.i:
            return None
        verb = verb.head
    return None


_TITLE_JOINERS = frozenset(("of", "the", "and", "for"))


def _title_of_name(head: Token, hi: int) -> int | None:
    """End of the name a capitalised title heads through "of" ("Minister of Finance Maria Santos",
    "Chief of the Defence Staff Marco Rubio": the parser hangs the name on "of" and leaves the
    title the subject). Only a title-case run up to the name counts; a determined head ("the
    wife of John Smith") or a break ("Magazine, managing director, of CB Richard Ellis") is
    someone else."""
    if not head.text[:1].isupper() or head.ent_type_ == "PERSON" or any(c.dep_ in ("det", "poss") for c in head.lefts):
        return None
    doc = head.doc
    for prep in head.rights:
        if prep.dep_ == "prep" and prep.lower_ == "of" and prep.i == head.i + 1:
            for obj in prep.rights:
                if obj.dep_ == "pobj" and obj.ent_type_ == "PERSON" and obj.i < hi and all(
                        t.text[:1].isupper() or t.lower_ in _TITLE_JOINERS for t in doc[prep.i + 1:obj.i]):
                    end = obj.i + 1
                    while end < hi and doc[end].ent_type_ == "PERSON" and doc[end].ent_iob_ == "I":
                        end += 1
                    return end
    return None


def speaker_tokens(head: Token, lo: int, hi: int) -> tuple[int, int]:
    """Token range of a speaker noun phrase: left modifiers + head, never its appositive/relative clause.

    A title whose apposition is a name ("Spain's prime minister, Pedro Sanchez, said") gives the name.
    """
    if head.lower_ in ("who", "that", "which") and head.head.dep_ == "relcl" and head.head.head.i < head.i:
        relative = head.lower_
        head = head.head.head  # "Arianna Gil, 22, who helped found the group": the antecedent
        if relative == "who" and head.ent_type_ in ("GPE", "LOC", "FAC") and head.dep_ == "pobj":
            head = head.head.head  # "an engineer in Tehran, who ...": a "who" is never the place
        lo = min(lo, head.left_edge.i)
    if head.text.isupper() and len(head.text) <= 3 and head.i > 0 and doc_text_before(head) in ("-", "("):
        head = head.head if head.head.i != head.i else head  # "(R-OH)" after a name: the name
    if head.pos_ == "NOUN":
        name = _appositive_name(head, hi)
        if name is not None:
            head = name
            lo = max(lo, name.left_edge.i)
    named = _title_of_name(head, hi)
    if named is not None:
        return max(head.i, lo), min(named, hi)
    start = head.i
    for child in head.lefts:
        if child.dep_ in ("compound", "amod", "det", "poss", "nmod", "flat", "punct", "case", "nummod"):
            start = min(start, child.left_edge.i)
            break
    end = head.i + 1
    for child in head.rights:  # multi-token names split by the parser ("Ali Khamenei")
        if child.dep_ in ("flat", "compound") and child.i == end:
            end = child.i + 1
    return max(start, lo), min(end, hi)


# Entity labels of organisations and places (a speaker that is no person).
ORG_LABELS = frozenset(("ORG", "GPE", "NORP", "FAC"))


def _appositive_name(head: Token, hi: int) -> Token | None:
    """The person's name in apposition to a title noun, before ``hi``. The parser often hangs it
    on the last noun of the title's prepositional phrase instead ("The president of the European
    Central Bank, Christine Lagarde, said": ``Lagarde`` is an appos of ``Bank``); a name after an
    organisation or place still names the title's holder, so that attachment counts too."""
    def name_among(children) -> Token | None:
        for child in children:
            if child.dep_ == "appos" and child.pos_ == "PROPN" and child.ent_type_ == "PERSON" and child.i < hi:
                return child
        return None

    found = name_among(head.rights)
    if found is not None:
        return found
    for prep in head.rights:
        if prep.dep_ == "prep" and prep.lower_ in ("of", "for", "at"):
            for obj in prep.rights:
                # "the European Central Bank", "the UN refugee agency": an organisation or place,
                # not "the defendant, Dan Morris", where the name is the defendant's
                if obj.dep_ == "pobj" and any(t.ent_type_ in ORG_LABELS for t in (obj, *obj.lefts)):
                    return name_among(obj.rights)
    return None


def doc_text_before(token: Token) -> str:
    return token.doc[token.i - 1].text if token.i > 0 else ""


def _prev_token_speaker(doc: Doc, verb: Token, lo: int, hi: int) -> tuple[int, int] | None:
    """Fallback when the parse has no subject: a name/pronoun next to the cue ('Clinton, exasperated, responded')."""
    for j in range(verb.i - 1, max(lo, verb.i - 6) - 1, -1):
        token = doc[j]
        if token.pos_ in ("PROPN", "PRON") and token.lower_ not in ("it", "that", "this", "what", "who") and (
                token.ent_type_ not in ("DATE", "TIME")):
            return speaker_tokens(token, lo, hi)
        if token.pos_ not in ("ADV", "ADJ", "PUNCT", "AUX", "PART"):
            break
    j = verb.i + 1
    if lo <= j < hi and doc[j].pos_ == "PROPN" and doc[j].ent_type_ not in ("DATE", "TIME") and (
            CUE_FORMS.get(verb.lower_) not in _HEARER_CUES):
        # '"...," said Bolton' with a broken parse (never 'said Wednesday', never 'told TIME')
        return speaker_tokens(doc[j], lo, hi)
    return None


def _according_to(doc: Doc, lo: int, hi: int) -> tuple[Token, tuple[int, int]] | None:
    for j in range(lo, hi - 2):
        if doc[j].lower_ == "according" and doc[j + 1].lower_ == "to":
            for child in doc[j + 1].children:
                if child.dep_ == "pobj":
                    return doc[j], speaker_tokens(child, j + 2, hi)
            return doc[j], (j + 2, min(j + 3, hi))
    return None


def tokens_with_lower(doc: Doc, forms: frozenset[str], lowers=None) -> list[Token]:
    """Tokens whose lower-case form is one of ``forms``, found on the doc's arrays: a Python
    loop over every token (a Token object each) costs more than the rules that follow.
    ``lowers``: the doc's LOWER column, if at hand (``_DocView.arrays``)."""
    import numpy

    if not len(doc):
        return []
    if lowers is None:
        lowers = doc.to_array(LOWER)
    return [doc[int(i)] for i in numpy.flatnonzero(in_sorted(form_hashes(forms), lowers))]


class _DocView:
    """Token-level helpers for one doc: paragraph of each token, quote mask."""

    def __init__(self, doc: Doc, paragraphs: list[tuple[int, int]], spans: list[QuoteSpan],
                 text: str | None = None):
        self.doc = doc
        # Doc.text re-joins every token on each access: take it once.
        self.text = doc.text if text is None else text
        self.in_quote = bytearray(len(doc))
        # Paragraph of every token from the token offsets (no Python loop over Token objects).
        import numpy

        offsets = doc.to_array(IDX).astype(numpy.int64)
        firsts = numpy.array([start for start, _ in paragraphs[1:]], dtype=numpy.int64)
        para_of = numpy.searchsorted(firsts, offsets, side="right")
        self.para_of = para_of.tolist()
        # Each paragraph's tokens are a run of para_of (it never decreases); a paragraph
        # without tokens keeps (0, 0).
        numbers = numpy.arange(len(paragraphs))
        firsts_tok = numpy.searchsorted(para_of, numbers, side="left").tolist()
        ends_tok = numpy.searchsorted(para_of, numbers, side="right").tolist()
        self.para_tok: list[tuple[int, int]] = [(a, b) if a < b else (0, 0) for a, b in zip(firsts_tok, ends_tok)]
        # First token after each paragraph's wire dateline ("MADRID (AFP) -"), else its first token.
        self.body_tok = []
        for (c_start, c_end), (t_start, t_end) in zip(paragraphs, self.para_tok):
            body = dateline_end(self.text, c_start, c_end)
            k = t_start
            while body > c_start and k < t_end and doc[k].idx < body:
                k += 1
            self.body_tok.append(k)
        self.quote_tok: list[tuple[int, int]] = []
        for span in spans:
            char_span = doc.char_span(span.start, span.end, alignment_mode="expand")
            a, b = (char_span.start, char_span.end) if char_span is not None else (0, 0)
            self.quote_tok.append((a, b))
            if b > a:
                self.in_quote[a:b] = b"\x01" * (b - a)

    @functools.cached_property
    def arrays(self) -> TokenArrays:
        """The doc's token attributes as lists, for the stages that test most tokens."""
        return token_arrays(self.doc)


def _cue_after(view: _DocView, b: int, limit: int, generic: bool) -> tuple[Token, tuple[int, int] | None] | None:
    """First cue verb after a quote, in the same sentence: '..., X said' / '..., said X'.

    With ``generic``, any verb whose subject sits between the quote and the verb
    ('"...," Toomey fumed') is a cue: after '...,"' that slot only holds speech verbs.
    """
    doc = view.doc
    first_verb = None
    for j in range(b, min(limit, b + 30)):
        token = doc[j]
        if view.in_quote[j] or token.text in _SENTENCE_END:
            break
        if token.lower_ == "according" and j + 1 < limit and doc[j + 1].lower_ == "to":
            return _according_to(doc, j, limit)
        if _cue_lemma(token):
            return token, _speaker_of(view, token, b, limit)
        if first_verb is None and token.pos_ == "VERB":
            first_verb = token
    if generic and first_verb is not None and first_verb.i - b <= 8:
        subject = subject_of(first_verb)
        if subject is not None and b <= subject.i < limit and (_speaker_like(subject) or (
                subject.i == b and _named_after_quote(subject))):
            return first_verb, speaker_tokens(subject, b, limit)
    return None


def _cue_before(view: _DocView, lo: int, a: int, generic: bool) -> tuple[Token, tuple[int, int] | None] | None:
    """Last cue verb before a quote introduced by ':' or ','.

    With ``generic`` (a colon), the main verb of the lead-in counts as the cue
    ('Kasich resisted: "..."').
    """
    doc = view.doc
    found = _according_to(doc, lo, a)
    if found:
        return found
    root = None
    for j in range(a - 1, lo - 1, -1):
        if view.in_quote[j]:
            return None
        if _cue_lemma(doc[j]):
            return doc[j], _speaker_of(view, doc[j], lo, a)
        if doc[j].dep_ == "ROOT" and doc[j].pos_ in ("VERB", "AUX"):
            root = doc[j]
    if generic and root is not None:
        subject = subject_of(root)
        if subject is not None and lo <= subject.i < a and _speaker_like(subject):
            return root, speaker_tokens(subject, lo, a)
    return None


def _named_after_quote(token: Token) -> bool:
    """'"...?" Hannity pressed.': after a closing quote the tagger cannot use the capital letter
    (a sentence starts there), so a capitalised subject of the next verb is taken as a name."""
    return token.is_title and token.dep_ in ("nsubj", "nsubjpass") and token.i > 0 and token.doc[token.i - 1].is_quote


def _speaker_like(token: Token) -> bool:
    """A subject that can speak: a name, an organisation, or a personal pronoun."""
    return token.pos_ == "PROPN" or token.ent_type_ in ("PERSON", "ORG", "NORP", "GPE") or (
        token.lower_ in ("he", "she", "they", "i", "we"))


def _subject_past_dateline(view: _DocView, verb: Token, lo: int) -> tuple[Token | None, int]:
    """(subject of the verb, lowest speaker token) with a wire dateline skipped."""
    body = view.body_tok[view.para_of[verb.i]]
    lo = max(lo, body) if body <= verb.i else lo
    subject = subject_of(verb)
    if subject is not None and subject.i < lo <= verb.i and view.para_of[subject.i] == view.para_of[verb.i]:
        subject = _past_dateline(view.doc, subject, lo, verb.i)
    return subject, lo


def _speaker_of(view: _DocView, verb: Token, lo: int, hi: int) -> tuple[int, int] | None:
    subject, lo = _subject_past_dateline(view, verb, lo)
    if subject is not None and not view.in_quote[subject.i] and lo <= subject.i < hi and subject.ent_type_ not in (
            "DATE", "TIME"):
        return speaker_tokens(subject, lo, hi)
    return _prev_token_speaker(view.doc, verb, lo, hi)


def _past_dateline(doc: Doc, subject: Token, lo: int, verb_i: int) -> Token | None:
    """The parser made the dateline's city the subject ('MADRID (AFP) - Spanish Prime Minister
    Pedro Sanchez ... called'): the real subject is its apposition after the dateline, else the
    first name or noun heading a phrase between the dateline and the verb."""
    for child in subject.children:
        if child.dep_ == "appos" and lo <= child.i < verb_i:
            return child
    for token in doc[lo:verb_i]:
        if token.pos_ in ("PROPN", "NOUN", "PRON"):
            # The head of the phrase the word is in ("Secretary of State Marco Rubio": not "State",
            # the object of its "of", but Rubio).
            top = token
            while lo <= top.head.i < verb_i and top.head.i != top.i:
                top = top.head
            if top.pos_ in ("PROPN", "NOUN", "PRON"):
                return top
    return None


def _sentence_start_before(doc: Doc, view: _DocView, lo: int, a: int) -> int:
    """Index after the last sentence end or quote between lo and a."""
    for j in range(a - 1, lo - 1, -1):
        if doc[j].text in _SENTENCE_END or view.in_quote[j]:
            return j + 1
    return lo


def _starts_new_sentence(doc: Doc, b: int, cue: Token) -> bool:
    """'"... voters." Asked about it, she said:' -- after a closing period only '"...." X said' binds."""
    return cue.i - b > 4 or (cue.i == b and cue.text[:1].isupper()) or any(
        child.dep_ == "ccomp" and child.i > cue.i for child in cue.children)


_DASHES = frozenset(("\u2015", "\u2014", "\u2013", "-", "--"))


def _dash_signature(doc: Doc, b: int, limit: int) -> tuple[None, tuple[int, int]] | None:
    """'"..." \u2015 Sonya Herridge': a pull-quote/vox-pop signature right after the quote."""
    while b < limit and doc[b].is_space:
        b += 1
    if b >= limit:
        return None
    if doc[b].text not in _DASHES:
        if not (b > 0 and doc[b - 1].text[-1:] in "\u2015\u2014\u2013"):  # tokenizer kept '\u201d\u2015' together
            return None
        b -= 1
    end = b + 1
    while end < limit and end - b <= 5 and doc[end].pos_ == "PROPN":
        end += 1
    return (None, (b + 1, end)) if end > b + 1 else None


def _name_before_colon(doc: Doc, lo: int, a: int) -> tuple[None, tuple[int, int]] | None:
    """'Here's Clinton in 1992: "..."' / 'Trump: "..."': the last named person or group before the colon."""
    best = None
    for ent in doc.ents:
        if ent.start >= a:
            break
        if ent.start >= lo and ent.label_ in ("PERSON", "ORG") and (best is None or ent.label_ == "PERSON"
                                                                     or best.label_ != "PERSON"):
            best = ent
    return (None, (best.start, best.end)) if best is not None else None


def _direct_cue(view: _DocView, span: QuoteSpan, a: int, b: int, sent_lo: int, lead_text: str,
                after_limit: int, p_start: int) -> tuple[Token | None, tuple[int, int] | None] | None:
    """(cue, speaker token range) of a sentence-level quote, trying the news patterns in order."""
    doc = view.doc
    inner_end = view.text[span.start:span.end].rstrip(_DOUBLE_MARKS + "'` ")[-1:]
    found = None
    if lead_text.endswith(":"):
        found = _cue_before(view, sent_lo, a, generic=True)  # 'X said: "..."', 'Kasich resisted: "..."'
    elif inner_end in ",\u2014-" or inner_end in "?!" and b < len(doc) and (
            doc[b].is_lower or doc[b].pos_ == "PROPN" or _named_after_quote(doc[b])):
        # '"...," he wrote' -- the quote is the object of the cue that follows it.
        found = _cue_after(view, b, after_limit, generic=True)
    if found is None and lead_text.endswith(","):
        found = _cue_before(view, sent_lo, a, generic=False)  # 'X said, "..."'
    if found is None:
        found = _dash_signature(doc, b, after_limit)
    if found is None and lead_text.endswith(":"):
        found = _name_before_colon(doc, sent_lo, a)
    if found is None:
        found = _cue_after(view, b, after_limit, generic=False)
        if found is not None and found[0] is not None and inner_end == "." and _starts_new_sentence(
                doc, b, found[0]):
            found = None
    colon = p_start - 1
    while colon > 0 and doc[colon].is_space:
        colon -= 1
    if found is None and not lead_text and colon > 0 and doc[colon].text == ":":
        # 'X issued the following statement:' closing the previous paragraph.
        prev_start = view.para_tok[view.para_of[colon]][0]
        found = _cue_before(view, prev_start, colon + 1, generic=True)
    return found


def find_attributions(doc: Doc, paragraphs: list[tuple[int, int]] | None = None,
                      text: str | None = None) -> list[Attribution]:
    """Direct, mixed and indirect attributions, in text order (``text``: ``doc.text``, if at hand)."""
    return find_attributions_and_rest(doc, paragraphs, text)[0]


@dataclass
class RuleOutput:
    """What the rules leave for the learned layer: the doc view and the quote spans no rule used."""

    view: "_DocView | None"
    leftover: list[tuple[QuoteSpan, int, int]]  # (span, first token, end token)
    spans: list[QuoteSpan] = field(default_factory=list)  # every quote span (find_quote_spans)


def find_attributions_and_rest(doc: Doc, paragraphs: list[tuple[int, int]] | None = None,
                               text: str | None = None) -> tuple[list[Attribution], RuleOutput]:
    """``find_attributions`` plus the quote spans that no attribution covers (candidates for
    ``transforms.quote_model``)."""
    text = doc.text if text is None else text
    paragraphs = paragraph_bounds(text) if paragraphs is None else paragraphs
    spans = find_quote_spans(text, paragraphs)
    if not len(doc) or not paragraphs:
        return [], RuleOutput(None, [], spans)
    view = _DocView(doc, paragraphs, spans, text)
    used_cues: set[int] = set()
    direct: list[Attribution] = []
    partial: list[tuple[QuoteSpan, int, int]] = []
    for q_index, (span, (a, b)) in enumerate(zip(spans, view.quote_tok)):
        if b <= a:
            continue
        p_start, p_end = view.para_tok[view.para_of[a]]
        end_par_end = view.para_tok[view.para_of[b - 1]][1]
        next_quote = view.quote_tok[q_index + 1][0] if q_index + 1 < len(spans) else len(doc)
        prev_quote_end = view.quote_tok[q_index - 1][1] if q_index else 0
        lo = max(view.body_tok[view.para_of[a]], prev_quote_end)
        sent_lo = _sentence_start_before(doc, view, lo, a) if lo < a else a
        lead_text = doc[sent_lo:a].text.strip()
        confidence = 0.6 if span.recovered else 0.9
        if lead_text and lead_text[-1] not in ":,":
            # Quote embedded in a sentence: a partial quote (mixed) or scare quotes.
            partial.append((span, a, b))
            continue
        found = _direct_cue(view, span, a, b, sent_lo, lead_text, min(end_par_end, next_quote), p_start)
        if found is None:
            if span.recovered or (b - a) < 5:
                continue
            direct.append(Attribution(span.start, span.end, "direct", None,
                                      continues_previous=True, confidence=confidence * 0.7))
            continue
        cue, speaker = found
        if cue is not None:
            used_cues.add(cue.i)
        attribution = Attribution(span.start, span.end, "direct", cue, confidence=confidence)
        if speaker is not None:
            attribution.speaker_start, attribution.speaker_end = speaker
        else:
            attribution.continues_previous = True
            attribution.confidence *= 0.7
        direct.append(attribution)
    reported = _reported_speech(doc, view, used_cues, partial)
    reported += _according_to_clauses(doc, view, used_cues)
    found = sorted(direct + reported, key=lambda att: att.start)
    leftover = [(span, a, b) for span, (a, b) in zip(spans, view.quote_tok)
                if b > a and not any(att.start < span.end and att.end > span.start for att in found)]
    return found, RuleOutput(view, leftover, spans)


def _according_to_clauses(doc: Doc, view: _DocView, used_cues: set[int]) -> list[Attribution]:
    """'Sales fell, according to the report': the rest of the sentence is the content."""
    out = []
    for token in tokens_with_lower(doc, _ACCORDING, view.arrays.columns[:, 2]):
        if token.i in used_cues or view.in_quote[token.i]:
            continue
        if token.i + 1 >= len(doc) or doc[token.i + 1].lower_ != "to":
            continue
        found = _according_to(doc, token.i, min(len(doc), token.i + 12))
        if found is None:
            continue
        sentence = token.sent
        p_start, p_end = view.para_tok[view.para_of[token.i]]
        lo, hi = max(sentence.start, p_start), min(sentence.end, p_end)
        phrase_end = max(found[1][1], token.right_edge.i + 1)
        before, after = (lo, token.i), (phrase_end, hi)
        c_start, c_end = before if before[1] - before[0] >= after[1] - after[0] else after
        while c_end > c_start and (doc[c_end - 1].is_punct or doc[c_end - 1].is_space):
            c_end -= 1
        while c_start < c_end and (doc[c_start].is_punct or doc[c_start].is_space):
            c_start += 1
        if c_end - c_start < 3:
            continue
        kind = "mixed" if any(view.in_quote[k] for k in range(c_start, c_end)) else "indirect"
        out.append(Attribution(doc[c_start].idx, doc[c_end - 1].idx + len(doc[c_end - 1]), kind, token,
                               found[1][0], found[1][1], confidence=0.7))
    return out


def _content_range(verb: Token, lemma: str) -> tuple[int, int] | None:
    """Token range of what was said: ccomp (or object/infinitive for urge/accuse-type cues)."""
    if lemma in ("call", "describe"):
        # Only 'called X a Y' / 'described X as Y' / 'called for Z' -- not 'called a meeting'.
        children = [c for c in verb.children if c.dep_ in ("dobj", "oprd", "xcomp", "ccomp", "prep")]
        if not any(c.dep_ in ("oprd", "xcomp", "ccomp") or c.lower_ in ("as", "for") for c in children):
            return None
        children = [c for c in children if c.dep_ != "prep" or c.lower_ in ("as", "for")]
        return min(c.left_edge.i for c in children), max(c.right_edge.i for c in children) + 1
    deps = ("ccomp",) if lemma not in _OBJECT_CUES else ("ccomp", "xcomp", "dobj", "prep")
    if lemma in ("tell", "write"):
        deps = ("ccomp", "dobj")
    children = [c for c in verb.children if c.dep_ in deps]
    if lemma == "tell" and any(c.dep_ == "ccomp" for c in children):
        # "told reporters (that) X": the object is who heard it, not what was said
        children = [c for c in children if c.dep_ == "ccomp"]
    if lemma in _OBJECT_CUES:
        children = [c for c in children if c.dep_ != "prep" or c.lower_ in ("of", "against", "for")]
    if not children:
        return None
    start = min(c.left_edge.i for c in children)
    end = max(c.right_edge.i for c in children) + 1
    return start, end


def _parenthetical_content(verb: Token) -> tuple[int, int] | None:
    """'Any attempt, he said, becomes hopeless': the larger side of the sentence around ', X said,'."""
    subject = subject_of(verb)
    if subject is None or subject.head.i != verb.i:
        return None
    doc = verb.doc
    clause_start = min(subject.left_edge.i, verb.i)
    clause_end = verb.right_edge.i + 1
    if clause_start == 0 or doc[clause_start - 1].text != ",":
        return None
    sentence = verb.sent
    before = (sentence.start, clause_start - 1)
    after = (clause_end + 1 if clause_end < len(doc) and doc[clause_end].text == "," else clause_end,
             sentence.end)
    return before if before[1] - before[0] >= after[1] - after[0] else after


def _reported_speech(doc: Doc, view: _DocView, used_cues: set[int],
                     partial: list[tuple[QuoteSpan, int, int]]) -> list[Attribution]:
    out: list[Attribution] = []
    claimed: set[tuple[int, int]] = set()
    for token in tokens_with_lower(doc, _INDIRECT_FORMS, view.arrays.columns[:, 2]):
        if view.in_quote[token.i] or token.i in used_cues:
            continue
        lemma = _cue_lemma(token)
        if lemma is None or lemma in _DIRECT_ONLY:
            continue
        content = _content_range(token, lemma)
        if content is None and lemma not in _OBJECT_CUES:
            content = _parenthetical_content(token)
        if content is None:
            continue
        p_start, p_end = view.para_tok[view.para_of[token.i]]
        c_start, c_end = max(content[0], p_start), min(content[1], p_end)
        while c_end > c_start and (doc[c_end - 1].is_space or doc[c_end - 1].is_punct
                                   and doc[c_end - 1].text not in _DOUBLE_MARKS + "\u2019"):
            c_end -= 1
        if c_end - c_start < 3:
            continue
        subject, s_lo = _subject_past_dateline(view, token, p_start)
        speaker = None
        if subject is not None and not (c_start <= subject.i < c_end):
            speaker = speaker_tokens(subject, s_lo, p_end)
        if speaker is None:
            continue
        start_char = doc[c_start].idx
        end_char = doc[c_end - 1].idx + len(doc[c_end - 1])
        inner = [p for p in partial if p[1] >= c_start and p[2] <= c_end + 1]
        kind = "mixed" if inner or any(view.in_quote[k] for k in range(c_start, c_end)) else "indirect"
        if (c_start, c_end) in claimed:
            continue  # two cues governing one clause ("said and added")
        claimed.add((c_start, c_end))
        att = Attribution(start_char, end_char, kind, token, speaker[0], speaker[1],
                          confidence=0.75 if kind == "mixed" else 0.7)
        out.append(att)
    return out
