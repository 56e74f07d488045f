from transforms.text import (clean_text, content_hash, drop_repeated_paragraphs, html_to_text,
                             normalise_whitespace, split_paragraphs)


def test_html_to_text_keeps_paragraph_breaks_and_drops_scripts():
    html = "<div><p>First &amp; one.</p><script>var x = 1;</script><p>Second\nline</p>Tail<br>End</div>"
    assert html_to_text(html).split("\n\n") == ["First & one.", "Second line", "Tail", "End"]


def test_split_paragraphs_treats_each_line_as_paragraph_and_normalises_space():
    text = "Title\n\n  A\u00a0 caption  \nA caption\n\n\nBody  text.\n"
    assert split_paragraphs(text) == ["Title", "A caption", "A caption", "Body text."]
    assert normalise_whitespace(" a \t b\u00a0c ") == "a b c"


def test_repeated_paragraph_keeps_first_occurrence_only():
    paragraphs = ["Caption here", "Body one.", "caption  here", "Body two.", "Body one."]
    assert drop_repeated_paragraphs(paragraphs) == ["Caption here", "Body one.", "Body two."]


def test_content_hash_ignores_case_spacing_and_quote_style():
    a = "He said \u201cyes\u201d and \u2018no\u2019.\n\nNext"
    b = "he said  \"YES\" and 'no'. Next"
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash("He said \u201cno\u201d.")
    assert len(content_hash(a)) == 32


def test_clean_text_joins_unique_paragraphs_with_blank_lines():
    assert clean_text("<p>A</p><p>B</p><p>A</p>", is_html=True) == "A\n\nB"


def test_whitespace_rules_collapse_exactly_the_inline_spaces():
    from transforms.text import normalise_for_hash, normalise_whitespace

    # NBSP, thin/zero-width spaces and tabs collapse; a single plain space stays; the Ogham
    # space mark and line separators are not inline spaces for split_paragraphs' rule.
    assert normalise_whitespace(" a\u00a0\u200b b\tc \u1680d  e\u2028f ") == "a b c \u1680d e\u2028f"
    assert normalise_for_hash("\u201cHe\u2019s\u201d  Here\n\tNOW") == "\"he's\" here now"
