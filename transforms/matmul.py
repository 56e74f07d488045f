"""Which BLAS runs the models' matrix products: BLIS as spaCy ships it, or numpy's own.

thinc multiplies through BLIS, which picks its kernels by the CPU it recognises at start. On a
CPU it does not know it falls back to its ``generic`` kernels, which use no SIMD: on this
project's benchmark VM (AMD EPYC, family 25 model 17, AVX2/AVX-512; blis 1.3.4) a tok2vec-sized
product took ~4x the CPU of numpy's OpenBLAS, and the whole parse ~1.5x (bench/RESULTS.md,
issue 21). OpenBLAS dispatches on CPU features at run time, so it has no such gap.

So, when BLIS reports its generic kernels, every thinc model of a loaded pipeline does its
``gemm`` through numpy instead (thinc's own ``NumpyOps(use_blis=False)``), with numpy's BLAS held
to one thread: Beam runs one worker per core, and BLAS threads would only fight over them. The
same weights and the same arithmetic in another order: parses and entities were identical on the
texts checked (bench/RESULTS.md). Where BLIS has kernels for the CPU nothing changes. spaCy's own
compiled steps that call BLIS directly (the parser's per-state layer, transforms/greedy_ner.py's
upper layer) keep it: they are small products.
"""
from __future__ import annotations

import ctypes
import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

GENERIC = "generic"


@functools.lru_cache(maxsize=1)
def blis_kernels() -> str | None:
    """BLIS's kernel set on this CPU (``haswell``, ``zen3``, ``skx``, ``generic``...), or None
    when it cannot be asked (another build of blis)."""
    try:
        import blis.cy

        lib = ctypes.CDLL(blis.cy.__file__)
        lib.bli_arch_query_id.restype = ctypes.c_int
        lib.bli_arch_string.argtypes = [ctypes.c_int]
        lib.bli_arch_string.restype = ctypes.c_char_p
        return lib.bli_arch_string(lib.bli_arch_query_id()).decode("ascii")
    except (ImportError, OSError, AttributeError):
        return None


def numpy_is_faster(kernels: str | None) -> bool:
    """Whether the models should multiply through numpy: only where BLIS runs without SIMD."""
    return kernels == GENERIC


def _one_blas_thread() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # not as a context: for the process's life


def use_numpy_matmul(nlp: Language, kernels: str | None = None) -> bool:
    """Move every thinc model of ``nlp`` (disabled components too) to numpy's matrix products
    when BLIS runs its generic kernels (``kernels``: what ``blis_kernels`` says, by default).
    True if moved."""
    if not numpy_is_faster(kernels if kernels is not None else blis_kernels()):
        return False
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    _one_blas_thread()
    for _, component in nlp.components:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            node.ops = ops
    return True
