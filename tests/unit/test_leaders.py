import datetime as dt

import pytest

from transforms.entities import find_mentions
from transforms.leaders import article_roles, default_gazetteer, load_gazetteer, speaker_role
from transforms.nlp import load_nlp


@pytest.mark.parametrize("name,day,role", [
    ("Donald Trump", "2018-05-01", "president"),
    ("Donald Trump", "2022-05-01", None),
    ("Trump", "2025-03-01", "president"),
    ("Barack Obama", "2016-10-01", "president"),
    ("Barack Obama", "2017-02-01", None),
    ("Hillary Clinton", "2010-01-01", "secretary of state"),
    ("Hillary Clinton", "2016-10-01", None),
    ("Ali Khamenei", "2025-01-28", "supreme leader"),
    ("Masoud Pezeshkian", "2025-01-28", "president"),
    ("Masoud Pezeshkian", "2023-01-28", None),
])
def test_gazetteer_respects_terms(name, day, role):
    entry = default_gazetteer().lookup(name, dt.date.fromisoformat(day))
    assert (entry.role if entry else None) == role


def test_operator_csv_with_same_columns(tmp_path):
    path = tmp_path / "extra.csv"
    path.write_text("name,aliases,role,country,from,to\n"
                    "Jane Roe,Roe;J. Roe,prime minister,Freedonia,2020-01-01,\n", encoding="utf-8")
    gazetteer = load_gazetteer(path)
    assert gazetteer.lookup("J. Roe", dt.date(2024, 1, 1)).country == "Freedonia"
    assert gazetteer.lookup("Jane Roe", dt.date(2019, 1, 1)) is None


@pytest.fixture(scope="module")
def roles():
    text = ("Iran's Supreme Leader Ali Khamenei met President Masoud Pezeshkian. "
            "Mohammad Ranjbaran, an advisor to the foreign minister, wrote in a post. "
            "Jane Roe, the foreign minister, agreed. Former President John Doe was absent.")
    doc = load_nlp()(text)
    return article_roles(doc, find_mentions(doc))


def test_roles_from_article_wording(roles):
    assert (roles["Ali Khamenei"].role, roles["Ali Khamenei"].country) == ("supreme leader", "Iran")
    assert roles["Masoud Pezeshkian"].role == "president" and roles["Masoud Pezeshkian"].is_leader
    assert roles["Jane Roe"].role == "foreign minister" and roles["Jane Roe"].is_leader


def test_advisor_and_former_office_holder_are_not_leaders(roles):
    assert not roles["Mohammad Ranjbaran"].is_leader
    assert "John Doe" not in roles


def test_speaker_role_prefers_dated_gazetteer(roles):
    role = speaker_role("Masoud Pezeshkian", roles, default_gazetteer(), dt.date(2025, 1, 28))
    assert (role.role, role.country, role.is_leader) == ("president", "Iran", True)
    unknown = speaker_role("Nobody Known", roles, default_gazetteer(), None)
    assert unknown is None


@pytest.mark.parametrize("title", [
    "Former U.K. Prime Minister", "former British Prime Minister", "Freedonia's former President",
    "The former Freedonian President", "ex-Brazilian President", "assassinated President",
    "Freedonia's ousted Prime Minister", "the late Freedonian President",
])
def test_former_before_a_country_names_no_current_role(title):
    # "Former U.K. Prime Minister Tony Blair" had been a current prime minister (and a leadership
    # statement): the country between "former" and the title hid the word.
    doc = load_nlp()(f"{title} John Doe spoke. Prime Minister Jane Roe agreed.")
    found = article_roles(doc, find_mentions(doc))
    assert "John Doe" not in found and found["Jane Roe"].role == "prime minister"


@pytest.mark.parametrize("text,name", [
    ("U.S. Deputy Secretary of State John Doe spoke.", "John Doe"),
    ("Assistant Secretary of State John Doe spoke.", "John Doe"),
    ("Shadow Chancellor John Doe spoke.", "John Doe"),
    ("John Doe, formerly U.S. Assistant Secretary of State for East Asian and Pacific Affairs, spoke.", "John Doe"),
    ("John Doe, the deputy secretary of state, spoke.", "John Doe"),
])
def test_a_rank_below_a_title_is_not_that_title(text, name):
    doc = load_nlp()(f"{text} Under President Jane Roe, the economy grew.")
    found = article_roles(doc, find_mentions(doc))
    assert name not in found or not found[name].is_leader
    assert found["Jane Roe"].role == "president"  # "under" before a title is a preposition
