from connectors.feeds.sanitizer import html_to_text, plain_text, sanitize_html


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
