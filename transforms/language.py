"""An article's language and whether NLP runs for it (pure functions; Beam wrapper in
``language_beam.py``).

The language is detected from the text with lingua (feeds often declare the wrong language, or
none): 40 candidate languages, low-accuracy mode, the first ``DETECT_CHARS`` characters. That adds
~60 MB per worker and 4-9 ms per article, 2-5 % of a spaCy parse (bench/language.py,
bench/RESULTS.md). A text too short to
judge, or one lingua cannot decide on, keeps the language its feed declared.

NLP runs only for a language with a spaCy model in the mapping language -> model
(``nlp.models``, default ``{"en": nlp.model}``); ``nlp_plan`` is that decision, cheap enough to
make per article before any model is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

DETECT_CHARS = 2000
MIN_LETTERS = 40  # below this, a detector guesses: the declared language is the better bet
DETECTED, FEED = "detected", "feed"

# Languages of the world's larger news outlets; a text in another language gets the closest of
# these, which is never one we have a model for unless it is that language.
CANDIDATES = ("ENGLISH GERMAN FRENCH SPANISH PORTUGUESE ITALIAN DUTCH SWEDISH DANISH BOKMAL FINNISH "
              "POLISH CZECH SLOVAK HUNGARIAN ROMANIAN GREEK TURKISH RUSSIAN UKRAINIAN BULGARIAN "
              "CROATIAN SERBIAN SLOVENE CATALAN ARABIC PERSIAN HEBREW HINDI URDU BENGALI CHINESE "
              "JAPANESE KOREAN INDONESIAN MALAY VIETNAMESE THAI TAGALOG SWAHILI").split()


@dataclass(frozen=True)
class LanguageOf:
    language: str | None   # ISO 639-1, lowercase
    source: str | None     # detected | feed | None


@dataclass(frozen=True)
class NlpPlan:
    model: str | None        # the spaCy model to run, or None
    skip_reason: str | None  # why NLP is skipped, or None when it runs


@lru_cache(maxsize=1)
def detector():
    """One lingua detector per process (building it loads the language models)."""
    from lingua import Language, LanguageDetectorBuilder

    return (LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in CANDIDATES))
            .with_low_accuracy_mode().with_preloaded_language_models().build())


def declared_language(tag: str | None) -> str | None:
    """'en-GB' / 'en_us' / ' DE ' -> 'en' / 'en' / 'de'; anything else that is no tag -> None."""
    primary = (tag or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def detect_language(text: str, detect=None) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or ambiguous."""
    sample = (text or "")[:DETECT_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    found = (detect or detector()).detect_language_of(sample)
    return found.iso_code_639_1.name.lower() if found is not None else None


def article_language(text: str, declared: str | None, detect=None) -> LanguageOf:
    found = detect_language(text, detect)
    if found:
        return LanguageOf(found, DETECTED)
    tag = declared_language(declared)
    return LanguageOf(tag, FEED) if tag else LanguageOf(None, None)


def nlp_plan(language: str | None, models: dict[str, str] | None) -> NlpPlan:
    """Which model extracts quotes and entities for an article in ``language``, if any.
    ``models`` None means NLP is disabled."""
    if models is None:
        return NlpPlan(None, "nlp disabled")
    if not language:
        return NlpPlan(None, "language unknown")
    model = models.get(language)
    return NlpPlan(model, None) if model else NlpPlan(None, f"no model for language {language}")
