"""What the NLP step reads of a long text: a prefix cut at a paragraph or sentence end."""
from __future__ import annotations

from transforms.extract import extract_documents
from transforms.nlp import bound_text, load_nlp

PARA = "The council met on Monday. Members argued about the budget for an hour.\n\n"


def test_short_text_is_read_whole():
    assert bound_text("short text", 100) == ("short text", False)
    assert bound_text("x" * 100, 100) == ("x" * 100, False)
    assert bound_text("anything", None) == ("anything", False)


def test_long_text_is_cut_at_the_last_paragraph_break_within_the_limit():
    text = PARA * 100
    cut, truncated = bound_text(text, 1000)
    assert truncated and len(cut) <= 1000 and text.startswith(cut)
    assert cut.endswith("for an hour.") and len(cut) > 500


def test_without_paragraphs_the_cut_is_at_a_sentence_end_then_a_space():
    sentences = "One sentence here. " * 200
    cut, _ = bound_text(sentences, 1000)
    assert cut.endswith("here.") and len(cut) <= 1000
    words = "word " * 400
    cut, _ = bound_text(words, 1000)
    assert cut.endswith("word") and len(cut) <= 1000
    blob = "x" * 5000
    assert bound_text(blob, 1000) == ("x" * 1000, True)


def test_a_break_in_the_first_half_only_is_not_used():
    text = "Head.\n\n" + "y" * 5000
    cut, _ = bound_text(text, 1000)
    assert len(cut) == 1000  # not "Head."


def test_extraction_of_a_huge_text_reads_its_start_and_says_so():
    quote = "\u201cThe bridge will reopen next week,\u201d Mayor Anna Holt said on Tuesday.\n\n"
    late = "\u201cThis sentence comes too late,\u201d Mayor Anna Holt said later.\n\n"
    text = quote + PARA * 60 + late
    results = list(extract_documents([("big", text, "2025-01-28"), ("small", quote, "2025-01-28")],
                                     nlp=load_nlp(), max_chars=2000))
    big, small = results
    assert big.nlp_truncated and not small.nlp_truncated
    assert [q.text for q in big.quotes] == [text[q.start_char:q.end_char] for q in big.quotes]  # full-text offsets
    assert any("bridge" in q.text for q in big.quotes) and not any("too late" in q.text for q in big.quotes)
    assert big.to_json()["nlp_truncated"] is True
