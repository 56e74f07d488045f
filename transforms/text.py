"""Pure text cleaning shared by dedup and extraction.

Cleaning happens BEFORE extraction: extraction offsets always refer to the exact
string handed to ``extract``, so no offset mapping has to survive cleaning.
"""
from __future__ import annotations

import hashlib
import html
import re
from html.parser import HTMLParser

# Tags whose end (or start) means "new paragraph" when flattening HTML.
_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote tr table section article "
    "header footer figure figcaption pre hr dd dt".split()
)
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template", "head"))

_QUOTE_MAP = {
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u2033": '"',
}
# A regex touches only the quote marks; str.translate with a dict visits every character
# in Python-level lookups (4x slower on a 2 KB article, and this runs per paragraph).
_QUOTE_MARKS = re.compile("[" + "".join(_QUOTE_MAP) + "]")
_OTHER_INLINE = r"\t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000"  # inline spaces but " "
# Runs that need rewriting only: two or more characters, or one that is not a plain space
# (matching every single space made this the costliest step of preparing an article).
_INLINE_SPACE = re.compile(rf" [ {_OTHER_INLINE}]+|[{_OTHER_INLINE}][ {_OTHER_INLINE}]*")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self._skip_depth:
            # Source newlines inside a paragraph are layout, not structure.
            self.parts.append(data.replace("\n", " "))


def html_to_text(markup: str) -> str:
    """Flatten HTML to text with one blank line between block elements."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return "\n\n".join(split_paragraphs(html.unescape("".join(collector.parts))))


def normalise_whitespace(text: str) -> str:
    """Collapse runs of inline whitespace (incl. NBSP) to one space and strip."""
    return _INLINE_SPACE.sub(" ", text).strip()


def split_paragraphs(text: str) -> list[str]:
    """Split on line breaks; every non-empty line is a paragraph (captions are single lines)."""
    paragraphs = (normalise_whitespace(p) for p in _PARAGRAPH_BREAK.split(text))
    return [p for p in paragraphs if p]


def normalise_for_hash(text: str) -> str:
    """Lowercase, unify curly/straight quotes and collapse whitespace."""
    unified = _QUOTE_MARKS.sub(lambda m: _QUOTE_MAP[m.group()], text)
    return " ".join(unified.lower().split())  # = re.sub(r"\s+", " ", ...).strip(), in C


def content_hash(text: str) -> str:
    """Stable 32-hex digest of the normalised text (used by exact dedup)."""
    return hashlib.blake2b(normalise_for_hash(text).encode("utf-8"), digest_size=16).hexdigest()


def drop_repeated_paragraphs(paragraphs: list[str]) -> list[str]:
    """Keep only the first occurrence of each paragraph (e.g. a caption printed twice)."""
    seen: set[str] = set()
    kept = []
    for paragraph in paragraphs:
        key = normalise_for_hash(paragraph)
        if key not in seen:
            seen.add(key)
            kept.append(paragraph)
    return kept


def clean_text(text: str, is_html: bool = False) -> str:
    """Article text ready for extraction: paragraphs separated by one blank line."""
    if is_html:
        text = html_to_text(text)
    return "\n\n".join(drop_repeated_paragraphs(split_paragraphs(text)))
