"""MinHash signatures and LSH band keys over word shingles (pure functions).

Signatures are stable across processes, machines and runs: shingles are hashed
with keyed blake2b (not Python's salted ``hash``) and the permutation
coefficients are derived from blake2b as well (not from a NumPy RNG stream).

LSH S-curve: with ``bands`` bands of ``rows`` rows, two texts with Jaccard
similarity ``s`` share at least one band key with probability

    P(s) = 1 - (1 - s**rows) ** bands,   50 % point ~ (1 / bands) ** (1 / rows)

For 128 permutations:

    bands x rows   50% point   P(0.5)  P(0.6)  P(0.7)  P(0.8)  P(0.9)
    32 x 4         0.42        0.87    0.99    1.00    1.00    1.00
    25 x 5         0.53        0.55    0.87    0.99    1.00    1.00
    21 x 6         0.60        0.28    0.63    0.93    1.00    1.00
    16 x 8         0.71        0.06    0.24    0.61    0.95    1.00
    10 x 12        0.83        0.00    0.02    0.13    0.51    0.96

Candidates are verified afterwards (estimated Jaccard >= threshold), so the
bands only have to catch pairs at the threshold; ``lsh_params`` picks the
longest bands (fewest candidates) that still catch 90 % of pairs AT the threshold:
0.5 -> 42 x 3, 0.6 -> 32 x 4, 0.7 -> 21 x 6, 0.8 -> 16 x 8, 0.9 -> 9 x 14.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

import numpy as np

DEFAULT_SHINGLE_WORDS = 5
DEFAULT_NUM_PERM = 128

# Largest prime below 2**32. Shingle hashes and coefficients are < 2**32, so
# a * x + b < 2**64 never overflows uint64, and the line a * x + b wraps around
# the prime about ``a`` times (a prime near 2**61 would hardly wrap, leaving all
# permutations close to the order of x and the estimates badly correlated).
_PRIME = np.uint64(4294967291)
_WORD = re.compile(r"\w+")
_SHINGLE_KEY = b"newsbeam-shingle"


def _words(text: str) -> list[str]:
    """Lowercased words with punctuation stripped (NFKC folds look-alike characters)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, k: int = DEFAULT_SHINGLE_WORDS) -> set[str]:
    """Set of k-word shingles; a text shorter than k words is one shingle."""
    words = _words(text)
    if not words:
        return set()
    if len(words) <= k:
        return {" ".join(words)}
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _hash32(value: bytes, key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(value, digest_size=4, key=key).digest(), "little")


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (a, b) of the universal hashes (a * x + b) mod p, one per permutation."""
    a = [_hash32(f"a{i}".encode(), b"newsbeam-perm") % int(_PRIME) or 1 for i in range(num_perm)]
    b = [_hash32(f"b{i}".encode(), b"newsbeam-perm") % int(_PRIME) for i in range(num_perm)]
    return (np.array(a, dtype=np.uint64).reshape(-1, 1),
            np.array(b, dtype=np.uint64).reshape(-1, 1))


def signature(shingle_set: set[str], num_perm: int = DEFAULT_NUM_PERM) -> np.ndarray:
    """MinHash signature (uint32, length num_perm) of a non-empty shingle set.

    uint32 (values are below the prime) halves what LSH buckets shuffle.
    """
    if not shingle_set:
        raise ValueError("cannot build a MinHash signature from an empty shingle set")
    x = np.fromiter((_hash32(s.encode("utf-8"), _SHINGLE_KEY) for s in shingle_set),
                    dtype=np.uint64, count=len(shingle_set))
    a, b = _permutations(num_perm)
    return ((a * x + b) % _PRIME).min(axis=1).astype(np.uint32)


def text_signature(text: str, k: int = DEFAULT_SHINGLE_WORDS,
                   num_perm: int = DEFAULT_NUM_PERM) -> np.ndarray | None:
    """Signature of a text, or None when it has no words."""
    shingle_set = shingles(text, k)
    return signature(shingle_set, num_perm) if shingle_set else None


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[str]:
    """One LSH key per band, e.g. ``"b3:ab12..."``; equal keys = equal band rows."""
    if bands * rows > len(sig):
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, "
                         f"signature has {len(sig)}")
    # Fixed little-endian bytes so keys match across machines.
    little = sig[:bands * rows].astype("<u4").reshape(bands, rows)
    return [f"b{i}:{hashlib.blake2b(band.tobytes(), digest_size=8).hexdigest()}"
            for i, band in enumerate(little)]


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal signature positions (unbiased Jaccard estimate)."""
    if len(sig_a) != len(sig_b):
        raise ValueError("signatures of different lengths")
    return float(np.mean(sig_a == sig_b))


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two texts of this Jaccard similarity share a band key."""
    return 1.0 - (1.0 - similarity ** rows) ** bands


def lsh_params(threshold: float, num_perm: int = DEFAULT_NUM_PERM,
               catch_at_threshold: float = 0.9) -> tuple[int, int]:
    """(bands, rows) with the most rows per band that still catches
    ``catch_at_threshold`` of pairs whose similarity equals ``threshold``."""
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= catch_at_threshold:
            best = (bands, rows)
    return best
