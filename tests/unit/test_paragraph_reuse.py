"""transforms/paragraph_reuse.py: near copies in a batch are parsed only where they differ, and
come out with the tokens, tags, parse and entities of the text parsed whole."""
from pathlib import Path

import pytest

from transforms.extract import extract_documents
from transforms.paragraph_reuse import CONTEXT, paragraph_starts, parse_batch, plan_reuse, reuse_between

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


def _cut_rules_hold(base, copy, found):
    starts = paragraph_starts(copy)
    end = len(copy) - found.suffix
    assert copy[:found.prefix] == base[:found.prefix]
    assert copy[end:] == base[len(base) - found.suffix:]
    # CONTEXT characters of identical text beyond each cut, in both texts.
    if found.prefix:
        assert found.prefix in starts and copy[:found.prefix + CONTEXT] == base[:found.prefix + CONTEXT]
    if found.suffix:
        assert end in starts and copy[end - CONTEXT:] == base[len(base) - found.suffix - CONTEXT:]
    # The parsed part carries at least CONTEXT characters of whole paragraphs on each side.
    assert found.left in starts and (found.left == 0 or found.prefix - found.left >= CONTEXT)
    assert found.right == len(copy) or (found.right in starts and found.right - end >= CONTEXT)


def test_an_appended_paragraph_reuses_the_paragraphs_well_before_it():
    copy = BASE + "\n\nThis report was updated."
    found = reuse_between(BASE, copy)
    _cut_rules_hold(BASE, copy, found)
    assert found.suffix == 0 and found.prefix == max(s for s in paragraph_starts(BASE) if s <= len(BASE) - CONTEXT)


def test_a_new_headline_reuses_the_rest_as_a_suffix():
    copy = "A different headline entirely\n\n" + BASE.split("\n\n", 1)[1]
    found = reuse_between(BASE, copy)
    _cut_rules_hold(BASE, copy, found)
    assert found.prefix == 0 and found.suffix >= len(BASE) - BASE.index("The European")


LONG = BASE + "\n\n" + BASE.replace("Paris", "Rome").replace("Monday", "Tuesday")


def _edited_middle(text: str) -> str:
    paragraphs = text.split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] += " (corrected)"
    return "\n\n".join(paragraphs)


def test_a_changed_middle_paragraph_keeps_prefix_and_suffix():
    copy = _edited_middle(LONG)
    found = reuse_between(LONG, copy)
    _cut_rules_hold(LONG, copy, found)
    assert found.prefix > 0 and found.suffix > 0


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


def test_reused_docs_equal_whole_parses_on_these_copies(nlp):
    texts = [BASE, BASE + "\n\nThis report was updated (edition 2).",
             "A different headline entirely\n\n" + BASE.split("\n\n", 1)[1], LONG, _edited_middle(LONG)]
    plan = plan_reuse(texts)
    assert plan[0] is None and plan[3] is None and all(plan[i] is not None for i in (1, 2, 4))
    reused = parse_batch(nlp, texts)
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
