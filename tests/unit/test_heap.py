"""transforms/heap.py: freed batch memory goes back to the OS (glibc), measured on this process."""
import sys

import pytest

from transforms.heap import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_freed_small_blocks_return_to_the_os():
    # Many small objects (below any mmap threshold) live in the heap arenas: freeing them leaves
    # the pages resident until trimmed. 200 MB of them, freed, then released.
    blocks = [bytearray(1000) for _ in range(200_000)]
    keep = blocks[-1]  # one live block at the top: plain top-of-heap trimming cannot give back the rest
    del blocks
    before = _rss_mb()
    assert release_free_memory() is True
    after = _rss_mb()
    assert before - after > 100, (before, after)
    assert keep is not None

