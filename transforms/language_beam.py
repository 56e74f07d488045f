"""Beam wrapper around ``transforms.language``: at most one detector per worker, the article dict gains
``language``, ``language_source`` and, when NLP will not run for it, ``nlp_skipped`` and
``nlp_skip_reason``; ``nlp_model`` names the model that will. (The run counts ``nlp_skipped`` as
data: pipeline/job.py.)"""
from __future__ import annotations

from typing import TYPE_CHECKING

import apache_beam as beam

from transforms.batching_beam import BatchByBudget
from transforms.language import article_language, nlp_plan

if TYPE_CHECKING:  # transforms.leaders imports spaCy, which the launcher does not need
    from transforms.leaders import Gazetteer


class _LanguageFn(beam.DoFn):
    def __init__(self, models: dict[str, str] | None):
        self._models = models

    def setup(self):
        # lingua is built on the first text the English pre-check does not answer (one per
        # process, transforms.language.detector): a worker that sees only English never loads it
        self._detect = None

    def process(self, article: dict):
        try:
            found = article_language(article.get("text") or "", article.get("language"), self._detect)
        except Exception as exc:  # one odd text must not fail the run: kept, NLP skipped, says why
            yield {**article, "language_source": None, "nlp_model": None, "nlp_skipped": True,
                   "nlp_skip_reason": f"language detection failed: {type(exc).__name__}: {exc}"[:500]}
            return
        plan = nlp_plan(found.language, self._models)
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


def _text_chars(article: dict) -> int:
    return len(article.get("text") or "")


class ExtractPerLanguage(beam.PTransform):
    """Articles marked by ``DetectLanguage`` -> outputs ``done`` (lists of articles, one per batch:
    each article NLP runs for, through its language's model, + ``quotes`` and ``entities``; the
    others as they are, marked ``nlp_skipped``, in batches of the same budgets) and ``failed``
    ((article, reason) whose extraction raised).

    ``leaders``: the loaded leaders list (None: the bundled one); ``groups``: how many groups the
    texts are spread over before batching (``transforms.batching.groups_for``); ``max_chars``:
    characters of one article the NLP reads at most (``nlp.max_chars``); ``reported_speech``:
    which reported speech to keep (``nlp.reported_speech``).
    """

    def __init__(self, models: dict[str, str] | None, batch_size: int, leaders: Gazetteer | None,
                 batch_chars: int, groups: int = 1, max_chars: int | None = None,
                 reported_speech: str = "sources"):
        super().__init__()
        self._models = sorted(set((models or {}).values()))
        self._args = (batch_size, leaders, batch_chars, groups, max_chars, reported_speech)

    def expand(self, articles):
        from transforms.extract_beam import DONE, FAILED, ExtractQuotesAndEntities, item_key

        batch_size, leaders, batch_chars, groups, max_chars, reported_speech = self._args
        # batches like the extracted ones, so every article's rows become Arrow together
        done = [articles
                | "NlpSkipped" >> beam.Filter(lambda a: not a.get("nlp_model"))
                | "SkippedBatches" >> BatchByBudget(batch_size, batch_chars, _text_chars, key=item_key,
                                                    groups=groups)]
        failed = []
        for model in self._models:
            label = "Extract" if len(self._models) == 1 else f"Extract[{model}]"
            extracted = (articles
                         | f"For[{model}]" >> beam.Filter(lambda a, m=model: a.get("nlp_model") == m)
                         | label >> ExtractQuotesAndEntities(model, batch_size, leaders, batch_chars, groups,
                                                                  max_chars, reported_speech))
            done.append(extracted[DONE])
            failed.append(extracted[FAILED])
        if not failed:
            failed = [articles.pipeline | "NoNlp" >> beam.Create([])]
        return {DONE: tuple(done) | "NlpDone" >> beam.Flatten(),
                FAILED: tuple(failed) | "NlpFailed" >> beam.Flatten()}
