"""spaCy's NER decoding, step by step over a whole batch in numpy: the same entities, less CPU.

spaCy's ``EntityRecognizer`` scores one state at a time in compiled code whose state accessors,
as built in spaCy 3.8, take and release the GIL on every call (``perf``: a third of the NER's
CPU in ``pthread_mutex_lock``/``unlock`` under ``StateC::B``, tens of calls per token). NER was
42 % of the pipeline's CPU on BBC, about two thirds of it that decoding (bench/RESULTS.md,
issue 21).

Here the same model runs the same greedy BILUO decoding, vectorised over the batch: at step s
every unfinished document looks at its token s (each NER transition consumes one token), the
precomputed features of the model's lower layer are summed in spaCy's order, maxout, the
upper layer through the same BLIS ``sgemm`` spaCy calls, then the first best valid action per
document, with spaCy's validity rules (``spacy/pipeline/_parser_internals/ner.pyx``: no entity
across a sentence start, none starting on whitespace, labels of an open entity). The entities
are the ones spaCy's decoder gives, token for token (tests/unit/test_greedy_ner.py; the 2,225
BBC articles in bench/RESULTS.md).

Only what this decoder reproduces is handed to it: greedy decoding (``beam_width`` 1), a
maxout lower layer over 3 features, an upper layer, no unseen classes, and documents without
preset entities (a doc with any ``ent_iob`` set goes through spaCy's own ``pipe``).
``GreedyNer.supports`` says whether a loaded NER qualifies; ``transforms/nlp.py`` swaps it in.
"""
from __future__ import annotations

import numpy

BEGIN, IN, LAST, UNIT, OUT = range(5)
_KINDS = {"B": BEGIN, "I": IN, "L": LAST, "U": UNIT, "O": OUT}
COMPONENT = "newsbeam_greedy_ner"


def supports(ner) -> bool:
    """Whether ``ner`` (a loaded spaCy EntityRecognizer) decodes as this module does."""
    try:
        model = ner.model
        lower, upper = model.get_ref("lower"), model.get_ref("upper")
        names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
    except Exception:  # noqa: BLE001 - another architecture: keep spaCy's
        return False
    listens = any(layer.name == "tok2vec-listener" for layer in model.get_ref("tok2vec").walk())
    return (type(ner).__name__ == "EntityRecognizer" and ner.cfg.get("beam_width", 1) == 1
            and model.attrs.get("has_upper") and not model.attrs.get("unseen_classes")
            and lower.get_dim("nF") == 3 and lower.get_dim("nP") >= 2 and not listens
            and upper.get_dim("nO") == len(names)
            and all(n == "O" or (n[:1] in _KINDS and n[1:2] == "-") for n in names))


class GreedyNer:
    """spaCy component: sets ``doc.ents`` as ``ner`` would, decoding in numpy."""

    def __init__(self, ner):
        from blis.py import gemm

        self.ner = ner
        self._gemm = gemm
        model = ner.model
        self._tok2vec = model.get_ref("tok2vec")
        self._lower = model.get_ref("lower")
        upper = model.get_ref("upper")
        self._w = numpy.ascontiguousarray(upper.get_param("W"), dtype="f")   # (classes, hidden)
        self._b = numpy.ascontiguousarray(upper.get_param("b"), dtype="f")
        self._feat_bias = numpy.ascontiguousarray(self._lower.get_param("b"), dtype="f")  # (hidden, pieces)
        kinds, labels = [], []
        strings = ner.vocab.strings
        for i in range(ner.moves.n_moves):
            name = ner.moves.get_class_name(i)
            kinds.append(_KINDS[name[0]])
            labels.append(strings.add(name[2:]) if name != "O" and name[2:] else 0)
        self._kind = numpy.array(kinds)
        self._label = numpy.array(labels, dtype=numpy.uint64)
        self._valid_table, self._label_row = valid_table(self._kind, self._label)

    def __call__(self, doc):
        self._annotate([doc])
        return doc

    def pipe(self, docs, batch_size: int = 128):
        from spacy.util import minibatch

        for batch in minibatch(docs, size=batch_size):
            self._annotate(batch)
            yield from batch

    # ------------------------------------------------------------------ decoding
    def _annotate(self, docs: list) -> None:
        from spacy.attrs import ENT_IOB

        todo, preset = [], []
        for doc in docs:
            if len(doc):  # an empty doc has nothing to decode (spaCy's NER leaves it as is)
                (preset if doc.to_array(ENT_IOB).any() else todo).append(doc)
        if preset:  # preset entities constrain the decoder in ways this module does not copy
            list(self.ner.pipe(preset, batch_size=len(preset)))
        if todo:
            for doc, ents in zip(todo, self.decode(todo)):
                doc.set_ents([_span(doc, s, e, label) for s, e, label in ents], default="outside")

    def decode(self, docs: list) -> list[list[tuple[int, int, int]]]:
        """Greedy BILUO decoding of non-empty ``docs`` -> [(start, end, label hash), ...] per doc."""
        from spacy.attrs import IS_SPACE, SENT_START

        lengths = numpy.array([len(d) for d in docs])
        offsets = numpy.concatenate(([0], numpy.cumsum(lengths)[:-1]))
        tokvecs = self._tok2vec.predict(docs)
        cached = self._lower.predict(tokvecs)  # (tokens + 1, 3, hidden, pieces); row 0 = padding
        arrays = [d.to_array([IS_SPACE, SENT_START]) for d in docs]
        space = numpy.concatenate([a[:, 0] for a in arrays]).astype(bool)
        starts = numpy.concatenate([a[:, 1] for a in arrays]).astype(numpy.int64) == 1
        total = int(lengths.sum())
        # The token after each one starts a sentence (False past a doc's end: spaCy's empty token).
        next_starts = numpy.zeros(total, dtype=bool)
        next_starts[:-1] = starts[1:]
        next_starts[offsets + lengths - 1] = False

        n = len(docs)
        open_ = numpy.zeros(n, dtype=bool)
        open_class = numpy.zeros(n, dtype=numpy.int64)   # the B- class that opened the entity
        open_start = numpy.zeros(n, dtype=numpy.int64)
        ents: list[list[tuple[int, int, int]]] = [[] for _ in docs]
        kind, label = self._kind, self._label
        table, label_row = self._valid_table, self._label_row
        w, b, feat_bias = self._w, self._b, self._feat_bias
        pieces = feat_bias.shape[-1]
        active = numpy.arange(n)
        for step in range(int(lengths.max())):
            active = active[lengths[active] > step]
            tok = offsets[active] + step                      # B(0), in the batch's token ids
            is_open = open_[active]
            ent_tok = numpy.where(is_open, offsets[active] + open_start[active], -1)   # E(0)
            prev_tok = numpy.where(is_open, tok - 1, -1)      # B(0) - 1 inside an entity
            # sum_state_features: padding row for -1, then + bias, in spaCy's order.
            summed = cached[tok + 1, 0] + cached[ent_tok + 1, 1] + cached[prev_tok + 1, 2]
            summed += feat_bias
            hidden = summed[..., 0]                           # maxout over the pieces
            for piece in range(1, pieces):
                hidden = numpy.maximum(hidden, summed[..., piece])
            scores = self._gemm(numpy.ascontiguousarray(hidden), w, trans2=True)
            scores += b
            # Validity (ner.pyx, no preset entities), from the state's open label, whether B(0)
            # is the doc's last token, whether the next one starts a sentence, whether B(0) is space.
            row = (numpy.where(is_open, label_row[open_class[active]], 0) * 8
                   + ((lengths[active] - 1) == step) * 4 + next_starts[tok] * 2 + space[tok])
            scores[~table[row]] = -numpy.inf
            chosen = scores.argmax(axis=1)
            moves = kind[chosen]
            for i in numpy.flatnonzero(moves != OUT).tolist():
                doc_i, move = int(active[i]), int(moves[i])
                if move == BEGIN:
                    open_[doc_i], open_class[doc_i], open_start[doc_i] = True, chosen[i], step
                elif move == LAST:
                    ents[doc_i].append((int(open_start[doc_i]), step + 1, int(label[open_class[doc_i]])))
                    open_[doc_i] = False
                elif move == UNIT:
                    ents[doc_i].append((step, step + 1, int(label[chosen[i]])))
        return ents


def valid_table(kind: numpy.ndarray, label: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Which classes are valid in each kind of state, as spaCy's BiluoPushDown decides without
    preset entities (ner.pyx ``is_valid``). A state's row: ``open_label_row * 8 + last * 4 +
    next_starts_sentence * 2 + on_space``, open_label_row 0 when no entity is open, else 1 + the
    index of the open entity's label. Returns (table, class -> open_label_row of its label)."""
    labels = sorted({int(x) for x in label if x})
    row_of = {lab: 1 + i for i, lab in enumerate(labels)}
    label_row = numpy.array([row_of.get(int(x), 0) for x in label])
    table = numpy.zeros(((1 + len(labels)) * 8, len(kind)), dtype=bool)
    labelled = label != 0
    for open_row in range(1 + len(labels)):
        is_open = open_row > 0
        same = label_row == open_row
        for last in (0, 1):
            for nxt in (0, 1):
                for space in (0, 1):
                    table[open_row * 8 + last * 4 + nxt * 2 + space] = (
                        (kind == BEGIN) & labelled & (not is_open) & (not last) & (not nxt) & (not space)
                        | (kind == IN) & labelled & is_open & same & (not last) & (not nxt)
                        | (kind == LAST) & labelled & is_open & same
                        | (kind == UNIT) & labelled & (not is_open) & (not space)
                        | (kind == OUT) & (not is_open))
    return table, label_row


def _span(doc, start: int, end: int, label: int):
    from spacy.tokens import Span

    return Span(doc, start, end, label=label)
