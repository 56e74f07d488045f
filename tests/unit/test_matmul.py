"""transforms/matmul.py: numpy's BLAS only where BLIS has no kernels for the CPU, and the same
parse either way."""
from pathlib import Path

import pytest
import spacy
from thinc.api import NumpyOps
from threadpoolctl import threadpool_info

from transforms.matmul import GENERIC, blis_kernels, numpy_is_faster, use_numpy_matmul
from transforms.nlp import DEFAULT_MODEL

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_146a92e843f25df6.txt"
TEXTS = [
    "WASHINGTON (Reuters) - President Joe Biden said on Friday the first 100 days were over.",
    '"We will not back down," Prime Minister Mark Carney told reporters in Ottawa, adding that '
    "Canada would answer every tariff.\n\nThe ministry said it had no comment.",
    "Toyota and Honda reported on 12 May 2024 that exports to Germany, France and Canada rose 7 percent.",
]


def _models(nlp):
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            yield from model.walk()


def _parse(nlp, texts):
    return [[(t.text, t.tag_, t.dep_, t.head.i, t.ent_iob_, t.ent_type_) for t in doc]
            for doc in nlp.pipe(texts)]


def test_blis_reports_its_kernels():
    # The pinned blis (constraints.txt) exports its kernel query: a name such as "haswell",
    # "zen3" or "generic", never None here.
    kernels = blis_kernels()
    assert kernels is not None and kernels.isidentifier() and kernels == kernels.lower()


@pytest.mark.parametrize("kernels, expected", [(GENERIC, True), ("haswell", False), ("zen3", False),
                                               ("skx", False), (None, False)])
def test_numpy_only_where_blis_runs_without_simd(kernels, expected):
    assert numpy_is_faster(kernels) is expected


def test_kernels_for_the_cpu_leave_spacy_as_shipped():
    nlp = spacy.load(DEFAULT_MODEL)
    assert use_numpy_matmul(nlp, kernels="zen3") is False
    assert all(getattr(node.ops, "use_blis", True) for node in _models(nlp))


def test_generic_kernels_move_every_model_to_numpy_with_one_blas_thread():
    nlp = spacy.load(DEFAULT_MODEL)
    nlp.disable_pipe("ner")  # disabled components' models move too (greedy_ner runs the NER's)
    assert use_numpy_matmul(nlp, kernels=GENERIC) is True
    nodes = list(_models(nlp))
    assert nodes and all(isinstance(n.ops, NumpyOps) and n.ops.use_blis is False for n in nodes)
    assert any(n.name.startswith("hashembed") for n in nodes)  # reached the embedding tables
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)


def test_the_same_parse_and_entities_through_either_blas():
    texts = TEXTS + ([SEED.read_text(encoding="utf-8")] if SEED.exists() else [])
    shipped = spacy.load(DEFAULT_MODEL)
    moved = spacy.load(DEFAULT_MODEL)
    use_numpy_matmul(moved, kernels=GENERIC)
    assert all(n.ops.use_blis is False for n in _models(moved))
    assert _parse(moved, texts) == _parse(shipped, texts)
