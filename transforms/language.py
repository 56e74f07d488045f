"""An article's language and whether NLP runs for it (pure functions; Beam wrapper in
``language_beam.py``).

The language is detected from the text with lingua (feeds often declare the wrong language, or
none): 40 candidate languages, low-accuracy mode, the first ``DETECT_CHARS`` characters. That adds
~60 MB per worker and 4-9 ms per article, 2-5 % of a spaCy parse (bench/language.py,
bench/RESULTS.md). A text too short to
judge, or one lingua cannot decide on, keeps the language its feed declared.

Most articles are plainly English, so ``plainly_english`` answers those first for ~1/20 of lingua's
cost: ASCII letters only (to 1 %), at least ``MIN_WORDS`` words, a high share of English function
words that are no frequent word of another candidate language, and almost none of the other
candidates' own function words. It only ever says ``en`` or "ask lingua", and it says ``en`` only
where lingua says ``en`` too: checked text by text on the BBC corpus, the 200 real feeds, the
feedparser test entries and PolNeAR (bench/language_precheck.py, bench/RESULTS.md issue 21).

NLP runs only for a language with a spaCy model in the mapping language -> model
(``nlp.models``, default ``{"en": nlp.model}``); ``nlp_plan`` is that decision, cheap enough to
make per article before any model is loaded.
"""
from __future__ import annotations

import re
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


# The pre-check (``plainly_english``). Markers: frequent English words that are not frequent words of
# another candidate (so no "to": Polish/Czech; "for", "her", "at", "by": Danish/Norwegian; "was",
# "will", "also": German; "is": Dutch; "he", "has": Spanish).
ENGLISH_MARKERS = frozenset(
    "the of and that with this which from have were would been their they who not but said its had "
    "than about there what when could should after into".split())
# Frequent function words of the other Latin-script candidates; a text with more than a trace of
# them is mixed or foreign, and lingua decides. (Frequent English words are left out: "on", "do",
# "per", "o", "e", "ve" of I've; a rare English one here only sends a text to lingua.)
FOREIGN_MARKERS = frozenset(
    "der die und das ist nicht ein eine mit sich auf den dem des zu von "  # German
    "le la les du est une et dans pour pas qui sur au aux "   # French
    "el los las del que por con una para es y se lo "         # Spanish
    "os da em um uma nao com "                                # Portuguese
    "il di che della non sono gli "                           # Italian
    "het een van en niet zijn voor ook op "                   # Dutch
    "och att som inte av ett og er ikke til af jeg "          # Scandinavian
    "ja ei se han "                                           # Finnish
    "nie jest w z na ze sie je se ktery "                     # Polish, Czech, Slovak
    "bu bir icin "                                            # Turkish
    "az hogy nem egy "                                        # Hungarian
    "si pe cu "                                               # Romanian
    "yang di dengan untuk ini itu dari "                      # Indonesian, Malay
    "ang ng mga sa "                                          # Tagalog
    "ya wa kwa za "                                           # Swahili
    "amb els "                                                # Catalan
    .split()) - ENGLISH_MARKERS
MIN_WORDS = 20
MIN_ENGLISH_SHARE = 0.10   # BBC articles: median 0.19, lowest 0.065; 0.08 still agreed with lingua
MAX_FOREIGN_SHARE = 0.02   # BBC: 7 of 2,225 above it (names: "van der", "La Liga")
MAX_NON_ASCII_LETTERS = 0.01
_WORD = re.compile(r"[a-z]+")
_NON_ASCII_LETTER = re.compile(r"[^\W\d_a-zA-Z]")


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


def plainly_english(sample: str, letters: int) -> bool:
    """True when ``sample`` (``letters`` of them letters) is English beyond doubt; False means
    "ask lingua", never "not English"."""
    if len(_NON_ASCII_LETTER.findall(sample)) > MAX_NON_ASCII_LETTERS * letters:
        return False
    words = _WORD.findall(sample.lower())
    if len(words) < MIN_WORDS:
        return False
    english = foreign = 0
    for word in words:
        if word in ENGLISH_MARKERS:
            english += 1
        elif word in FOREIGN_MARKERS:
            foreign += 1
    return english >= MIN_ENGLISH_SHARE * len(words) and foreign <= MAX_FOREIGN_SHARE * len(words)


def detect_language(text: str, detect=None) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or ambiguous.
    ``detect``: a lingua detector (None: this process's, built when first needed)."""
    sample = (text or "")[:DETECT_CHARS]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < MIN_LETTERS:
        return None
    if plainly_english(sample, letters):
        return "en"
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
