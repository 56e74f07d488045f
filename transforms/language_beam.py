"""Beam wrapper around ``transforms.language``: one detector per worker, the article dict gains
``language``, ``language_source`` and, when NLP will not run for it, ``nlp_skipped`` and
``nlp_skip_reason``; ``nlp_model`` names the model that will."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.language import article_language, detector, nlp_plan

NAMESPACE = "newsbeam"


class _LanguageFn(beam.DoFn):
    def __init__(self, models: dict[str, str] | None):
        self._models = models
        self.skipped = Metrics.counter(NAMESPACE, "nlp_skipped")

    def setup(self):
        self._detect = detector()

    def process(self, article: dict):
        found = article_language(article.get("text") or "", article.get("language"), self._detect)
        plan = nlp_plan(found.language, self._models)
        if plan.skip_reason:
            self.skipped.inc()
        yield {**article, "language": found.language, "language_source": found.source,
               "nlp_model": plan.model, "nlp_skipped": plan.skip_reason is not None,
               "nlp_skip_reason": plan.skip_reason}


class DetectLanguage(beam.PTransform):
    """Articles -> articles with their language and the NLP decision (``models``: language ->
    spaCy model; None when NLP is disabled)."""

    def __init__(self, models: dict[str, str] | None):
        super().__init__()
        self._models = dict(models) if models is not None else None

    def expand(self, articles):
        return articles | "Language" >> beam.ParDo(_LanguageFn(self._models))
