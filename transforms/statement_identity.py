"""``statement_id``: one id for one statement, however an outlet prints it.

Outlets rewrite the same statement: another attribution (``he said`` / ``told
parliament`` / ``said in a statement``), other quote marks, the name or the title
or a pronoun for the speaker, a sentence more or less, punctuation moved
(``"...," he said`` / ``He said: "...."``). The id therefore hashes:

* the **quoted words** only: for a quote in marks, the words inside the marks (the
  attribution around a partial quote is the outlet's own phrasing); lower-cased,
  accents, punctuation and quote-mark style folded away;
* of those, the **first sentence** (more whole sentences only while fewer than
  ``LEAD_WORDS`` words are taken, so "No." alone does not identify a statement): an
  outlet that carries a longer excerpt of the same speech (a sentence added at the
  end, or the next sentence run on in the same quote) gives the same id as the
  shorter excerpt, so one statement alerts once. A quote that another outlet
  *starts* earlier gets a different id (documented in docs/schema.md);
* the **speaker's surname key**: the last word of the resolved name, lower-cased,
  accents and an Arabic article (``al-``, ``el-``) dropped, so "Ruben van der Meer",
  "van der Meer" and "he" (resolved to him) agree. No resolved speaker -> an empty key.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata

# A statement is known by its first sentence; shorter ones take the next sentence too.
LEAD_WORDS = 3
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?\u2026]+(?=[\s\"'\u201d\u2019)\]]|$)")
_DOUBLE_MARKS = "\"\u201c\u201d\u201e\u00ab\u00bb"
_MARKED = re.compile("[" + _DOUBLE_MARKS + "]([^" + _DOUBLE_MARKS + "]+)[" + _DOUBLE_MARKS + "]|''(.+?)''|``(.+?)''")
_ARTICLE_PREFIX = re.compile(r"^(?:al|el|ad|ar|as|ash|at|az|an|ul)[-\u2010\u2011]")


def fold(text: str) -> str:
    """Lower-case, accents removed, curly apostrophes straightened."""
    if text.isascii():  # nothing to decompose or straighten: the same result, without a loop per character
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def quoted_words(text: str) -> str:
    """The words inside quote marks when the text has marked parts, else the whole text."""
    parts = [next(g for g in m.groups() if g is not None) for m in _MARKED.finditer(text)]
    return " ".join(parts) if parts else text


def lead_words(text: str, limit: int = LEAD_WORDS) -> list[str]:
    """Folded words of the first whole sentences, as few as give ``limit`` words."""
    words: list[str] = []
    start = 0
    # Sentence ends found lazily: most quotes give their words in the first sentence or two.
    for end in itertools.chain((m.end() for m in _SENTENCE_END.finditer(text)), (len(text),)):
        words += _WORD.findall(fold(text[start:end]))
        start = end
        if len(words) >= limit:
            break
    return words


def speaker_key(name: str | None) -> str:
    """Surname key of a resolved speaker name ("Ruben van der Meer" -> "meer", "al-Sisi" -> "sisi")."""
    if not name:
        return ""
    words = [w for w in fold(name).split() if _WORD.search(w)]
    if not words:
        return ""
    last = words[-1].strip(".,;:'\"")
    return _ARTICLE_PREFIX.sub("", last)


def statement_id(quote_text: str, speaker_name: str | None) -> str:
    """20-hex id of (leading quoted words, speaker surname key)."""
    key = " ".join(lead_words(quoted_words(quote_text))) + "\x1f" + speaker_key(speaker_name)
    return hashlib.blake2b(key.encode("utf-8"), digest_size=10).hexdigest()
