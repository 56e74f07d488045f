import pytest

from transforms.nlp import load_nlp
from transforms.quotes import find_attributions, find_quote_spans


@pytest.fixture(scope="module")
def nlp():
    return load_nlp()


def spans(text):
    return [text[s.start:s.end] for s in find_quote_spans(text)]


def test_curly_and_straight_marks_pair_even_when_mixed():
    text = 'He said: \u201cOne thing." Then "two things," she said.'
    assert spans(text) == ['\u201cOne thing."', '"two things,"']


def test_quote_running_across_paragraphs_is_one_span():
    text = '"First paragraph of speech.\n\n"Second paragraph," he said.'
    assert spans(text) == [text[: text.index(',"') + 2]]


ODD_MARKS = ('"Unclosed start of a quote, he said.\n\nA narrative paragraph.\n\n'
             '"A fine quote," she said. He is 6\'2" tall.')


def test_odd_number_of_marks_keeps_well_formed_quotes():
    found = find_quote_spans(ODD_MARKS)
    texts = [ODD_MARKS[s.start:s.end] for s in found]
    assert texts[0] == '"Unclosed start of a quote, he said.'  # closed at its paragraph end
    assert '"A fine quote,"' in texts
    assert [s.recovered for s in found] == [True, False]  # the inch mark is ignored


def test_odd_number_of_marks_still_attributes_the_good_quote(nlp):
    found = quotes(nlp, ODD_MARKS)
    assert ('"A fine quote,"', "direct", "said", "she") in found
    assert not any("tall" in q[0] for q in found)


def test_apostrophes_are_not_quotes_but_headline_single_quotes_are():
    assert spans("Iran\u2019s leader and the prophets\u2019 mission.") == []
    assert spans("Trump: \u2018We will win\u2019") == ["\u2018We will win\u2019"]


TECH_POST = ('"The retry loop hides real failures," Jane Doe, who maintains the library, said.\n\n'
             'The fix wraps the error:\n\n'
             'retryError := fmt.Errorf("failed after %v tries", maxRetries) span.SetStatus(codes.Error, '
             '"retries exhausted") return nil, retryError }\n\n'
             '"Now the trace tells you why," she added.')


def test_string_literals_in_code_are_not_quotes():
    assert spans(TECH_POST) == ['"The retry loop hides real failures,"', '"Now the trace tells you why,"']


def test_a_quote_left_open_does_not_run_into_code():
    text = 'He wrote: "This part was never closed\n\n"key": { "a": [1, 2], "b": "c" }, "d": $x;'
    found = find_quote_spans(text)
    assert [(text[s.start:s.end], s.recovered) for s in found] == [('"This part was never closed', True)]


def test_code_adds_no_quote_and_keeps_the_speakers(nlp):
    from transforms.extract import extract_documents

    [result] = extract_documents([("post", TECH_POST, None)], nlp=nlp)
    assert [(q.text, q.speaker_name) for q in result.quotes if q.kind == "direct"] == [
        ('"The retry loop hides real failures,"', "Jane Doe"), ('"Now the trace tells you why,"', "Jane Doe")]
    assert not any("tries" in q.text or "exhausted" in q.text for q in result.quotes)


def test_a_clause_of_code_is_no_reported_speech(nlp):
    from transforms.extract import extract_documents

    text = ("The maintainers said the change was safe.\n\n"
            "if err != nil { log.Printf(\"worker said %v\", err); return fmt.Errorf(\"the queue reported that it "
            "was full\") }")
    [result] = extract_documents([("code", text, None)], nlp=nlp)
    assert [q.text for q in result.quotes] == ["the change was safe"]


def quotes(nlp, text):
    doc = nlp(text)
    return [(doc.text[a.start:a.end], a.kind, a.cue.text if a.cue is not None else None,
             doc[a.speaker_start:a.speaker_end].text if a.speaker_start is not None else None)
            for a in find_attributions(doc)]


def test_speaker_after_and_inverted(nlp):
    found = quotes(nlp, '"We must act now," the minister said.\n\n"It is late," said John Smith.')
    assert found == [('"We must act now,"', "direct", "said", "the minister"),
                     ('"It is late,"', "direct", "said", "John Smith")]


def test_colon_introduced_and_continued(nlp):
    found = quotes(nlp, "Sitting beside the president, Ali Khamenei continued: \u201cWe must know.\u201d")
    assert found == [("\u201cWe must know.\u201d", "direct", "continued", "Ali Khamenei")]


def test_wrote_on_x_with_appositive(nlp):
    text = ('"The statement is clear," Mohammad Ranjbaran, an advisor to the foreign minister, wrote on X.')
    assert quotes(nlp, text)[0][2:] == ("wrote", "Mohammad Ranjbaran")


def test_according_to(nlp):
    text = '"The deal is dead," according to Senator Jane Doe.'
    assert quotes(nlp, text)[0][1:] == ("direct", "according", "Senator Jane Doe")


def test_indirect_and_mixed_speech(nlp):
    found = quotes(nlp, "The senator said that the bill would fail in the House.\n\n"
                        "Trump urged supporters to watch polling places for \u201cfraud\u201d on Election Day.")
    assert found[0] == ("that the bill would fail in the House", "indirect", "said", "The senator")
    assert found[1][1:] == ("mixed", "urged", "Trump")
    assert "\u201cfraud\u201d" in found[1][0]


@pytest.mark.parametrize("text, content", [
    ("The senator told reporters that the bill would fail.", "that the bill would fail"),
    ("The senator told CNN the bill would fail.", "the bill would fail"),
    ("The senator told CNN a story about the bill.", "a story about the bill"),  # no clause: the object is what was told
])
def test_who_was_told_is_not_what_was_said(nlp, text, content):
    [found] = [q for q in quotes(nlp, text) if q[2] == "told"]
    assert found[0] == content


def test_cueless_quote_is_kept_as_continuation(nlp):
    text = '"First part," Smith said. "Second part of the same speech."'
    attributions = find_attributions(nlp(text))
    assert [a.continues_previous for a in attributions] == [False, True]


@pytest.mark.parametrize("text", ["", "   \n\n  ", '"', '""', '\u201d\u201c', "\u2018", 'He said "',
                                  '"a\n\n"b\n\n"c', "no quotes at all", '\u201cOnly an opener and text'])
def test_extraction_never_loses_a_document(nlp, text):
    from transforms.extract import extract_documents

    [result] = extract_documents([("odd", text, None)], nlp=nlp)
    assert result.id == "odd"
    for q in result.quotes:
        assert text[q.start_char:q.end_char] == q.text
