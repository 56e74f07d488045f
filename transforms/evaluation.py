"""Scoring quote extraction against PolNeAR brat standoff gold.

Layout: ``<root>/<split>/text/<name>.txt`` and ``<root>/<split>/attributions/<name>_<annotator>.ann``.
``T`` lines are spans typed Source / Cue / Content (``a b;c d`` = discontinuous),
``E`` lines tie them into one attribution. When an article has several annotators'
files, the first in sorted order is used.

Two definitions are scored; ``newsbeam eval`` prints both.

Definition (a), the project's first one (kept deliberately strict):

* **Direct quote (gold)**: an attribution whose Content, trimmed of whitespace and of
  trailing ``.,;:``, starts with a double quote mark and ends with one (straight,
  curly, guillemets, or the two-apostrophe/backtick form ``''`` used by some wire
  archives), or whose
  Content is enclosed by double quote marks in the text (the nearest non-space
  character before it is a mark and the nearest non-space character after it,
  skipping ``.,;:``, is a mark).
* **Match**: a predicted quote matches a gold attribution when their character
  spans overlap (any piece of a discontinuous gold Content). Precision = share of
  predictions that match a gold item of the evaluated set; recall = share of gold
  items matched by some prediction. For the direct set only ``kind == "direct"``
  predictions are scored, and only against direct gold; for "all attributions"
  every prediction is scored against every gold Content.
* **Speaker accuracy**: over matched predictions whose best-overlapping gold has a
  Source, the share where the predicted speaker span overlaps the gold Source, or
  where the gold Source span is a different mention of the same person (the last
  word of our resolved name occurs as a word in the gold Source text, as with a
  pronoun resolved to a name the gold Source spells out). No speaker = wrong.

Definition (b), the way the anchors (the SFU Gender Gap Tracker and similar tools) score
themselves (issue 17):

* **Direct quote**: gold Content that *holds* a double quotation mark anywhere (straight,
  curly, low-9, or the ``''`` / ````` ``` pair of NYT copy), so partial quotes count; a
  prediction is direct by the same rule applied to its own text.
* **Match**: a prediction matches a gold Content when the characters they share cover at
  least half of the shorter of the two (a discontinuous gold Content counts its pieces'
  characters). Several predicted pieces may match one gold (``"A," he said, "B"`` is one
  PolNeAR attribution). Precision = share of predictions that match some gold of the set;
  recall = share of gold matched by some prediction.
* **Speaker**: scored on every matched prediction whose gold (of those it matches, the most
  similar one: shared characters / characters of both; for nested attributions the innermost)
  has a Source that is not a bare pronoun. Right when the resolved name (``speaker_name``,
  else the speaker as written) shares a content word with the gold Source's text. No speaker
  = wrong.

``score_polnear(pred_fn, split, definition)`` is the one call for both: ``pred_fn`` maps
``(id, text, date)`` triples to extractions in the same order.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from transforms.extract import DocumentExtraction, QuoteRecord

_DOUBLE = "\"\u201c\u201d\u201e\u00ab\u00bb"
_TRAILING = ".,;: \n\t"
DEFAULT_POLNEAR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "polnear"
DEFINITIONS = ("a", "b")
# Definition (b): what "holds a double quotation mark" means.
_HOLDS_DOUBLE_MARK = re.compile("[\"\u201c\u201d\u201e]|''|``")
# Gold sources skipped by definition (b) speaker accuracy: a bare pronoun names nobody.
_PRONOUNS = frozenset("""
he she it they i we you him her them us me his hers its their theirs our ours my mine your yours
who whom whose which that this these those one someone somebody anyone everyone everybody
himself herself itself themselves ourselves myself yourself
""".split())
# Words that never identify a speaker: articles, prepositions, conjunctions, possessive 's.
_FUNCTION_WORDS = _PRONOUNS | frozenset("""
the a an of for to in on at by with from and or but 's s as about into over after before
""".split())
_WORD_RE = re.compile(r"[^\W_]+(?:[-'\u2019][^\W_]+)*")


@dataclass
class GoldAttribution:
    content: list[tuple[int, int]]
    source: list[tuple[int, int]] = field(default_factory=list)
    cue: list[tuple[int, int]] = field(default_factory=list)
    direct: bool = False


@dataclass
class GoldDocument:
    name: str
    text: str
    date: str | None
    attributions: list[GoldAttribution]


def _spans(field_text: str) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in part.split()) for part in field_text.split(";")]


def is_direct(text: str, pieces: list[tuple[int, int]]) -> bool:
    """The gold "direct quote" rule described in the module docstring."""
    start, end = pieces[0][0], pieces[-1][1]
    inner = text[start:end].strip().rstrip(_TRAILING)
    if len(inner) > 2 and _opens(inner) and _closes(inner):
        return True
    return _closes(text[:start].rstrip()) and _opens(text[end:].lstrip(_TRAILING))


def _opens(s: str) -> bool:
    return s[:1] in _DOUBLE or s[:2] in ("''", "``")


def _closes(s: str) -> bool:
    return s[-1:] in _DOUBLE or s[-2:] in ("''", "``")


def read_ann(ann_text: str, text: str) -> list[GoldAttribution]:
    """Attributions of one brat file (E lines over T spans)."""
    spans: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    events: list[list[str]] = []
    for line in ann_text.splitlines():
        if line.startswith("T"):
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            kind, _, offsets = parts[1].partition(" ")
            spans[parts[0]] = (kind, _spans(offsets))
        elif line.startswith("E"):
            parts = line.split("\t")
            if len(parts) >= 2:
                events.append(parts[1].split())
    out = []
    for args in events:
        roles: dict[str, list[tuple[int, int]]] = {}
        for arg in args[1:]:
            role, _, ref = arg.partition(":")
            if ref in spans:
                roles.setdefault(role.rstrip("0123456789"), []).extend(spans[ref][1])
        if "Content" not in roles:
            continue
        content = sorted(roles["Content"])
        out.append(GoldAttribution(content, sorted(roles.get("Source", [])), sorted(roles.get("Cue", [])),
                                   is_direct(text, content)))
    return out


def _dates(root: Path) -> dict[str, str]:
    meta = root / "metadata.tsv"
    if not meta.exists():
        return {}
    with meta.open(encoding="utf-8") as handle:
        return {row["filename"]: row["publication_date"] for row in csv.DictReader(handle, delimiter="\t")}


def load_split(root: str | Path, split: str = "dev") -> list[GoldDocument]:
    """Gold documents of one split, one annotator per article (first file in sorted order)."""
    root = Path(root)
    dates = _dates(root)
    chosen: dict[str, Path] = {}
    for ann in sorted((root / split / "attributions").glob("*.ann")):
        name = re.sub(r"_[^_]+$", "", ann.stem)
        chosen.setdefault(name, ann)
    docs = []
    for name, ann in sorted(chosen.items()):
        text_path = root / split / "text" / f"{name}.txt"
        text = text_path.read_text(encoding="utf-8")
        docs.append(GoldDocument(name, text, dates.get(name), read_ann(ann.read_text(encoding="utf-8"), text)))
    return docs


def _overlap(a: tuple[int, int], pieces: Iterable[tuple[int, int]]) -> int:
    return sum(max(0, min(a[1], e) - max(a[0], s)) for s, e in pieces)


def _speaker_correct(quote: QuoteRecord, gold: GoldAttribution, text: str) -> bool:
    if quote.speaker_start is not None and _overlap((quote.speaker_start, quote.speaker_end), gold.source):
        return True
    if not quote.speaker_name:
        return False
    surname = quote.speaker_name.split()[-1]
    gold_text = " ".join(text[s:e] for s, e in gold.source)
    return re.search(r"\b" + re.escape(surname) + r"\b", gold_text) is not None


@dataclass
class Score:
    predicted: int = 0
    correct_predictions: int = 0
    gold: int = 0
    found_gold: int = 0
    speaker_total: int = 0
    speaker_correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct_predictions / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.found_gold / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def speaker_accuracy(self) -> float:
        return self.speaker_correct / self.speaker_total if self.speaker_total else 0.0

    def as_dict(self) -> dict:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "speaker_accuracy": round(self.speaker_accuracy, 4), "predicted": self.predicted,
                "gold": self.gold, "speaker_scored": self.speaker_total}


def score_document(gold: GoldDocument, extraction: DocumentExtraction, direct_only: bool, score: Score) -> None:
    golds = [g for g in gold.attributions if g.direct or not direct_only]
    preds = [q for q in extraction.quotes if q.kind == "direct" or not direct_only]
    score.gold += len(golds)
    score.predicted += len(preds)
    found = set()
    for quote in preds:
        overlaps = [(_overlap((quote.start_char, quote.end_char), g.content), k) for k, g in enumerate(golds)]
        best, k = max(overlaps, default=(0, -1))
        if best <= 0:
            continue
        score.correct_predictions += 1
        found.update(j for amount, j in overlaps if amount > 0)
        if golds[k].source:
            score.speaker_total += 1
            score.speaker_correct += _speaker_correct(quote, golds[k], gold.text)
    score.found_gold += len(found)


def evaluate(golds: list[GoldDocument], extractions: list[DocumentExtraction]) -> dict[str, Score]:
    """Scores for direct quotes and for all attributions."""
    scores = {"direct": Score(), "all": Score()}
    for gold, extraction in zip(golds, extractions):
        score_document(gold, extraction, True, scores["direct"])
        score_document(gold, extraction, False, scores["all"])
    return scores


def format_table(scores: dict[str, Score]) -> str:
    lines = [f"{'set':<8}{'P':>8}{'R':>8}{'F1':>8}{'spk acc':>9}{'pred':>7}{'gold':>7}"]
    for name, s in scores.items():
        lines.append(f"{name:<8}{s.precision:>8.3f}{s.recall:>8.3f}{s.f1:>8.3f}{s.speaker_accuracy:>9.3f}"
                     f"{s.predicted:>7}{s.gold:>7}")
    return "\n".join(lines)


# ---------------------------------------------------------------- definition (b)

def holds_double_mark(text: str) -> bool:
    """Definition (b): direct when the text holds a double quotation mark anywhere."""
    return _HOLDS_DOUBLE_MARK.search(text) is not None


def content_words(text: str) -> set[str]:
    """Lower-cased words of a name, function words and pronouns dropped ("the State Department"
    -> {"state", "department"}; "Trump's" -> {"trump"})."""
    words = set()
    for word in _WORD_RE.findall(text.lower().replace("\u2019", "'")):
        if word.endswith("'s"):
            word = word[:-2]
        if word and word not in _FUNCTION_WORDS:
            words.add(word)
    return words


def _is_bare_pronoun(text: str) -> bool:
    words = _WORD_RE.findall(text.lower())
    return not words or all(w in _PRONOUNS for w in words)


def _length(pieces: Iterable[tuple[int, int]]) -> int:
    return sum(e - s for s, e in pieces)


def _matches_b(pred: tuple[int, int], gold: list[tuple[int, int]]) -> int:
    """Shared characters when they cover at least half of the shorter span, else 0."""
    shared = _overlap(pred, gold)
    shorter = min(pred[1] - pred[0], _length(gold))
    return shared if shared > 0 and 2 * shared >= shorter else 0


def speaker_correct_b(quote: QuoteRecord, gold: GoldAttribution, text: str) -> bool:
    """Definition (b): the resolved name shares a content word with the gold Source."""
    name = quote.speaker_name or quote.speaker
    if not name:
        return False
    gold_source = " ".join(text[s:e] for s, e in gold.source)
    return bool(content_words(name) & content_words(gold_source))


def score_document_b(gold: GoldDocument, extraction: DocumentExtraction, direct_only: bool,
                     score: Score) -> None:
    golds = [g for g in gold.attributions
             if not direct_only or holds_double_mark(" ".join(gold.text[s:e] for s, e in g.content))]
    preds = [q for q in extraction.quotes if not direct_only or holds_double_mark(q.text)]
    score.gold += len(golds)
    score.predicted += len(preds)
    found = set()
    for quote in preds:
        matches = [(_matches_b((quote.start_char, quote.end_char), g.content), k) for k, g in enumerate(golds)]
        matched = [(amount, k) for amount, k in matches if amount > 0]
        if not matched:
            continue
        score.correct_predictions += 1
        found.update(k for _, k in matched)
        # The gold whose span is most like the prediction's (shared / union): for nested
        # attributions ('"...," X said, according to the Post') the innermost one.
        length = quote.end_char - quote.start_char
        _, k = max((amount / (length + _length(golds[j].content) - amount), j) for amount, j in matched)
        source = " ".join(gold.text[s:e] for s, e in golds[k].source)
        if golds[k].source and not _is_bare_pronoun(source):
            score.speaker_total += 1
            score.speaker_correct += speaker_correct_b(quote, golds[k], gold.text)
    score.found_gold += len(found)


def evaluate_by(golds: list[GoldDocument], extractions: list[DocumentExtraction],
                definition: str = "b") -> dict[str, Score]:
    """{"direct": Score, "all": Score} by definition "a" or "b"."""
    if definition not in DEFINITIONS:
        raise ValueError(f"unknown definition {definition!r}: use one of {', '.join(DEFINITIONS)}")
    if definition == "a":
        return evaluate(golds, extractions)
    scores = {"direct": Score(), "all": Score()}
    for gold, extraction in zip(golds, extractions):
        score_document_b(gold, extraction, True, scores["direct"])
        score_document_b(gold, extraction, False, scores["all"])
    return scores


@dataclass
class Scores:
    """Scores of one definition on one split."""

    definition: str
    split: str
    documents: int
    direct: Score
    all: Score

    def as_dict(self) -> dict:
        return {"definition": self.definition, "split": self.split, "documents": self.documents,
                "direct": self.direct.as_dict(), "all": self.all.as_dict()}


PredictFn = Callable[[Iterable[tuple[str, str, str | None]]], Iterable[DocumentExtraction]]


def score_polnear(pred_fn: PredictFn, split: str = "dev", definition: str = "b",
                  root: str | Path | None = None, limit: int | None = None,
                  golds: list[GoldDocument] | None = None) -> Scores:
    """Score ``pred_fn`` on a PolNeAR split.

    ``pred_fn`` gets ``(id, text, date)`` triples and returns one ``DocumentExtraction`` per
    triple, in order (``lambda docs: extract_documents(docs, nlp=nlp)``). Pass ``golds``
    (from ``load_split``) to score several variants without re-reading the files.
    """
    if golds is None:
        golds = load_split(root or DEFAULT_POLNEAR, split)[:limit]
    extractions = list(pred_fn((g.name, g.text, g.date) for g in golds))
    if len(extractions) != len(golds):
        raise ValueError(f"pred_fn returned {len(extractions)} extractions for {len(golds)} documents")
    by_set = evaluate_by(golds, extractions, definition)
    return Scores(definition, split, len(golds), by_set["direct"], by_set["all"])
