"""Neutralise XML entity bombs before any XML parser sees the document.

A DOCTYPE internal subset may define entities that expand into other entities (billion laughs)
or pull external files. We keep only literal, non-recursive `<!ENTITY name "text">` declarations
(some real feeds define `&nbsp;` that way) and drop everything else in the subset.
"""
from __future__ import annotations

import re

# The prolog ends where the first element starts.
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_START = re.compile(rb"<!DOCTYPE\s+([^\s\[>]+)", re.IGNORECASE)
_SAFE_ENTITY = re.compile(rb"<!ENTITY\s+([A-Za-z_][\w.-]*)\s+\"((?:&#x?[0-9A-Fa-f]+;|[^&%\"<])*)\"\s*>")
_MAX_SAFE_ENTITY_VALUE = 64


def _doctype_span(data: bytes) -> tuple[int, int, bytes] | None:
    """(start, end, root name) of the DOCTYPE declaration in the prolog, honouring `[...]`."""
    first = _FIRST_ELEMENT.search(data)
    prolog_end = first.start() if first else len(data)
    match = _DOCTYPE_START.search(data, 0, prolog_end)
    if not match:
        return None
    depth, quote = 0, None
    for index in range(match.end(), len(data)):
        char = data[index:index + 1]
        if quote:
            if char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif char == b"[":
            depth += 1
        elif char == b"]":
            depth -= 1
        elif char == b">" and depth <= 0:
            return match.start(), index + 1, match.group(1)
    return match.start(), len(data), match.group(1)


def strip_unsafe_doctype(data: bytes) -> tuple[bytes, str | None]:
    """Return the document with a safe DOCTYPE, and a note when something was removed."""
    span = _doctype_span(data)
    if span is None:
        return data, None
    start, end, root = span
    declaration = data[start:end]
    total = len(re.findall(rb"<!ENTITY", declaration, re.IGNORECASE))
    if not total:  # a plain DTD reference (RSS 0.91) is harmless: parsers never fetch it
        return data, None
    safe = [m.group(0) for m in _SAFE_ENTITY.finditer(declaration)
            if len(m.group(2)) <= _MAX_SAFE_ENTITY_VALUE]
    if len(safe) == total:
        return data, None
    replacement = (b"<!DOCTYPE " + root + b" [" + b"".join(safe) + b"]>") if safe else b""
    note = f"removed {total - len(safe)} unsafe entity declaration(s) or external DTD from DOCTYPE"
    return data[:start] + replacement + data[end:], note
