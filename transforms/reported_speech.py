"""Which reported speech goes into the ``quotes`` table: the ``nlp.reported_speech`` setting.

Quotes (``direct``, and ``mixed`` partial quotes: words in quote marks) are always kept.
Reported speech without quote marks (``indirect``) is what PolNeAR annotates as attribution, and on news copy it is most of what sources said
("Smith argued that ...", "according to the ministry"). On first-person prose (blogs, columns)
the same model also finds the writer's own voice ("I think ...", "we hope ..."): true
attributions, but to the writer, not to a source an analyst is looking for.

* ``sources`` (default): reported speech is kept when someone other than the writer is its
  source. Left out: no speaker at all, the writer or reader ("I", "we", "you"), or a word that
  names nobody ("this", "which", "that"), or an impersonal "it" ("it seems that", "it turns
  out that", "it is clear that": the writer speaking; a company's "it said", "it hopes to" stay).
* ``all``: every attribution found (what PolNeAR annotates, the writer's own included).
* ``none``: quotes only (words in quote marks); no ``indirect`` rows.
"""
from __future__ import annotations

POLICIES = ("sources", "all", "none")
DEFAULT = "sources"
# The writer and the reader: first- and second-person forms as a whole speaker span.
_WRITER = frozenset("i we you me us my our your myself ourselves yourself yourselves".split())
# Raising verbs and the copula: with them "it" stands for nobody ("it seems that", "it turns out
# that", "it is clear that"), unlike "it said", "it hopes to" of a company.
_IMPERSONAL_CUES = frozenset("""seem seems seemed seeming appear appears appeared turn turns turned happen
happens happened is was be been being 's ’s remains remained look looks looked sound sounds sounded
feel feels felt""".split())
# Relative and demonstrative words: a speaker span of only these names nobody.
_NOBODY = frozenset("this that these those which what who whom 's \u2019s".split())


def keeps(kind: str, speaker: str | None, policy: str = DEFAULT, cue: str | None = None) -> bool:
    """Whether an attribution of ``kind`` with ``speaker`` (as written) and ``cue`` (its cue word,
    when known) is kept under ``policy``."""
    if policy not in POLICIES:
        raise ValueError(f"unknown reported_speech policy {policy!r}: use one of {', '.join(POLICIES)}")
    if kind != "indirect" or policy == "all":
        return True
    if policy == "none":
        return False
    written = (speaker or "").strip().lower()
    if written == "it" and cue is not None and cue.lower() in _IMPERSONAL_CUES:
        return False  # "it seems that", "it turns out", "it's not clear that": the writer's own voice
    return bool(written) and written not in _WRITER and written not in _NOBODY
