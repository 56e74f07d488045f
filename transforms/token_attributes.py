"""The attribute ruler's POS, TAG and DEP, computed on the doc's arrays instead of a Matcher.

spaCy's ``attribute_ruler`` maps the tagger's fine tags to coarse POS (and MORPH, LEMMA) through
~180 token patterns run by the Matcher: 14 % of the whole pipeline's CPU on BBC articles
(bench/RESULTS.md, issue 21). Our rules read only ``pos_``, ``tag_`` and ``dep_`` (never MORPH or
the lemma), and every pattern of the shipped models is one or two tokens with equality, ``IN``
and ``NOT_IN`` tests on TAG, LOWER, DEP and IS_SPACE. So each pattern compiles to a vectorised
mask over the token arrays, applied in the ruler's own order (later patterns win, every match
is found on the doc as it came in): the same POS, TAG and DEP as the ruler, for every token
(checked on the 2,225 BBC articles, tests/unit/test_token_attributes.py).

A model whose ruler uses anything else keeps spaCy's ruler (``compile_patterns`` returns None).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy

# What the rules read; MORPH and LEMMA patterns are left out on purpose (module docstring).
KEPT_ATTRS = ("POS", "TAG", "DEP")
_KEYS = ("TAG", "LOWER", "DEP", "IS_SPACE")
COMPONENT = "newsbeam_token_attributes"


@dataclass(frozen=True)
class _Test:
    key: str
    values: tuple[int, ...]  # string hashes (bools for IS_SPACE)
    negate: bool


@dataclass(frozen=True)
class _Rule:
    tokens: tuple[tuple[_Test, ...], ...]  # one tuple of tests per token of the pattern
    index: int                              # which token of the match gets the attributes
    attrs: tuple[tuple[str, int], ...]      # (POS|TAG|DEP, string hash)


def _tests(spec: dict, strings) -> tuple[_Test, ...] | None:
    tests = []
    for key, value in spec.items():
        if key not in _KEYS:
            return None
        if key == "IS_SPACE":
            if not isinstance(value, bool):
                return None
            tests.append(_Test(key, (int(value),), False))
        elif isinstance(value, str):
            tests.append(_Test(key, (strings.add(value),), False))
        elif isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("IN", "NOT_IN"):
            op, values = next(iter(value.items()))
            if not all(isinstance(v, str) for v in values):
                return None
            tests.append(_Test(key, tuple(strings.add(v) for v in values), op == "NOT_IN"))
        else:
            return None
    return tuple(tests)


def _value(attr: str, value, strings) -> int:
    if attr == "POS":  # the universal POS enum, not a string hash
        from spacy.parts_of_speech import IDS

        return IDS[str(value)]
    return strings.add(str(value))


def compile_patterns(patterns: list[dict], strings) -> list[_Rule] | None:
    """The ruler's patterns (``AttributeRuler.patterns``, in order) -> rules; None when one of
    them uses a feature this module does not evaluate (then the ruler must stay)."""
    rules = []
    for pattern in patterns:
        attrs = tuple((k, _value(k, v, strings)) for k, v in pattern["attrs"].items() if k in KEPT_ATTRS)
        if not attrs:
            continue  # MORPH / LEMMA only: nothing we read
        for token_specs in pattern["patterns"]:
            if not isinstance(token_specs, list) or not token_specs:
                return None
            tokens = tuple(_tests(spec, strings) for spec in token_specs)
            if any(t is None for t in tokens) or any(set(spec) & {"OP"} for spec in token_specs):
                return None
            index = pattern.get("index", 0)
            if not -len(tokens) <= index < len(tokens):
                return None
            rules.append(_Rule(tokens, index % len(tokens), attrs))
    return rules


def _mask(tests: tuple[_Test, ...], columns: dict[str, numpy.ndarray]) -> numpy.ndarray:
    mask = numpy.ones(len(columns["TAG"]), dtype=bool)
    for test in tests:
        column = columns[test.key]
        hit = column == test.values[0] if len(test.values) == 1 else numpy.isin(column, test.values)
        mask &= ~hit if test.negate else hit
    return mask


@dataclass(frozen=True)
class _TagTable:
    """A run of consecutive one-token rules that each test one fine tag: one lookup for all.
    Exact, because a token has one tag, so no two rules of the run set the same token."""
    tags: numpy.ndarray                  # sorted tag hashes
    values: dict[str, numpy.ndarray]     # attr -> value per tag (aligned with tags)
    has: dict[str, numpy.ndarray]        # attr -> whether that tag's rule sets attr


def _is_tag_rule(rule) -> bool:
    return (isinstance(rule, _Rule) and len(rule.tokens) == 1 and len(rule.tokens[0]) == 1
            and rule.tokens[0][0].key == "TAG" and not rule.tokens[0][0].negate
            and len(rule.tokens[0][0].values) == 1)


def merge_tag_rules(rules: list) -> list:
    """Replace each run of consecutive tag rules (two or more) by one _TagTable."""
    out, run = [], []

    def close():
        tags = [r.tokens[0][0].values[0] for r in run]
        if len(run) < 2 or len(set(tags)) != len(tags):
            out.extend(run)
        else:
            order = numpy.argsort(numpy.array(tags, dtype=numpy.uint64))
            values, has = {}, {}
            for attr in KEPT_ATTRS:
                by_rule = [dict(r.attrs).get(attr) for r in run]
                values[attr] = numpy.array([by_rule[i] or 0 for i in order], dtype=numpy.uint64)
                has[attr] = numpy.array([by_rule[i] is not None for i in order], dtype=bool)
            out.append(_TagTable(numpy.array(tags, dtype=numpy.uint64)[order], values, has))
        run.clear()

    for rule in rules:
        if _is_tag_rule(rule):
            run.append(rule)
        else:
            close()
            out.append(rule)
    close()
    return out


def _table_targets(table: _TagTable, tags: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(token indices whose tag is in the table, their row in the table)."""
    rows = numpy.searchsorted(table.tags, tags)
    rows[rows == len(table.tags)] = 0
    hit = table.tags[rows] == tags
    return numpy.flatnonzero(hit), rows[hit]


def rule_targets(rules: list[_Rule], columns: dict[str, numpy.ndarray]) -> list[numpy.ndarray]:
    """For each rule, the indices of the tokens it sets, all matched on the unchanged columns."""
    n = len(columns["TAG"])
    out = []
    for rule in rules:
        if isinstance(rule, _TagTable):
            out.append(_table_targets(rule, columns["TAG"]))
            continue
        width = len(rule.tokens)
        if n < width:
            out.append(numpy.empty(0, dtype=numpy.int64))
            continue
        starts = numpy.ones(n - width + 1, dtype=bool)
        for offset, tests in enumerate(rule.tokens):
            starts &= _mask(tests, columns)[offset:n - width + 1 + offset]
        out.append(numpy.flatnonzero(starts) + rule.index)
    return out


def apply_rules(rules: list[_Rule], columns: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """New POS / TAG / DEP columns: each rule's attributes on its tokens, later rules last."""
    result = {"POS": columns["POS"].copy(), "TAG": columns["TAG"].copy(), "DEP": columns["DEP"].copy()}
    for rule, targets in zip(rules, rule_targets(rules, columns)):
        if isinstance(rule, _TagTable):
            tokens, rows = targets
            for attr in KEPT_ATTRS:
                sets = rule.has[attr][rows]
                result[attr][tokens[sets]] = rule.values[attr][rows[sets]]
        elif len(targets):
            for attr, value in rule.attrs:
                result[attr][targets] = value
    return result


class TokenAttributes:
    """spaCy component: sets POS, TAG and DEP as the model's attribute ruler would."""

    def __init__(self, rules: list[_Rule]):
        self.rules = merge_tag_rules(rules)

    def __call__(self, doc):
        from spacy.attrs import DEP, IS_SPACE, LOWER, POS, TAG

        if not len(doc):
            return doc
        array = doc.to_array([TAG, LOWER, DEP, IS_SPACE, POS]).astype(numpy.uint64)
        columns = {"TAG": array[:, 0], "LOWER": array[:, 1], "DEP": array[:, 2],
                   "IS_SPACE": array[:, 3], "POS": array[:, 4]}
        new = apply_rules(self.rules, columns)
        doc.from_array([POS, TAG], numpy.stack([new["POS"], new["TAG"]], axis=1))
        # DEP is only ever rewritten on the odd whitespace token: set it token by token so the
        # parse (heads, sentence starts) stays exactly as the parser left it.
        for i in numpy.flatnonzero(new["DEP"] != columns["DEP"]).tolist():
            doc[i].dep = int(new["DEP"][i])
        return doc

    def pipe(self, docs, batch_size: int = 128):
        for doc in docs:
            yield self(doc)
