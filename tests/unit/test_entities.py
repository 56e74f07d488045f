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


HEADLINE_LINK = ("Trump has repeatedly aired his grievances with NATO, a former aide said.\n\n"
                 "Read More: Trump Refuses to Rule Out Leaving NATO Over Greenland\n\n"
                 "\u201cWe are not leaving,\u201d Trump told reporters on Monday.")


def test_a_title_case_line_does_not_run_a_name_into_its_verb():
    from transforms.extract import extract_documents

    [result] = extract_documents([("link", HEADLINE_LINK, None)], nlp=load_nlp())
    assert [q.speaker_name for q in result.quotes if q.kind == "direct"] == ["Trump"]
    assert not any("Refuses" in e.canonical for e in result.entities)


def test_a_headline_name_keeps_the_words_before_the_one_the_prose_confirms():
    text = ("Read More: Angela Merkel Rejects Calls to Step Down\n\n"
            "\u201cI will stay,\u201d Merkel said on Friday.")
    names = [m.canonical for m in find_mentions(load_nlp()(text)) if m.label == "PERSON"]
    assert names == ["Angela Merkel"] * 2


@pytest.mark.parametrize("line, prose, found, kept", [
    ("Read More: Trump Refuses to Rule Out Leaving NATO", "Trump said so.", "Trump Refuses", "Trump"),
    ("Podcast Notes: Nick Toye - Pixels & Code", "Nothing else.", "Nick Toye - Pixels & Code", "Nick Toye"),
    # a name the prose only half uses is kept whole: no verb after the confirmed word
    ("The Best Episodes of Mark Brickey Live This Year", "Mark told us.", "Mark Brickey", "Mark Brickey"),
    ("New Paper by Edwin Peraza-Hernandez on Solar Cells", "Edwin Peraza said so.",
     "Edwin Peraza-Hernandez", "Edwin Peraza-Hernandez"),
    # a byline outside any headline
    ("Carlos Becker - Guest", "Carlos said so.", "Carlos Becker - Guest", "Carlos Becker"),
    # a surname that reads like a verb, used as a name in the text
    ("Podcast Notes With James Flames and Friends", "James told us. We met Flames later.",
     "James Flames", "James Flames"),
])
def test_run_on_names_end_where_the_name_does(line, prose, found, kept):
    from transforms.entities import Mention, _trim_run_on_names

    text = f"{line}\n\n{prose}"
    doc = load_nlp().make_doc(text)

    def mention(start):
        span = doc.char_span(start, start + len(found if start < len(line) else first), alignment_mode="expand")
        return Mention(span.start_char, span.end_char, span.start, span.end, span.text, "PERSON")

    first = prose.split()[0]
    mentions = [mention(line.index(found)), mention(len(line) + 2)]
    _trim_run_on_names(doc, mentions)
    assert mentions[0].text == kept == text[mentions[0].start:mentions[0].end]
    assert doc[mentions[0].tok_start:mentions[0].tok_end].text == kept


def test_the_place_a_resident_comes_from_is_no_person():
    text = ("\u201cMy view of it is that Reza Pahlavi is just simply being the leader to coordinate the removal "
            "of the regime,\u201d a resident of Shiraz, who heeded Pahlavi\u2019s calls to protest last week, told "
            "TIME on condition of anonymity.")
    labels = {m.text: m.label for m in find_mentions(load_nlp()(text))}
    assert labels["Shiraz"] == "GPE" and labels["Reza Pahlavi"] == "PERSON"
