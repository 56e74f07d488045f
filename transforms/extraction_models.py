"""The learned layer over the rules: which leftover quotes to keep, which mention spoke.

``ExtractionModels.default()`` loads the two shipped models once per process
(``transforms/data/quote_model.*``, ``transforms/data/speaker_model.*``);
``ExtractionModels.off()`` is the rules alone (used to build training data and as the
baseline in ``bench/train_models.py``).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from spacy.tokens import Doc

from transforms.entities import Mention
from transforms.learned import Model, load_model
from transforms.quote_model import QUOTE_FEATURES, quote_candidates
from transforms.quotes import Attribution, RuleOutput
from transforms.reported_model import REPORTED_FEATURES, reported_candidates
from transforms.speaker_model import SPEAKER_FEATURES, choose_speakers


@dataclass(frozen=True)
class ExtractionModels:
    quote: Model | None = None
    speaker: Model | None = None
    reported: Model | None = None

    @staticmethod
    def off() -> "ExtractionModels":
        return ExtractionModels()

    @staticmethod
    def default() -> "ExtractionModels":
        return _default()

    def apply(self, doc: Doc, text: str, mentions: list[Mention], attributions: list[Attribution],
              rest: RuleOutput) -> list[Attribution]:
        """Rule attributions plus the kept leftover quotes, speakers re-ranked, in text order."""
        if self.quote is not None:
            candidates = quote_candidates(doc, rest, text)
            if candidates:
                scores = self.quote.scores([c.features for c in candidates])
                kept = []
                for candidate, p in zip(candidates, scores):
                    if p >= self.quote.threshold:
                        candidate.attribution.confidence = round(0.5 + 0.4 * p, 3)
                        kept.append(candidate.attribution)
                attributions = sorted(attributions + kept, key=lambda att: att.start)
        if self.reported is not None:
            attributions = sorted(attributions + self.reported_kept(doc, rest, attributions),
                                  key=lambda att: att.start)
        if self.speaker is not None and rest.view is not None:
            choose_speakers(doc, rest.view, mentions, attributions, self.speaker, self.speaker.threshold)
        return attributions


    def reported_kept(self, doc: Doc, rest: RuleOutput, attributions: list[Attribution]) -> list[Attribution]:
        """Reported-speech candidates the model keeps; one per content span (best score)."""
        candidates = reported_candidates(doc, rest, attributions)
        if not candidates:
            return []
        scores = self.reported.scores([c.features for c in candidates])
        best: dict[tuple[int, int], tuple[float, Attribution]] = {}
        for candidate, p in zip(candidates, scores):
            att = candidate.attribution
            if p >= self.reported.threshold and p > best.get((att.start, att.end), (-1.0, None))[0]:
                att.confidence = round(0.4 + 0.4 * p, 3)
                best[(att.start, att.end)] = (p, att)
        return [att for _, att in best.values()]


@functools.lru_cache(maxsize=1)
def _default() -> ExtractionModels:
    return ExtractionModels(quote=load_model("quote_model", QUOTE_FEATURES),
                            speaker=load_model("speaker_model", SPEAKER_FEATURES),
                            reported=load_model("reported_model", REPORTED_FEATURES))
