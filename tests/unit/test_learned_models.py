"""The shipped models: loaded from package data, checked against the code's features, and used."""
import json
from pathlib import Path

import pytest

from transforms.extract import extract_documents
from transforms.extraction_models import ExtractionModels
from transforms.learned import DATA, ModelMismatch, load_model
from transforms.nlp import load_nlp
from transforms.quote_model import QUOTE_FEATURES
from transforms.reported_model import REPORTED_FEATURES
from transforms.speaker_model import SPEAKER_FEATURES


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


@pytest.mark.parametrize("name, features", [("quote_model", QUOTE_FEATURES), ("speaker_model", SPEAKER_FEATURES),
                                            ("reported_model", REPORTED_FEATURES)])
def test_shipped_models_have_cards_and_match_the_code(name, features):
    card = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    assert card["features"] == list(features)
    assert card["script"] == "bench/train_models.py" and card["version"] >= 1
    assert (DATA / f"{name}.txt").stat().st_size < 400_000  # small enough to ship
    model = load_model(name, features)
    [p] = model.scores([[0.0] * len(features)])
    assert 0.0 <= p <= 1.0


def test_a_model_trained_on_other_features_fails_loudly(tmp_path):
    for suffix in (".txt", ".json"):
        (tmp_path / f"quote_model{suffix}").write_text((DATA / f"quote_model{suffix}").read_text())
    with pytest.raises(ModelMismatch):
        load_model("quote_model", QUOTE_FEATURES[:-1], data_dir=Path(tmp_path))


def _quotes(nlp, text, models):
    [result] = extract_documents([("t", text, "2025-01-28")], nlp=nlp, models=models)
    return result.quotes


def test_the_quote_model_keeps_a_partial_quote_the_rules_leave(nlp):
    text = 'Opposition leader Kemi Badenoch called the attack "cowardly".'
    assert not any("cowardly" in q.text for q in _quotes(nlp, text, ExtractionModels.off()))
    assert any("cowardly" in q.text for q in _quotes(nlp, text, ExtractionModels.default()))


def test_the_reported_model_adds_attributions_beyond_speech_verbs(nlp):
    text = "Christie endorsed Trump on Friday, and polls show that voters are tired of the race."
    off = _quotes(nlp, text, ExtractionModels.off())
    on = _quotes(nlp, text, ExtractionModels.default())
    assert len(on) > len(off)
    assert any("voters are tired of the race" in q.text for q in on)


@pytest.mark.parametrize("text", [
    "President Emmanuel Macron of France spoke to reporters on Tuesday about hospitals.",
    "The minister talked with farmers in Lyon about the drought on Monday.",
])
def test_whom_and_when_someone_spoke_is_no_statement(nlp, text):
    # Several prepositional phrases on a speech verb: at most the topical one can be content,
    # never a span running from the addressee ("reporters ...") over the date to the topic.
    quotes = _quotes(nlp, text, ExtractionModels.default())
    assert not any(q.text.split()[0] in ("reporters", "farmers") for q in quotes), [q.text for q in quotes]


@pytest.mark.parametrize("text, words, rules, model", [
    # the writer of "wrote", not the subject of the clause the quote sits in
    ("Since the vote, Carver wrote that Dunmore and other party officials have made \u201cnumerous requests\u201d "
     "to withdraw the motion.", "numerous requests", "Dunmore", "Carver"),
    # 'X said ... and said, "..."': the cue's subject, not the rules' nearest noun phrase
    ("The mayor defended the police unit on Monday.\n\nHalvorsen said the move was made by the police "
     "commissioner and said, \u201cWho are you going to trust on security?\u201d", "Who are you going to trust",
     "the move", "Halvorsen"),
    # a subject inside the quote's lead-in clause is not the speaker: the statement the quote
    # sits in is, as its speaker is written there
    ("In a radio interview, Senator Lena Marsh said that once the Senate goes on recess, \u201cI intend to do "
     "as much as I can, wherever I can be helpful.\u201d", "I intend to do", "the Senate", "Senator Lena Marsh"),
    # "according to X, ... had 'excellent' results": X, not the clause's subject
    ("According to his longtime physician, the businessman had \u201castonishingly excellent\u201d results in "
     "his latest exam.", "astonishingly excellent\u201d results", "the businessman", "his longtime physician"),
])
def test_the_speaker_model_moves_what_the_rules_get_wrong(nlp, text, words, rules, model):
    shipped = ExtractionModels.default()
    without = ExtractionModels(quote=shipped.quote, reported=shipped.reported)

    def speaker(models):
        [q] = [q for q in _quotes(nlp, text, models) if q.text.startswith(("\u201c" + words, words))]
        return q.speaker

    assert speaker(without) == rules
    assert speaker(shipped) == model


def _att(start, end, speaker=None):
    from transforms.quotes import Attribution

    att = Attribution(start, end, "indirect", None)
    if speaker is not None:
        att.speaker_start, att.speaker_end = speaker
    return att


def test_a_statement_inside_another_gets_the_outermost_statement_with_a_speaker_as_its_encloser():
    from transforms.speaker_model import _enclosing

    text = "x" * 200
    outer, middle, inner = _att(10, 120, (0, 2)), _att(30, 110, (25, 27)), _att(60, 100, (55, 56))
    after = _att(130, 150, (125, 126))
    # the outermost statement, for every level below it; nothing for what no longer
    # statement holds, nor for a statement of the same length
    assert _enclosing([outer, middle, inner, after], text) == [None, outer, outer, None]
    assert _enclosing([_att(10, 50, (0, 2)), _att(10, 50, (3, 4))], text) == [None, None]
    # an outer statement with no speaker span is no encloser
    assert _enclosing([_att(10, 120), _att(30, 110, (25, 27))], text) == [None, None]


def test_a_quotation_whose_closing_marks_stick_out_of_the_reported_content_is_still_inside_it():
    from transforms.speaker_model import _enclosing

    text = 'Marsh said that once the Senate goes on recess, "I intend to help." Then she left.'
    quote_start = text.index('"I intend')
    content = _att(text.index("that once"), text.index('help.') + len("help"), (0, 1))
    quotation = _att(quote_start, text.index('help."') + len('help."'), (4, 6))
    assert _enclosing([content, quotation], text) == [None, content]
    # more than closing marks outside: not inside
    longer = _att(quote_start, text.index("Then") + 4, (4, 6))
    assert _enclosing([content, longer], text) == [None, None]


def test_an_enclosed_statement_takes_its_enclosers_final_speaker():
    from transforms.speaker_model import follow_enclosers

    outer, inner = _att(10, 120, (0, 2)), _att(30, 110, (25, 27))
    inner.continues_previous = True
    outer.speaker_start, outer.speaker_end = 3, 5  # the model moved the outer statement's speaker
    follow_enclosers([(inner, outer)])
    assert (inner.speaker_start, inner.speaker_end) == (3, 5) and not inner.continues_previous


def _speaker_work(nlp, text):
    """The parsed text, its attributions after the quote and reported-speech models, and what
    the speaker model is asked about: (attribution, candidates) groups and enclosed statements."""
    from transforms.entities import find_mentions
    from transforms.quotes import find_attributions_and_rest, paragraph_bounds
    from transforms.speaker_model import speaker_work

    doc = nlp(text)
    mentions = find_mentions(doc)
    shipped = ExtractionModels.default()
    attributions, rest = find_attributions_and_rest(doc, paragraph_bounds(text), text)
    attributions = ExtractionModels(quote=shipped.quote, reported=shipped.reported).apply(
        doc, text, mentions, attributions, rest)
    return doc, attributions, *speaker_work(doc, rest.view, mentions, attributions)


def test_a_quotation_inside_a_named_speakers_statement_is_not_ranked_and_takes_that_speaker(nlp):
    text = ("In a radio interview, Senator Lena Marsh said that once the Senate goes on recess, \u201cI intend "
            "to do as much as I can, wherever I can be helpful.\u201d")
    doc, _, groups, enclosed = _speaker_work(nlp, text)
    assert not any(text[a.start:a.end].startswith("\u201cI intend") for a, _ in groups)
    [(quotation, encloser)] = [(a, e) for a, e in enclosed if text[a.start:a.end].startswith("\u201cI intend")]
    assert "Lena Marsh" in doc[encloser.speaker_start:encloser.speaker_end].text
    [quote] = [q for q in _quotes(nlp, text, ExtractionModels.default()) if q.text.startswith("\u201cI intend")]
    assert quote.speaker_name == "Lena Marsh"


@pytest.mark.parametrize("text, outer", [
    # under a description the ranker may want the name inside it
    ("In a radio interview, the company\u2019s chief executive said that once the Senate goes on recess, "
     "\u201cI intend to do as much as I can, wherever I can be helpful.\u201d", "chief executive"),
    # "they" may stand for a group the article names
    ("Senate Democrats met on Monday. In a radio interview, they said that once the Senate goes on recess, "
     "\u201cI intend to do as much as I can, wherever I can be helpful.\u201d", "they"),
])
def test_the_speaker_model_sees_the_outer_speaker_when_it_is_no_name_he_or_she(nlp, text, outer):
    # still ranked, the encloser flagged among the candidates
    doc, _, groups, enclosed = _speaker_work(nlp, text)
    enclosed_feature = SPEAKER_FEATURES.index("enclosed")
    encloser = SPEAKER_FEATURES.index("is_encloser_speaker")
    [(quotation, candidates)] = [(a, c) for a, c in groups if text[a.start:a.end].startswith("\u201cI intend")]
    flagged = {doc[c.start:c.end].text for c in candidates if c.features[encloser]}
    assert all(c.features[enclosed_feature] for c in candidates)
    assert flagged and all(outer in who for who in flagged)
    assert not any(c.features[encloser] for c in candidates if "Senate" in doc[c.start:c.end].text)
    assert not any(a is quotation for a, _ in enclosed)


def _ranked(nlp, text):
    """The attributions' texts the speaker model is asked about, and all attributions' texts."""
    _, attributions, groups, _ = _speaker_work(nlp, text)
    return {text[a.start:a.end] for a, _ in groups}, {text[a.start:a.end] for a in attributions}


@pytest.mark.parametrize("text, quote", [
    ('"We will not sign this treaty," Foreign Minister Ana Ortiz said on Monday.', "We will not sign"),
    ('The mayor spoke first.\n\n"The budget is balanced," she added.', "The budget is balanced"),
    # reported speech: the cue's subject is the source, whatever it is
    ("Transport officials said on Monday that the bridge would reopen in May.", "the bridge would reopen"),
])
def test_a_name_or_pronoun_the_rules_found_as_the_cues_subject_is_not_re_ranked(nlp, text, quote):
    ranked, found = _ranked(nlp, text)
    assert any(quote in t for t in found)
    assert not any(quote in t for t in ranked)


@pytest.mark.parametrize("text, quote", [
    # a common noun as the subject: the name may be another mention of the phrase
    ("Friend and longtime reader Omar Ozenir recently said something in a comment that struck home:\n\n"
     '"Over at the forum someone recommended a new name for it, which I find quite apt."', "Over at the forum"),
    # no cue: the rules' speaker is a guess
    ('Ana Ortiz, the foreign minister, took questions.\n\n"We will not sign this treaty."', "We will not sign"),
])
def test_other_speakers_are_still_re_ranked(nlp, text, quote):
    ranked, _ = _ranked(nlp, text)
    assert any(quote in t for t in ranked)
