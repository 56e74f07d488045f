"""Wire datelines: ``MADRID (AFP) -``, ``CAIRO (AP) \u2014``, ``SEOUL, May 2 (Reuters) -``.

Most wire copy opens a paragraph with the place, sometimes a date, the agency and a
dash. The parser then reads the city as the subject of the first verb ("MADRID ...
called"), so the speaker rules must skip it. ``dateline_end`` finds where the
dateline stops (pure text, no parse).
"""
from __future__ import annotations

import re

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_PLACE_WORD = r"[A-Z][A-Za-z\u00c0-\u024f.'\u2019-]*"
_UPPER_WORD = r"[A-Z\u00c0-\u00de][A-Z\u00c0-\u00de.'\u2019-]*"
_DASH = r"[-\u2010-\u2015]{1,2}"
# Place: ALL-CAPS words ("THE HAGUE", "NEW YORK") or Title-case words followed by an agency.
_PLACE = rf"(?:{_UPPER_WORD}(?: {_UPPER_WORD}){{0,3}}|{_PLACE_WORD}(?: {_PLACE_WORD}){{0,3}})"
_REGION = rf"(?:,\s*{_PLACE_WORD}(?: {_PLACE_WORD})?)?"
_DATE = rf"(?:,?\s*{_MONTH}\s+\d{{1,2}})?"
_AGENCY = r"\((?:[A-Za-z][\w .&'\u2019/-]{0,40})\)"
_WITH_AGENCY = re.compile(rf"\s*{_PLACE}{_REGION}{_DATE}\s*{_AGENCY}\s*{_DASH}\s+")
_CAPS_ONLY = re.compile(rf"\s*{_UPPER_WORD}(?: {_UPPER_WORD}){{0,3}}{_REGION}{_DATE}\s*{_DASH}\s+")


def dateline_end(text: str, start: int = 0, end: int | None = None) -> int:
    """Offset just after the dateline opening ``text[start:end]``, or ``start`` when there is none."""
    end = len(text) if end is None else end
    window = text[start:min(end, start + 120)]
    for pattern in (_WITH_AGENCY, _CAPS_ONLY):
        m = pattern.match(window)
        if m is not None and m.end() < len(window):
            if pattern is _CAPS_ONLY and not any(c.isalpha() and c.isupper() for c in m.group()[:3]):
                continue
            if pattern is _CAPS_ONLY and len(re.sub(r"[^A-Za-z]", "", m.group())) < 3:
                continue
            return start + m.end()
    return start
