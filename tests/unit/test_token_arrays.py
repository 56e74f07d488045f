"""The shared sorted-id lookup: the ids Doc.to_array gives, symbols included."""
import numpy
from spacy.vocab import Vocab

from transforms.token_arrays import form_hashes, in_sorted


def test_form_ids_are_the_ids_the_vocab_gives_symbols_and_words_alike():
    strings = Vocab().strings
    forms = frozenset({"nsubj", "prep", "said", "head"})  # the first two are spaCy symbols, not hashes
    assert form_hashes(forms).tolist() == sorted(strings.add(f) for f in forms)


def test_in_sorted_is_isin():
    values = form_hashes(frozenset({"a", "b", "c"}))
    column = numpy.array([values[1], 7, values[0], values[2], 0], dtype=numpy.uint64)
    assert in_sorted(values, column).tolist() == numpy.isin(column, values).tolist() == [True, False, True, True, False]
    assert in_sorted(values[:0], column).tolist() == [False] * 5


def test_token_arrays_are_the_tokens_attributes():
    """Every column answers as the Token attribute would, sentences included."""
    from transforms.nlp import load_nlp
    from transforms.token_arrays import token_arrays

    doc = load_nlp()("The minister spoke. \"We will act,\" she said.\n\nMarkets fell on Monday.")
    arrays = token_arrays(doc)
    sentences = list(doc.sents)
    assert len(sentences) >= 3
    for token in doc:
        i = token.i
        assert (arrays.pos[i], arrays.dep[i], arrays.lower[i], arrays.head[i]) == (token.pos, token.dep, token.lower,
                                                                                    token.head.i)
        assert (arrays.sent_start[i], arrays.sent_end[i]) == (token.sent.start, token.sent.end)
        assert sentences[arrays.sent_no[i]].start == token.sent.start
        assert arrays.word(i) == token.lower_
