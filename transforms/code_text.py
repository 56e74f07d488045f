"""Is a paragraph program code (or markup) rather than prose?

Tech and science feeds carry code blocks, JSON and config files in their entries; flattened to
text, each block is a paragraph whose string literals pair up like quotation marks
(``fmt.Errorf("failed after %v tries", n)``, ``{ "type": "module" }``). Those are nobody's
words, nor is a clause of code reported speech: ``transforms.quotes.find_quote_spans`` skips the
marks of paragraphs this module calls code, and ``transforms.extract`` keeps no attribution there.

The test counts distinct kinds of code syntax in the paragraph; prose meets one now and then (a
list of "a", "b" words, a "title": subtitle), code meets several at once. Measured on every
quote span of the 200 real feeds, the BBC corpus and PolNeAR (bench/RESULTS.md, issue 17): at
``MIN_SIGNALS`` no BBC or PolNeAR quotation is in a paragraph called code.
"""
from __future__ import annotations

import functools
import re

# One test per kind of syntax: (name, literals of which one must occur, pattern that must match
# then, or None). A paragraph is code when MIN_SIGNALS different kinds occur. The literals are
# plain substring tests, so a prose paragraph costs a few microseconds; a regex alone, opening
# with an alternation or \w, costs 5-25 us per paragraph (it is tried at every character).
_SIGNALS = tuple((name, literals, re.compile(pattern) if pattern else None) for name, literals, pattern in (
    ("brace", ("{", "}"), None),
    ("arrow", ("=>",), None),
    ("statement_end", (";",), r"\);|;[ \t]*$"),
    ("key", ('"',), r'"[ \t]*:[ \t]*["\[{\d]'),            # "key": value (JSON, YAML, dicts)
    ("assign", ("=",), r'=(?:=|"|[ \t]+["\[{(])|[!<>]='),  # a == b, x="...", x = "...", a != b
    ("call", ('("',), r'\w\("'),                           # f("literal")
    ("method", (".",), r"\.[A-Za-z_](?<=\w\.[A-Za-z_])\w*\("),  # obj.method(
    ("comment", ("//", "/*", "*/"), r"/\*|\*/|//(?<![:/\w]//)"),  # not the // of a URL
    ("logic", ("&&", "||"), None),
    ("scope", ("::",), None),
    ("string_list", ("[", '",'), r'\[[ \t]*"|",[ \t]*"'),      # ["a", "b"
    ("variable", ("$",), r"\$[A-Za-z_{(]"),                  # $name, ${x}, $(cmd)
    ("definition", ("#include", "def ", "func ", "fn ", "const ", "let ", "var "),
     r"#include *<|\b(?:def|func|fn) +\w+\(|\b(?:const|let|var) +\w+ *=(?!=)"),
    ("tag", ("<",), r"<[A-Za-z][\w-]*(?: +[\w-]+=|/?>)|</[A-Za-z][\w-]*>"),
))
MIN_SIGNALS = 3


# Code shows at least one of these; most prose paragraphs none, so they take one quick test.
_CODE_CHARS = tuple("{};=$<[")


def code_paragraphs(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (start, end) of each paragraph of ``text`` that looks like code."""
    return [(start, end) for start, end in paragraphs if looks_like_code(text[start:end])]


@functools.lru_cache(maxsize=1024)  # extract_doc asks once, find_quote_spans (run twice) again
def looks_like_code(paragraph: str) -> bool:
    """True when the paragraph shows one of ``_CODE_CHARS`` and ``MIN_SIGNALS`` different kinds of
    code syntax."""
    if not any(char in paragraph for char in _CODE_CHARS):
        return False
    found = 0
    for _, literals, pattern in _SIGNALS:
        if any(literal in paragraph for literal in literals) and (pattern is None or pattern.search(paragraph)):
            found += 1
            if found >= MIN_SIGNALS:
                return True
    return False
