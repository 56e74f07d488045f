"""Where speaker accuracy (definition b) ends: the candidate oracle and the errors by kind.

For every prediction that definition (b) scores for its speaker (``transforms/evaluation.py``),
on the held-out part of PolNeAR train (the default; model selection data) or a named split:

* **accuracy**: the resolved speaker shares a content word with the gold Source;
* **oracle**: the share right now or with the gold Source among the speaker candidates the
  model ranks (``transforms.speaker_model.speaker_groups``: a candidate that overlaps the
  Source, or a mention of the same name) - what a perfect ranker could reach;
* **errors by kind** (a heuristic on the gold Source's words, to read, not to tune on):
  G1 the Source is no speaker at all (a headline, a verb, a fragment: annotation noise);
  G2 an outlet or a document is the Source (``"...," X said, according to the Post``; the
  ``statement``, ``transcript``, ``email``): the speaker analysts want is the inner one;
  G3 the Source is a description (``the governor``), our speaker is that very span and we
  resolved it to the named person it refers to, which (b) cannot match word for word;
  D a description Source and another mention chosen; N a named Source and no speaker;
  W a named Source and the wrong mention.
  **Reachable** = accuracy if every D, N and W error were fixed (G1-G3 left as they are).

    .venv/bin/python bench/speaker_ceiling.py [--split heldout|dev] [--cache DIR] [--list]
"""
from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.train_models import is_holdout, parsed_train  # noqa: E402
from transforms.entities import find_mentions  # noqa: E402
from transforms.evaluation import (DEFAULT_POLNEAR, _is_bare_pronoun, _length, _matches_b,  # noqa: E402
                                   content_words, holds_double_mark, load_split)
from transforms.extract import extract_doc  # noqa: E402
from transforms.extraction_models import ExtractionModels  # noqa: E402
from transforms.quotes import find_attributions_and_rest, paragraph_bounds  # noqa: E402
from transforms.speaker_model import speaker_groups  # noqa: E402

# Words of a gold Source that name an outlet or a document rather than a person who spoke.
OUTLET_OR_DOCUMENT = frozenset("""
times post journal news today cnn politico reuters ap nbc abc cbs fox msnbc bloomberg breitbart huffington
examiner guardian telegraph economist atlantic axios vox hill slate salon herald tribune globe press wire
statement statements transcript transcripts email emails e-mail document documents ad ads advertisement
complaint report reports study analysis editorial records review letter memo memos website passage book
article poll polls survey tweet tweets edition radio show interview speech excerpts filing filings lawsuit
release video commercial voice-over magazine newspaper outlet outlets network indictment ruling data audit
files
""".split())
_DETERMINERS = frozenset("the a an his her their its this that these those one some many most several another "
                         "other two three".split())
KINDS = {
    "G1": "the Source is no speaker (headline, verb, fragment)",
    "G2": "an outlet or document is the Source (nested attribution)",
    "G3": "a description Source; our span is it, resolved to the name it refers to",
    "D": "a description Source, another mention chosen",
    "N": "a named Source, no speaker",
    "W": "a named Source, the wrong mention",
}


def error_kind(source: str, speaker: str | None, name: str | None, span_is_source: bool) -> str:
    words = re.findall(r"[\w'\u2019-]+", source)
    lower = [w.lower().strip("'\u2019") for w in words]
    if not words or (source.isupper() and len(words) > 1) or (
            len(words) == 1 and lower[0] in ("said", "says", "asked", "told", "t")):
        return "G1"
    if any(w in OUTLET_OR_DOCUMENT for w in lower):
        return "G2"
    named = any(w[:1].isupper() for w in words[1:]) or (words[0][:1].isupper() and lower[0] not in _DETERMINERS)
    if span_is_source and name and (not named or content_words(speaker or "") >= content_words(source)):
        return "G3"
    if not named:
        return "D"
    return "N" if speaker is None else "W"


def scored(gold, quotes, direct_only: bool):
    """(quote, gold attribution, Source text) of each prediction (b) scores for its speaker."""
    golds = [g for g in gold.attributions
             if not direct_only or holds_double_mark(" ".join(gold.text[s:e] for s, e in g.content))]
    for q in quotes:
        if direct_only and not holds_double_mark(q.text):
            continue
        matched = [(a, k) for a, k in ((_matches_b((q.start_char, q.end_char), g.content), k) for k, g in enumerate(golds))
                   if a > 0]
        if not matched:
            continue
        length = q.end_char - q.start_char
        _, k = max((a / (length + _length(golds[j].content) - a), j) for a, j in matched)
        source = " ".join(gold.text[s:e] for s, e in golds[k].source)
        if golds[k].source and not _is_bare_pronoun(source):
            yield q, golds[k], source


def candidate_sets(doc, text):
    """(start, end) of each attribution -> its candidates' (char start, char end, name) at run time."""
    mentions = find_mentions(doc)
    base = ExtractionModels.default()
    models = ExtractionModels(quote=base.quote, reported=base.reported)
    attributions, rest = find_attributions_and_rest(doc, paragraph_bounds(text), text)
    attributions = models.apply(doc, text, mentions, attributions, rest)
    name_at = {k: m.canonical for m in mentions for k in range(m.tok_start, m.tok_end)}
    out = {}
    for att, candidates in speaker_groups(doc, rest.view, mentions, attributions):
        out[(att.start, att.end)] = [(doc[c.start].idx, doc[c.end - 1].idx + len(doc[c.end - 1]),
                                      name_at.get(c.end - 1) or doc[c.start:c.end].text) for c in candidates]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="heldout", choices=("heldout", "dev"))
    parser.add_argument("--cache", type=Path, help="parsed PolNeAR train (bench/train_models.py --cache)")
    parser.add_argument("--list", nargs="?", const="direct", choices=("direct", "all"),
                        help="print every speaker error of the direct quotes (default) or of all attributions")
    args = parser.parse_args()
    if args.split == "heldout":
        golds, docs = parsed_train(args.cache)
        pairs = [(g, d) for g, d in zip(golds, docs) if is_holdout(g.name)]
    else:
        from transforms.nlp import load_nlp

        golds = load_split(DEFAULT_POLNEAR, "dev")
        pairs = list(zip(golds, load_nlp().pipe((g.text for g in golds), batch_size=32)))
    totals = {s: collections.Counter() for s in ("direct", "all")}
    listed = []
    for gold, doc in pairs:
        quotes = extract_doc(gold.name, doc, gold.date).quotes
        candidates = candidate_sets(doc, gold.text)
        for name in ("direct", "all"):
            count = totals[name]
            for q, g, source in scored(gold, quotes, name == "direct"):
                said = q.speaker_name or q.speaker
                right = bool(said and content_words(said) & content_words(source))
                count["n"] += 1
                count["right"] += right
                wanted = content_words(source)
                in_set = any(any(s < ge and e > gs for gs, ge in g.source) or content_words(who) & wanted
                             for s, e, who in candidates.get((q.start_char, q.end_char), []))
                count["oracle"] += right or in_set
                if not right:
                    span_is_source = q.speaker_start is not None and any(
                        q.speaker_start < ge and q.speaker_end > gs for gs, ge in g.source)
                    kind = error_kind(source, q.speaker, q.speaker_name, span_is_source)
                    count[kind] += 1
                    if name == args.list:
                        listed.append((kind, q.speaker, q.speaker_name, source, q.text))
    print(f"PolNeAR {args.split}: {len(pairs)} articles, definition (b), default extraction")
    for name, count in totals.items():
        n = count["n"]
        unreachable = count["G1"] + count["G2"] + count["G3"]
        print(f"\n{name}: {n} speakers scored; accuracy {count['right'] / n:.3f}, candidate oracle "
              f"{count['oracle'] / n:.3f}, reachable {(n - unreachable) / n:.3f}")
        for kind, meaning in KINDS.items():
            print(f"  {kind:<3}{count[kind]:>5}  {meaning}")
    if args.list:
        print()
        for kind, speaker, resolved, source, text in sorted(listed, key=lambda r: r[0]):
            print(f"{kind:<3} {speaker!r} -> {resolved!r} | gold {source[:60]!r} | {text[:50]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
