"""Beam wrapper around ``transforms.language``: one detector per worker, the article dict gains
``language``, ``language_source`` and, when NLP will not run for it, ``nlp_skipped`` and
``nlp_skip_reason``; ``nlp_model`` names the model that will."""
from __future__ import annotations

import apache_beam as beam

from transforms import counters
from transforms.language import article_language, detector, nlp_plan


class _LanguageFn(beam.DoFn):
    def __init__(self, models: dict[str, str] | None):
        self._models = models
        self.skipped = counters.counter(counters.NLP_SKIPPED)

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


class ExtractPerLanguage(beam.PTransform):
    """Articles marked by ``DetectLanguage`` -> outputs ``done`` (each article NLP runs for,
    through its language's model, + ``quotes`` and ``entities``; the others as they are, marked
    ``nlp_skipped``) and ``failed`` ((article, reason) whose extraction raised)."""

    def __init__(self, models: dict[str, str] | None, batch_size: int, leaders_file: str | None,
                 batch_chars: int):
        super().__init__()
        self._models = sorted(set((models or {}).values()))
        self._args = (batch_size, leaders_file, batch_chars)

    def expand(self, articles):
        from transforms.extract_beam import FAILED, ExtractQuotesAndEntities

        batch_size, leaders_file, batch_chars = self._args
        done = [articles | "NlpSkipped" >> beam.Filter(lambda a: not a.get("nlp_model"))]
        failed = []
        for model in self._models:
            label = "Extract" if len(self._models) == 1 else f"Extract[{model}]"
            extracted = (articles
                         | f"For[{model}]" >> beam.Filter(lambda a, m=model: a.get("nlp_model") == m)
                         | label >> ExtractQuotesAndEntities(model, batch_size, leaders_file, batch_chars))
            done.append(extracted.done)
            failed.append(extracted[FAILED])
        if not failed:
            failed = [articles.pipeline | "NoNlp" >> beam.Create([])]
        return {"done": tuple(done) | "NlpDone" >> beam.Flatten(),
                FAILED: tuple(failed) | "NlpFailed" >> beam.Flatten()}
