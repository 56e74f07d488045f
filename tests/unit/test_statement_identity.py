"""statement_id: one id per statement across outlets (transforms/statement_identity.py)."""
import pytest

from transforms.identity_eval import FAMILIES, identity_report
from transforms.nlp import load_nlp
from transforms.statement_identity import lead_words, quoted_words, speaker_key, statement_id


@pytest.mark.parametrize("name, key", [
    ("Ruben van der Meer", "meer"), ("van der Meer", "meer"), ("Abdel Fattah al-Sisi", "sisi"),
    ("Sisi", "sisi"), ("Jos\u00e9 Mar\u00eda Aznar", "aznar"), (None, ""), ("", ""),
])
def test_speaker_key(name, key):
    assert speaker_key(name) == key


def test_quote_marks_punctuation_and_attribution_do_not_change_the_id():
    ids = {statement_id(text, "Ruben van der Meer") for text in (
        '"Our mission is not over,"', "\u201cOur mission is not over.\u201d", "''Our mission is not over.''",
        "\u00abOur mission is not over\u00bb")}
    assert len(ids) == 1
    assert statement_id('"Our mission is not over,"', "van der Meer") in ids


def test_an_extended_quote_keeps_the_id_of_its_first_sentence():
    short = statement_id('"Our mission is not over,"', "Ruben van der Meer")
    longer = statement_id('"Our mission is not over. We will stay as long as we are needed."', "Ruben van der Meer")
    assert short == longer
    # ...but a quote that starts earlier is another statement
    assert statement_id('"We will stay. Our mission is not over."', "Ruben van der Meer") != short


def test_short_first_sentences_take_the_next_one():
    assert lead_words("No. We will never sign it.") == ["no", "we", "will", "never", "sign", "it"]
    assert statement_id('"No. We will never sign it."', "Lind") != statement_id('"No. Ask them."', "Lind")


def test_partial_quotes_are_identified_by_their_quoted_words():
    assert quoted_words('called the attack "cowardly" and "vile"') == "cowardly vile"
    assert statement_id('the attack "cowardly"', "Kemi Badenoch") == statement_id(
        'the bombing "cowardly"', "Badenoch")


def test_other_speaker_or_other_words_give_another_id():
    base = statement_id('"The people must decide."', "Pedro Sanchez")
    assert statement_id('"The people must decide."', "Anna Lind") != base
    assert statement_id('"The voters must decide."', "Pedro Sanchez") != base


def test_identity_measure_over_outlet_rewrites():
    report = identity_report(load_nlp())
    assert report.families == len(FAMILIES) >= 8
    assert report.missing == 0
    assert report.share >= 0.75, report.format()
    assert "statements keep one statement_id" in report.format()
