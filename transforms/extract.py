"""Single entry point: texts in, quotes (with speakers and leadership) and entities out.

Offsets are exact character offsets into the text passed in (clean it first with
``transforms.text.clean_text``; extraction never alters the text).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc

from transforms.batching import budget_batches
from transforms.code_text import code_paragraphs
from transforms.entities import EntityRecord, Mention, find_mentions, summarise
from transforms.extraction_models import ExtractionModels
from transforms.leaders import Gazetteer, Role, article_roles, default_gazetteer, speaker_role
from transforms.nlp import bound_text, load_nlp
from transforms.near_copy_parse import parse_batch
from transforms.quotes import Attribution, RuleOutput, find_attributions_and_rest, paragraph_bounds
from transforms.reported_speech import DEFAULT as DEFAULT_REPORTED_SPEECH
from transforms.reported_speech import keeps
from transforms.speakers import SpeakerResolver
from transforms.statement_identity import statement_id


@dataclass
class QuoteRecord:
    # Character offsets into the text, named like spaCy's Span.start_char / end_char and the
    # `quotes` columns (`start` and `end` are reserved words in Trino/Athena).
    start_char: int
    end_char: int
    text: str
    kind: str  # direct | mixed | indirect
    cue: str | None
    speaker: str | None  # as written ("he", "the Supreme Leader", "Khamenei")
    speaker_name: str | None  # resolved canonical name
    speaker_role: str | None
    speaker_country: str | None
    is_leadership: bool
    statement_id: str
    confidence: float
    speaker_start: int | None = None
    speaker_end: int | None = None
    speaker_kind: str | None = None  # person | organisation, when known

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DocumentExtraction:
    id: str
    quotes: list[QuoteRecord] = field(default_factory=list)
    entities: list[EntityRecord] = field(default_factory=list)
    nlp_truncated: bool = False  # the text passed max_chars: only its first part was read

    def to_json(self) -> dict:
        """`newsbeam extract`'s line. Quotes carry `start_char`/`end_char` like the `quotes` table,
        and (deprecated, for scripts written before the rename) the same offsets as `start`/`end`."""
        return {"id": self.id, "quotes": [{**q.to_dict(), **_legacy_offsets(q)} for q in self.quotes],
                "entities": [e.to_dict() for e in self.entities], "nlp_truncated": self.nlp_truncated}


def _legacy_offsets(q: QuoteRecord) -> dict:
    return {"start": q.start_char, "end": q.end_char}


def _as_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def extract_doc(doc_id: str, doc: Doc, date=None, gazetteer: Gazetteer | None = None,
                models: ExtractionModels | None = None,
                reported_speech: str = DEFAULT_REPORTED_SPEECH, text: str | None = None) -> DocumentExtraction:
    """Rules and the shipped models over one parsed document (no re-parsing).

    ``models``: the learned layer (``ExtractionModels.default()`` when None;
    ``ExtractionModels.off()`` for the rules alone). ``reported_speech``: which reported
    speech is kept (``transforms/reported_speech.py``). ``text``: the text the doc was parsed
    from, when the caller has it (it is ``doc.text``, which re-joins every token).
    """
    return extract_docs([(doc_id, doc, date, text)], gazetteer, models, reported_speech)[0]


def extract_docs(items: list[tuple[str, Doc, object, str | None]], gazetteer: Gazetteer | None = None,
                 models: ExtractionModels | None = None,
                 reported_speech: str = DEFAULT_REPORTED_SPEECH) -> list[DocumentExtraction]:
    """``extract_doc`` over a batch of ``(id, doc, date, text or None)``: the same results,
    with each model scoring the whole batch in one call (``ExtractionModels.apply_batch``)."""
    gazetteer = gazetteer or default_gazetteer()
    models = models or ExtractionModels.default()
    rules = [_RuleStage.of(doc, text) for _, doc, _, text in items]
    found = models.apply_batch([(r.doc, r.text, r.mentions, r.attributions, r.rest) for r in rules])
    return [r.finish(doc_id, _as_date(date), attributions, gazetteer, reported_speech)
            for (doc_id, _, date, _), r, attributions in zip(items, rules, found)]


@dataclass
class _RuleStage:
    """One document after the rules, before the models: what ``finish`` resolves and writes."""
    doc: Doc
    text: str
    paragraphs: list[tuple[int, int]]
    mentions: list[Mention]
    roles: dict[str, Role]
    attributions: list[Attribution]
    rest: RuleOutput

    @staticmethod
    def of(doc: Doc, text: str | None) -> "_RuleStage":
        if text is None or not _spells(doc, text):
            text = doc.text
        paragraphs = paragraph_bounds(text)
        mentions = find_mentions(doc, text)
        roles = article_roles(doc, mentions)
        attributions, rest = find_attributions_and_rest(doc, paragraphs, text)
        return _RuleStage(doc, text, paragraphs, mentions, roles, attributions, rest)

    def finish(self, doc_id: str, day: dt.date | None, attributions: list[Attribution], gazetteer: Gazetteer,
               reported_speech: str) -> DocumentExtraction:
        doc, text, roles = self.doc, self.text, self.roles
        code = code_paragraphs(text, self.paragraphs)
        if code:  # a clause of program code is nobody's reported speech (transforms/code_text.py)
            attributions = [a for a in attributions if not any(start <= a.start < end for start, end in code)]
        resolver = SpeakerResolver(doc, self.mentions, self.rest.spans, roles, gazetteer, day, self.paragraphs)
        quotes = []
        for att in attributions:
            speaker = resolver.resolve(att)  # every attribution, kept or not: it may be the next one's speaker
            if not keeps(att.kind, speaker.text, reported_speech, att.cue.text if att.cue is not None else None):
                continue
            role = speaker_role(speaker.name, roles, gazetteer, day)
            quote_text = text[att.start:att.end]
            quotes.append(QuoteRecord(
                start_char=att.start, end_char=att.end, text=quote_text, kind=att.kind,
                cue=att.cue.text if att.cue is not None else None,
                speaker=speaker.text, speaker_name=speaker.name,
                speaker_role=role.role if role else None, speaker_country=role.country if role else None,
                is_leadership=bool(role and role.is_leader),
                statement_id=statement_id(quote_text, speaker.name),
                confidence=round(min(1.0, max(0.0, speaker.confidence)), 3),
                speaker_start=speaker.start, speaker_end=speaker.end, speaker_kind=speaker.kind))
        return DocumentExtraction(doc_id, quotes, summarise(self.mentions))


def _spells(doc: Doc, text: str) -> bool:
    """Whether ``text`` is the doc's text (a cheap check: its length, first and last token)."""
    if not len(doc):
        return text == ""
    last = doc[-1]
    return (isinstance(text, str) and last.idx + len(last.text_with_ws) == len(text)
            and text.startswith(doc[0].text) and text.endswith(last.text_with_ws))


def extract_documents(docs: Iterable[tuple[str, str, object]], nlp: Language | None = None,
                      batch_size: int = 32, gazetteer: Gazetteer | None = None,
                      batch_chars: int | None = None,
                      models: ExtractionModels | None = None,
                      max_chars: int | None = None,
                      reported_speech: str = DEFAULT_REPORTED_SPEECH) -> Iterator[DocumentExtraction]:
    """Parse ``(id, text, date or None)`` triples in batches and yield one extraction each.

    ``models``: the learned layer (default: the shipped models; ``ExtractionModels.off()``
    for the rules alone). ``reported_speech``: ``sources`` (default), ``all`` or ``none``
    (``transforms/reported_speech.py``).

    With ``batch_chars`` a batch also ends before its texts pass that many characters: spaCy's
    memory follows the characters in flight (transforms/batching.py). The Beam pipeline hands
    over batches already cut that way. With ``max_chars`` a longer text is read only up to a
    paragraph or sentence end within that many characters (``nlp.bound_text``); its extraction
    says ``nlp_truncated`` and its offsets stay offsets into the full text.
    """
    nlp = nlp or load_nlp()
    gazetteer = gazetteer or default_gazetteer()
    models = models or ExtractionModels.default()
    keeps("direct", None, reported_speech)  # an unknown policy fails before any parsing
    docs = _bounded(docs, max_chars)
    if batch_chars:
        for batch in budget_batches(docs, batch_size, batch_chars, _text_chars):
            yield from _extract_batches(batch, nlp, len(batch), gazetteer, models, reported_speech)
    else:
        yield from _extract_batches(docs, nlp, batch_size, gazetteer, models, reported_speech)


def _bounded(docs: Iterable[tuple[str, str, object]], max_chars: int | None) -> Iterator[tuple]:
    """(id, text, date) -> (id, text as the NLP reads it, date, truncated)."""
    for doc_id, text, date in docs:
        text, cut = bound_text(text, max_chars) if isinstance(text, str) else (text, False)
        yield doc_id, text, date, cut


def _text_chars(doc: tuple) -> int:
    return len(doc[1]) if isinstance(doc[1], str) else 0


def _extract_batches(docs: Iterable[tuple], nlp: Language, batch_size: int,
                     gazetteer: Gazetteer, models: ExtractionModels,
                     reported_speech: str) -> Iterator[DocumentExtraction]:
    for batch in _chunks(docs, batch_size):
        # Near copies in the batch are parsed only where they differ (transforms/near_copy_parse.py).
        parsed = parse_batch(nlp, [text for _, text, _, _ in batch])
        results = extract_docs([(doc_id, doc, date, text) for doc, (doc_id, text, date, _) in zip(parsed, batch)],
                               gazetteer, models, reported_speech)
        for result, (_, _, _, cut) in zip(results, batch):
            result.nlp_truncated = cut
            yield result


def _chunks(items: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
