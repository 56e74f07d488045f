"""MinHash signatures and LSH band keys over word shingles (pure functions).

Signatures are stable across processes, machines and runs: words are hashed
with keyed blake2b (not Python's salted ``hash``), a shingle's hash is a fixed
polynomial over its words' hashes (computed for all windows at once with NumPy),
and the permutation coefficients are derived from blake2b as well (not from a
NumPy RNG stream).

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
import zlib
from functools import lru_cache

import numpy as np

DEFAULT_SHINGLE_WORDS = 5
DEFAULT_NUM_PERM = 128

# Permutations are multiply-add-shift hashes h(x) = ((a * x + b) mod 2**64) >> 32 of the
# 32-bit shingle hashes x, with 64-bit a (odd) and b: a strongly universal family
# (Dietzfelbinger 1996) whose "mod 2**64" is NumPy's wrapping uint64 arithmetic, so no
# division is needed (a modulo by a prime was half the cost of a signature).
_SHIFT = np.uint64(32)
_WORD = re.compile(r"\w+")


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


def _hash64(value: bytes, key: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(value, digest_size=8, key=key).digest(), "little")


_ROLL = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial over a shingle's words


def _word_hashes(words: list[str]) -> np.ndarray:
    """One 32-bit hash per word (a text repeats its words, so each is hashed once). CRC-32 is
    not a good hash on its own, but only has to tell words apart: ``_mix`` does the mixing."""
    table = {w: zlib.crc32(w.encode("utf-8")) for w in set(words)}
    return np.fromiter((table[w] for w in words), dtype=np.uint64, count=len(words))


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser folded to 32 bits: the x of the permutations below 2**32."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(32)) ^ (h & np.uint64(0xFFFFFFFF))


def _shingle_hashes(words: list[str], k: int) -> np.ndarray:
    """Hash of every k-word window (one window of all words when shorter), computed in bulk:
    a polynomial over the word hashes, so no shingle string is built (the hot path of MinHash)."""
    w = _word_hashes(words)
    n = max(1, len(words) - k + 1)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(min(k, len(words))):  # Horner over the window: uint64 arithmetic wraps, as intended
        h = h * _ROLL + w[j:j + n]
    return _mix(h)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (a, b) of the hashes ((a * x + b) mod 2**64) >> 32, one per permutation."""
    a = [_hash64(f"a{i}".encode(), b"newsbeam-perm") | 1 for i in range(num_perm)]
    b = [_hash64(f"b{i}".encode(), b"newsbeam-perm") for i in range(num_perm)]
    return (np.array(a, dtype=np.uint64).reshape(-1, 1),
            np.array(b, dtype=np.uint64).reshape(-1, 1))


def _min_hashes(x: np.ndarray, num_perm: int) -> np.ndarray:
    a, b = _permutations(num_perm)
    return ((a * np.unique(x) + b) >> _SHIFT).min(axis=1).astype(np.uint32)


def signature(shingle_set: set[str], num_perm: int = DEFAULT_NUM_PERM) -> np.ndarray:
    """MinHash signature (uint32, length num_perm) of a non-empty shingle set.

    A shingle is hashed from its space-separated words exactly as ``text_signature`` hashes
    them, so ``signature(shingles(t)) == text_signature(t)``. uint32 (the permutations'
    top 32 bits) halves what LSH buckets shuffle.
    """
    if not shingle_set:
        raise ValueError("cannot build a MinHash signature from an empty shingle set")
    x = np.concatenate([_shingle_hashes(words, len(words))
                        for words in (s.split(" ") for s in shingle_set)])
    return _min_hashes(x, num_perm)


def text_signature(text: str, k: int = DEFAULT_SHINGLE_WORDS,
                   num_perm: int = DEFAULT_NUM_PERM) -> np.ndarray | None:
    """Signature of a text's k-word shingles, or None when it has no words."""
    words = _words(text)
    return _min_hashes(_shingle_hashes(words, k), num_perm) if words else None


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
