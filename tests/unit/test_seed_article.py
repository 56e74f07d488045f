"""The project's seed article: every quotation found, attributed and flagged correctly."""
from pathlib import Path

import pytest

from transforms.extract import extract_documents
from transforms.nlp import load_nlp
from transforms.text import clean_text

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_146a92e843f25df6.txt"
CAPTION = "Iran's Supreme Leader Ali Khamenei (left) and President Masoud Pezeshkian during a meeting"

# (opening words of the quote, resolved speaker)
EXPECTED = [
    ("Behind the smiles of diplomacy", "Ali Khamenei"),
    ("When a person knows his opponent", "Ali Khamenei"),
    ("The Supreme Leader's statements today", "Mohammad-Hossein Ranjbaran"),
    ("This is a clear message for everyone", "Mohammad-Hossein Ranjbaran"),
    ("The Supreme Leader, if he intended", "Mohammad-Ali Ahangaran"),
    ("However, the wise Leader of the Revolution", "Mohammad-Ali Ahangaran"),
    ("When US Congress members applaud", "Ali Khamenei"),
    ("The US government stands as the pinnacle", "Ali Khamenei"),
    ("The history of colonialism shows", "Ali Khamenei"),
    ("Every day, major financial cartels", "Ali Khamenei"),
    ("This (Nasrallah\u2019s death) is no joke", "Ali Khamenei"),
    ("Gaza, a small and limited region", "Ali Khamenei"),
    ("The prophets\u2019 mission", "Masoud Pezeshkian"),
    ("The Prophet Muhammad\u2019s first act", "Masoud Pezeshkian"),
]

pytestmark = pytest.mark.skipif(not SEED.exists(), reason=f"shared data not found at {SEED}")


@pytest.fixture(scope="module")
def raw_text():
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned(raw_text):
    text = clean_text(raw_text)
    [result] = extract_documents([("seed", text, "2025-01-28")], nlp=load_nlp())
    return text, result


def direct(result):
    return [q for q in result.quotes if q.kind == "direct"]


def test_repeated_caption_is_kept_once(raw_text, cleaned):
    text, _ = cleaned
    assert raw_text.count(CAPTION) == 2
    assert text.count(CAPTION) == 1


def test_every_quotation_found_and_attributed(cleaned):
    text, result = cleaned
    found = [(q.text.lstrip("\"\u201c"), q.speaker_name) for q in direct(result)]
    assert len(found) == len(EXPECTED)
    for (quote, speaker), (opening, expected_speaker) in zip(found, EXPECTED):
        assert quote.startswith(opening)
        assert speaker == expected_speaker, opening


def test_offsets_are_exact_into_the_given_text(cleaned):
    text, result = cleaned
    for q in result.quotes:
        assert text[q.start_char:q.end_char] == q.text
        if q.speaker_start is not None:
            assert text[q.speaker_start:q.speaker_end] == q.speaker
    for e in result.entities:
        assert text[e.first_start:e.first_end] == e.name


def test_pronoun_and_continued_cues(cleaned):
    _, result = cleaned
    by_opening = {q.text.lstrip("\"\u201c")[:20]: q for q in direct(result)}
    assert (by_opening["When a person knows "].cue, by_opening["When a person knows "].speaker) == (
        "continued", "Khamenei")
    assert (by_opening["The US government st"].speaker, by_opening["The US government st"].cue) == ("he", "said")
    ahangaran_added = by_opening["However, the wise Le"]
    assert (ahangaran_added.speaker, ahangaran_added.cue, ahangaran_added.speaker_name) == (
        "he", "added", "Mohammad-Ali Ahangaran")
    assert by_opening["The Supreme Leader's"].cue == "wrote"


def test_leadership_flags_and_roles(cleaned):
    _, result = cleaned
    for q in direct(result):
        if q.speaker_name == "Ali Khamenei":
            assert (q.is_leadership, q.speaker_role, q.speaker_country) == (True, "supreme leader", "Iran")
        elif q.speaker_name == "Masoud Pezeshkian":
            assert (q.is_leadership, q.speaker_role, q.speaker_country) == (True, "president", "Iran")
        else:
            assert not q.is_leadership, q.speaker_name
    ranjbaran = [q for q in result.quotes if q.speaker_name == "Mohammad-Hossein Ranjbaran"]
    assert ranjbaran and all(q.speaker_role == "advisor" for q in ranjbaran)


def test_raw_text_gives_same_statements_as_cleaned(raw_text, cleaned):
    """The caption printed twice adds no quote, and statement ids do not depend on offsets."""
    _, result = cleaned
    [raw] = extract_documents([("raw", raw_text, "2025-01-28")], nlp=load_nlp())
    assert [q.statement_id for q in direct(raw)] == [q.statement_id for q in direct(result)]
    assert len({q.statement_id for q in direct(result)}) == len(EXPECTED)
