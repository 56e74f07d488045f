import pytest

from transforms import nlp


def test_preload_then_load_gives_the_one_loaded_pipeline():
    thread = nlp.preload_nlp(nlp.DEFAULT_MODEL)
    first = nlp.load_nlp(nlp.DEFAULT_MODEL)  # waits for the preload instead of loading again
    thread.join()
    assert nlp.load_nlp(nlp.DEFAULT_MODEL) is first
    assert nlp.PARAGRAPH_BREAKS in first.pipe_names and "lemmatizer" not in first.pipe_names


def test_a_failed_preload_is_silent_and_the_real_load_reports_it():
    nlp.preload_nlp("no_such_spacy_model").join()
    with pytest.raises(OSError):
        nlp.load_nlp("no_such_spacy_model")
