import pytest

from transforms.entities import find_mentions, summarise
from transforms.nlp import load_nlp

SEED_LIKE = ("Iran's Supreme Leader Ali Khamenei spoke on Tuesday. Khamenei said talks were possible.\n\n"
             "\u201cThe Supreme Leader's statements today are clear,\u201d Mohammad-Hossein Ranjbaran, "
             "an advisor to the foreign minister, wrote on X.")


@pytest.fixture(scope="module")
def records():
    doc = load_nlp()(SEED_LIKE)
    return {r.canonical: r for r in summarise(find_mentions(doc))}


def test_surname_shares_canonical_full_name_and_counts(records):
    khamenei = records["Ali Khamenei"]
    assert khamenei.label == "PERSON" and khamenei.count == 2
    assert SEED_LIKE[khamenei.first_start:khamenei.first_end] == "Ali Khamenei"
    assert "Khamenei" not in records


def test_title_words_are_not_entities(records):
    assert not any("Supreme" in name for name in records)


def test_name_mistagged_by_model_becomes_person(records):
    assert records["Mohammad-Hossein Ranjbaran"].label == "PERSON"


def test_offsets_are_exact(records):
    for record in records.values():
        assert SEED_LIKE[record.first_start:record.first_end] == record.name
