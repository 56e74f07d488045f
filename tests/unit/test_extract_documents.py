"""extract_documents (what `newsbeam extract` runs): batches end at batch_size or batch_chars."""
from __future__ import annotations

from transforms.extract import extract_documents
from transforms.nlp import load_nlp

TEXT = "\u201cThe bridge will reopen next week,\u201d Mayor Anna Holt said on Tuesday."


class _RecordingNlp:
    """The real model; remembers the texts of every nlp.pipe batch."""

    def __init__(self):
        self._nlp = load_nlp()
        self.batches: list[list[int]] = []

    def pipe(self, stream, batch_size):
        texts = list(stream)
        for start in range(0, len(texts), batch_size):
            self.batches.append([len(text) for text in texts[start:start + batch_size]])
        return self._nlp.pipe(texts, batch_size=batch_size)


def _docs(n: int):
    return [(f"d{i}", TEXT, "2025-01-28") for i in range(n)]


def test_batches_end_before_batch_chars_and_every_document_comes_out():
    nlp = _RecordingNlp()
    results = list(extract_documents(_docs(7), nlp=nlp, batch_size=64, batch_chars=3 * len(TEXT)))
    assert [r.id for r in results] == [f"d{i}" for i in range(7)]
    assert [len(b) for b in nlp.batches] == [3, 3, 1]
    assert all(r.quotes[0].speaker_name == "Anna Holt" for r in results)


def test_without_batch_chars_only_the_count_bounds_a_batch():
    nlp = _RecordingNlp()
    results = list(extract_documents(_docs(7), nlp=nlp, batch_size=4))
    assert len(results) == 7
    assert [len(b) for b in nlp.batches] == [4, 3]


# Texts whose attributions go through every model: a partial quote the quote model keeps, reported
# speech the reported-speech model adds, and speakers the ranker weighs (a description, a pronoun,
# a statement inside another's).
MIXED = [
    'Opposition leader Kemi Badenoch called the attack "cowardly". The minister disagreed.',
    "Christie endorsed Trump on Friday, and polls show that voters are tired of the race.",
    "The mayor defended the police unit on Monday.\n\nHalvorsen said the move was made by the police "
    "commissioner and said, \u201cWho are you going to trust on security?\u201d",
    "Trump said Obama wants to admit 250,000 Syrians. \u201cThey are mostly men,\u201d he added.",
    "",
]


def test_a_batch_gives_what_each_document_gives_alone():
    # The models score a whole batch in one call each (ExtractionModels.apply_batch): every
    # document's rows must come back to that document.
    from transforms.extract import extract_doc, extract_docs

    nlp = load_nlp()
    docs = list(nlp.pipe(MIXED))
    alone = [extract_doc(f"d{i}", doc, "2025-01-28", text=text).to_json()
             for i, (doc, text) in enumerate(zip(docs, MIXED))]
    batch = [r.to_json() for r in extract_docs([(f"d{i}", doc, "2025-01-28", text)
                                                for i, (doc, text) in enumerate(zip(docs, MIXED))])]
    assert batch == alone
    assert sum(len(r["quotes"]) for r in alone) >= 5
    # and in another order, the documents still get their own rows
    reordered = [r.to_json() for r in extract_docs([(f"d{i}", docs[i], "2025-01-28", MIXED[i])
                                                    for i in reversed(range(len(MIXED)))])]
    assert reordered == alone[::-1]
