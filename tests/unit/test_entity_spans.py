"""The span helpers of transforms/entities.py and leaders.py answer as the spaCy objects they replace."""
from transforms.entities import NAME_PARTICLES, TITLE_WORDS, _chars, _ids, _root, _text_of
from transforms.leaders import ARTICLE_ROLES, _match_role
from transforms.nlp import load_nlp

TEXT = ("The head of the IMF, Kristalina Georgieva, warned on Tuesday that Ursula von der Leyen and "
        "Iran's Supreme Leader Ali Khamenei disagree. \"We will not,\" said the foreign minister of "
        "Brazil, Mauro Vieira.\n\nPrime Minister Sheikh Hasina - a former leader - spoke in Dhaka.")


def test_root_and_text_are_the_spans():
    doc = load_nlp()(TEXT)
    for start in range(len(doc)):
        for end in range(start + 1, min(len(doc), start + 6) + 1):
            span = doc[start:end]
            assert _root(doc, start, end) == span.root.i, span
            assert _chars(doc, start, end) == (span.start_char, span.end_char), span
            assert _text_of(doc, TEXT, start, end) == span.text, span


def test_word_ids_answer_as_the_words():
    words = NAME_PARTICLES | TITLE_WORDS | {"'s", "\u2019s"}
    doc = load_nlp()(" ".join(sorted(words)) + " " + TEXT + " Gen. Sen. Dr. Mr. Van De La 'S \u2019S")
    ids = _ids(words)
    assert all((t.lower in ids) == (t.lower_ in words) for t in doc)
    assert sum(t.lower in ids for t in doc) > len(words) / 2
    assert all(load_nlp().vocab[word].lower in ids for word in words)


def _match_role_in_full(words):
    for n in range(min(5, len(words)), 0, -1):
        candidate = " ".join(words[-n:])
        if candidate in ARTICLE_ROLES:
            return candidate, n
    return None


def test_match_role_first_test_keeps_every_match():
    phrases = [[], ["the"], ["iran", "'s", "supreme", "leader"], ["secretary-general"], ["deputy", "prime", "minister"],
               ["chief", "of", "staff"], ["foo", "prime minister"], ["vice", "president"], ["the", "company"]]
    phrases += [role.split() for role in ARTICLE_ROLES] + [["the"] + role.split() + ["x"] for role in ARTICLE_ROLES]
    for words in phrases:
        assert _match_role(words) == _match_role_in_full(words), words
