"""transforms/near_copy_parse.py: near copies in a batch are parsed only where they differ, and
come out with the tokens, tags, parse and entities of the text parsed whole."""
import random
from pathlib import Path

import pytest

from transforms.extract import extract_documents
import numpy

from transforms.near_copy_parse import (CONTEXT, Match, choose_cuts, paragraph_starts, parse_batch, plan_reuse,
                                        reuse_between)

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_146a92e843f25df6.txt"
BASE = ("Talks resume in Paris as ministers meet\n\n"
        "\"We will not give in, and we will not leave the table before the others do,\" President "
        "Emmanuel Macron said on Monday, standing beside the foreign minister at the Elysee.\n\n"
        "Angela Merkel, the German chancellor, said the talks would go on. She added that Berlin "
        "would send its finance minister, Olaf Scholz, to Paris on Wednesday for a second round.\n\n"
        "The European Union declined to comment. A spokesman for the commission in Brussels said only "
        "that the commission followed the talks closely and would publish its view in due course.\n\n"
        "Markets in Frankfurt and London rose slightly after the news, and the euro gained against "
        "the dollar for the third day in a row, traders in both cities said on Monday evening.\n\n"
        "The talks are expected to last until the end of the week.")


def test_paragraph_starts_follow_line_breaks():
    assert paragraph_starts("a\n\nbc\nd") == [0, 3, 6]
    assert paragraph_starts("a\n\n") == [0]
    assert paragraph_starts("") == [0]


def _cut_rules_hold(base, copy, reuse, starts):
    end = len(copy) - reuse.suffix
    assert copy[:reuse.prefix] == base[:reuse.prefix]
    assert copy[end:] == base[len(base) - reuse.suffix:]
    shift = len(copy) - len(base)
    # Cuts fall at the base's sentence starts, CONTEXT characters of identical text beyond each.
    if reuse.prefix:
        assert reuse.prefix in starts and copy[:reuse.prefix + CONTEXT] == base[:reuse.prefix + CONTEXT]
    if reuse.suffix:
        assert end - shift in starts and copy[end - CONTEXT:] == base[len(base) - reuse.suffix - CONTEXT:]
    # The parsed part carries whole sentences, at least CONTEXT characters, on each side.
    assert reuse.left == 0 or (reuse.left in starts and reuse.prefix - reuse.left >= CONTEXT)
    assert reuse.right == len(copy) or (reuse.right - shift in starts and reuse.right - end >= CONTEXT)


# Sentence starts of a 2,000-character text every 100 characters (what its parse would give).
STARTS = numpy.arange(100, 2000, 100)
TEXT = "".join(f"{n:03d}" + "x" * 96 + " " for n in range(20))


def test_an_appended_sentence_reuses_the_sentences_well_before_it():
    copy = TEXT + "An update."
    match = reuse_between(TEXT, copy)
    assert match == Match(0, len(TEXT), 0)
    reuse = choose_cuts(match, STARTS, len(TEXT), len(copy))
    _cut_rules_hold(TEXT, copy, reuse, STARTS)
    assert (reuse.prefix, reuse.suffix, reuse.left, reuse.right) == (1800, 0, 1600, len(copy))


def test_a_new_first_sentence_reuses_the_rest_as_a_suffix():
    copy = "A different headline. " + TEXT[100:]
    match = reuse_between(TEXT, copy)
    assert match.shared_prefix == 0 and match.shared_suffix >= len(TEXT) - 100
    reuse = choose_cuts(match, STARTS, len(TEXT), len(copy))
    _cut_rules_hold(TEXT, copy, reuse, STARTS)
    assert reuse.prefix == 0 and reuse.suffix == len(TEXT) - 300 and reuse.right == 300 + len(copy) - len(TEXT) + 200


def test_a_changed_middle_sentence_keeps_prefix_and_suffix():
    copy = TEXT[:1050] + "(corrected) " + TEXT[1050:]
    reuse = choose_cuts(reuse_between(TEXT, copy), STARTS, len(TEXT), len(copy))
    _cut_rules_hold(TEXT, copy, reuse, STARTS)
    assert (reuse.prefix, reuse.left) == (800, 600) and reuse.suffix == len(TEXT) - 1300


def test_no_cut_where_too_little_would_be_reused():
    copy = TEXT[:1050] + "(corrected) " + TEXT[1050:]
    # Sentences too long to cut within the shared text: nothing reusable, parse it whole.
    assert choose_cuts(reuse_between(TEXT, copy), numpy.array([1000]), len(TEXT), len(copy)) is None


LONG = BASE + "\n\n" + BASE.replace("Paris", "Rome").replace("Monday", "Tuesday")


def _edited_middle(text: str) -> str:
    paragraphs = text.split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] += " (corrected)"
    return "\n\n".join(paragraphs)


def test_cuts_keep_their_margins_on_random_edits():
    # Any text, any sentence starts, any edit: a cut is a sentence start of the base with CONTEXT
    # characters of identical text beyond it, and the parsed part covers everything that differs.
    rng = random.Random(7)
    for _ in range(300):
        base = "".join(rng.choice("ab ") for _ in range(rng.randint(300, 3000)))
        starts = numpy.array(sorted(rng.sample(range(1, len(base)), rng.randint(1, 40))))
        at = rng.randint(0, len(base))
        removed = rng.randint(0, 50)
        copy = base[:at] + "X" * rng.randint(0, 80) + base[at + removed:]
        match = reuse_between(base, copy)
        reuse = match and choose_cuts(match, starts, len(base), len(copy))
        if not reuse:
            continue
        _cut_rules_hold(base, copy, reuse, starts)
        end = len(copy) - reuse.suffix
        assert reuse.prefix < end and reuse.left <= reuse.prefix and end <= reuse.right
        assert reuse.prefix + reuse.suffix >= 0.5 * len(copy)


def test_equal_unrelated_or_mostly_new_texts_are_parsed_whole():
    assert reuse_between(BASE, BASE) is None
    assert reuse_between(BASE, "Something else entirely.\n\nAnd more.") is None
    short = BASE[:300] + "\n\n" + "A long new paragraph. " * 60
    assert reuse_between(BASE, short) is None  # too little shared


def test_a_plan_never_chains_and_picks_an_earlier_text():
    copy1 = BASE + "\n\nUpdate one."
    copy2 = copy1 + "\n\nUpdate two."
    plan = plan_reuse([BASE, copy1, copy2, "Unrelated."])
    assert plan[0] is None and plan[3] is None
    assert plan[1].base == 0 and plan[2].base == 0  # copy1 reuses, so it is no base itself


@pytest.fixture(scope="module")
def nlp():
    from transforms.nlp import load_nlp

    return load_nlp()


def _annotations(doc):
    return ([(t.text, t.whitespace_, t.tag_, t.pos_, t.dep_, t.head.i, t.is_sent_start, t.ent_iob_,
              t.ent_type_) for t in doc],
            [(e.start_char, e.end_char, e.label_) for e in doc.ents])


class _Recording:
    """The pipeline, noting every text it is asked to parse."""

    def __init__(self, nlp):
        self.nlp, self.parsed = nlp, []

    def pipe(self, texts, **kwargs):
        texts = list(texts)
        self.parsed += texts
        return self.nlp.pipe(texts, **kwargs)

    def make_doc(self, text):
        return self.nlp.make_doc(text)


def test_reused_docs_equal_whole_parses_on_these_copies(nlp):
    texts = [BASE, BASE + "\n\nThis report was updated (edition 2).",
             "A different headline entirely\n\n" + BASE.split("\n\n", 1)[1], LONG, _edited_middle(LONG)]
    plan = plan_reuse(texts)
    assert plan[0] is None and plan[3] is None and all(plan[i] is not None for i in (1, 2, 4))
    recording = _Recording(nlp)
    reused = parse_batch(recording, texts)
    # The copies went through spaCy only in part: their whole texts never did.
    assert all(texts[i] not in recording.parsed for i in (1, 2, 4))
    assert sum(map(len, recording.parsed)) < sum(map(len, texts)) - 1000
    whole = list(nlp.pipe(texts))
    for got, want, text in zip(reused, whole, texts):
        assert got.text == text
        assert _annotations(got) == _annotations(want)


@pytest.mark.skipif(not SEED.exists(), reason="shared seed article not present")
def test_a_near_copy_of_the_seed_keeps_its_14_quotes_and_speakers(nlp):
    from transforms.text import clean_text

    seed = clean_text(SEED.read_text(encoding="utf-8"))
    copy = seed + "\n\nThis article was updated."
    assert plan_reuse([seed, copy])[1] is not None
    results = list(extract_documents([("seed", seed, "2025-01-28"), ("copy", copy, "2025-01-28")], nlp=nlp))
    alone = list(extract_documents([("copy", copy, "2025-01-28")], nlp=nlp))[0]
    quotes = [(q.start_char, q.end_char, q.speaker, q.speaker_name, q.is_leadership) for q in results[1].quotes]
    assert len([q for q in results[1].quotes if q.kind == "direct"]) == 14
    assert quotes == [(q.start_char, q.end_char, q.speaker, q.speaker_name, q.is_leadership) for q in alone.quotes]
    assert [e.to_dict() for e in results[1].entities] == [e.to_dict() for e in alone.entities]
