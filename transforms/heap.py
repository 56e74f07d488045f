"""Give a batch's freed memory back to the OS, so a worker's peak follows its heaviest batch, not
how many batches it has run.

spaCy allocates a batch's arrays (tok2vec output, the NER's precomputed features: MBs each) and
frees them after the batch. glibc's malloc raises its mmap threshold to the size of each large
block freed (up to 32 MB), so from the first batches on such arrays come from the heap arenas
instead of their own mappings, and free heap pages stay resident; a Beam SDK worker runs the
bundle on another thread than the one that loaded the model, so a second arena fills the same
way. Resident memory then creeps up batch after batch (bench/RESULTS.md, issue 21).
``malloc_trim(0)`` after a batch returns every free page of every arena (glibc >= 2.8); a few
ms per batch of seconds. Anywhere else (musl, macOS) this module does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        return libc
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


def release_free_memory() -> bool:
    """Return the process's free heap pages to the OS. True if glibc released any."""
    libc = _libc()
    return bool(libc.malloc_trim(0)) if libc is not None else False
