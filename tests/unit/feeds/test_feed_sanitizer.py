from connectors.feeds.sanitizer import clean_html_and_text, html_to_text, plain_text, sanitize_html


def test_sanitize_strips_active_content_and_resolves_links():
    html = ('<p onclick="steal()">Hi <b>there</b></p><script>alert(1)</script><style>p{color:red}</style>'
            '<a href="/next" style="x">next</a><iframe src="https://ads.example/"></iframe>'
            '<a href="javascript:alert(2)">bad</a>')
    out = sanitize_html(html, "https://news.example/feed")
    assert "<script" not in out and "alert(1)" not in out and "color:red" not in out
    assert "onclick" not in out and "iframe" not in out and "javascript:" not in out
    assert 'href="https://news.example/next"' in out and "<b>there</b>" in out


def test_text_keeps_paragraph_breaks_as_blank_lines():
    html = "<h2>Title</h2><p>One  two\nthree.</p><p>Line<br>break &amp; more</p><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(html) == "Title\n\nOne two three.\n\nLine\nbreak & more\n\na\n\nb"


def test_text_drops_script_and_style_bodies():
    assert html_to_text("<p>Keep</p><script>var x = '<p>no</p>';</script><style>.a{}</style>") == "Keep"


def test_plain_text_input_keeps_its_paragraphs():
    assert html_to_text("First  para\nwraps.\n\n  Second &amp; last ") == "First para wraps.\n\nSecond & last"
    assert plain_text("") == ""


def test_empty_and_whitespace_inputs():
    assert sanitize_html("   ") == "" and html_to_text("") == ""


def test_quotes_survive():
    text = html_to_text("<p>“Curly,” he said. \"Straight,\" she said. ‘Single’</p>")
    assert text == "“Curly,” he said. \"Straight,\" she said. ‘Single’"


def test_markup_escaped_twice_is_read_as_html():
    # A JSON Feed's content_html escaped once more than the format asks (humanwhocodes.com does):
    # its text must be the article, not tags, and its links and scripts are sanitised as HTML.
    doubled = ('&lt;p&gt;&lt;a href=&quot;/x&quot;&gt;Supabase&lt;/a&gt; signs tokens.&lt;/p&gt;\n'
               '&lt;h2&gt;Keys&lt;/h2&gt;&lt;script&gt;steal()&lt;/script&gt;&lt;p&gt;"Rotate them," he said.&lt;/p&gt;')
    html, text = clean_html_and_text(doubled, "https://site.example/post/")
    assert text == 'Supabase signs tokens.\n\nKeys\n\n"Rotate them," he said.'
    assert 'href="https://site.example/x"' in html and "steal" not in html
    # Two closed block elements count even when the text does not open with a tag.
    assert html_to_text("Intro &lt;p&gt;one&lt;/p&gt;&lt;p&gt;two&lt;/p&gt;") == "Intro\n\none\n\ntwo"


def test_tags_named_in_passing_stay_text():
    for text in ("How the &lt;dialog&gt; element works", "Use &lt;/p&gt; to close a paragraph",
                 "a &lt; b and c &gt; d", "&lt;3 this update", "&lt;notatag&gt; opens it"):
        assert html_to_text(text) == text.replace("&lt;", "<").replace("&gt;", ">")
