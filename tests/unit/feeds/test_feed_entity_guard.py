import tracemalloc

from connectors.feeds.entity_guard import strip_unsafe_doctype
from connectors.feeds.xml_parser import parse_xml_feed


def lol_bomb() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">' for n in range(1, 10)]
    return ('<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + ']>'
            '<rss version="2.0"><channel><title>x</title><item><title>&lol9;</title>'
            '<guid isPermaLink="false">1</guid></item></channel></rss>').encode()


def quadratic_blowup() -> bytes:
    big, refs = "a" * 50_000, "&a;" * 5_000  # 250 MB if expanded
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{big}">]>'
            '<rss version="2.0"><channel><title>x</title><item><title>t</title>'
            f"<description>{refs}</description></item></channel></rss>").encode()


def test_recursive_entities_are_removed_on_one_line_too():
    cleaned, note = strip_unsafe_doctype(lol_bomb())
    assert b"lol1" not in cleaned.split(b"<rss", 1)[0] and "unsafe" in note


def test_literal_entities_and_plain_dtds_are_kept():
    safe = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY brand "Sample">]><rss/>'
    assert strip_unsafe_doctype(safe) == (safe, None)
    dtd = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://x/rss-0.91.dtd"><rss/>'
    assert strip_unsafe_doctype(dtd) == (dtd, None)


def test_external_entities_are_removed():
    doc = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>'
    cleaned, note = strip_unsafe_doctype(doc)
    assert b"passwd" not in cleaned and note


def test_doctype_after_first_element_is_not_touched():
    doc = b'<rss><description>&lt;!DOCTYPE x [&lt;!ENTITY a "b"&gt;]&gt;</description></rss>'
    assert strip_unsafe_doctype(doc) == (doc, None)


def test_bombs_parse_with_bounded_memory():
    for bomb in (lol_bomb(), quadratic_blowup()):
        tracemalloc.start()
        try:
            parsed = parse_xml_feed(bomb, {"content-type": "application/rss+xml"})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(parsed.entries) == 1 and parsed.error
        assert peak < 30_000_000, peak
        assert len(parsed.entries[0].summary_html) < 1_000_000


def test_utf16_documents_are_guarded_too():
    cleaned = parse_xml_feed(lol_bomb().decode().replace('version="1.0"', 'version="1.0" encoding="utf-16"')
                             .encode("utf-16"), {})
    assert cleaned.error and "unsafe entity" in cleaned.error
