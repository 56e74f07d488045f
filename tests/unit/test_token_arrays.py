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
