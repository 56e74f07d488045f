import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from transforms.minhash import (band_keys, candidate_probability, estimated_jaccard,
                                lsh_params, shingles, signature, text_signature)

REPO = Path(__file__).resolve().parents[2]


def _sets_with_jaccard(jaccard: float, size: int = 400) -> tuple[set[str], set[str]]:
    """Two shingle sets of equal size whose exact Jaccard is ``jaccard`` (rounded)."""
    shared = round(2 * size * jaccard / (1 + jaccard))
    common = {f"common {i}" for i in range(shared)}
    return (common | {f"left {i}" for i in range(size - shared)},
            common | {f"right {i}" for i in range(size - shared)})


def test_shingles_lowercase_and_drop_punctuation():
    assert shingles("Hello, World! The quick brown -- fox.", k=5) == {
        "hello world the quick brown", "world the quick brown fox"}


def test_text_shorter_than_k_is_one_shingle_and_empty_text_has_none():
    assert shingles("Breaking: news", k=5) == {"breaking news"}
    assert shingles(" ... ", k=5) == set()
    assert text_signature("!!!") is None
    with pytest.raises(ValueError):
        signature(set())


@pytest.mark.parametrize("jaccard", [0.0, 0.2, 0.5, 0.7, 0.9, 1.0])
def test_estimate_tracks_exact_jaccard(jaccard):
    left, right = _sets_with_jaccard(jaccard)
    exact = len(left & right) / len(left | right)
    # 128 permutations: standard error <= 0.045, so 0.15 is > 3 sigma.
    assert abs(estimated_jaccard(signature(left), signature(right)) - exact) <= 0.15


def test_estimates_are_unbiased_and_close_over_many_pairs():
    # Correlated permutations keep the mean right but scatter single pairs,
    # so both the mean and the worst error are checked.
    rng = random.Random(7)
    errors = []
    for trial in range(40):
        words = [f"w{trial}-{rng.randrange(300)}" for _ in range(200)]
        keep = rng.choice([0.3, 0.6, 0.8, 0.95])
        other = [w if rng.random() < keep else f"x{trial}-{i}" for i, w in enumerate(words)]
        a, b = shingles(" ".join(words), 3), shingles(" ".join(other), 3)
        exact = len(a & b) / len(a | b)
        errors.append(estimated_jaccard(signature(a), signature(b)) - exact)
    assert abs(np.mean(errors)) < 0.02
    assert max(map(abs, errors)) <= 0.15


def test_signature_is_stable_across_processes():
    code = ("from transforms.minhash import text_signature;"
            "print(','.join(map(str, text_signature('Markets rallied on Friday after the '"
            "'central bank held rates.', num_perm=16))))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    other = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.strip()
    here = text_signature("Markets rallied on Friday after the central bank held rates.",
                          num_perm=16)
    assert other == ",".join(map(str, here))


def test_band_keys_change_only_where_the_signature_changes():
    sig = text_signature("one two three four five six seven eight nine ten eleven")
    keys = band_keys(sig, bands=16, rows=8)
    assert len(keys) == 16 and all(k.startswith(f"b{i}:") for i, k in enumerate(keys))
    changed = sig.copy()
    changed[8 * 3 + 2] += 1  # a value inside band 3
    changed_keys = band_keys(changed, bands=16, rows=8)
    assert [i for i in range(16) if keys[i] != changed_keys[i]] == [3]
    with pytest.raises(ValueError):
        band_keys(sig, bands=17, rows=8)


@pytest.mark.parametrize("threshold", [0.5, 0.6, 0.7, 0.8, 0.9])
def test_lsh_params_catch_pairs_at_threshold_with_longest_bands(threshold):
    bands, rows = lsh_params(threshold, num_perm=128)
    assert bands * rows <= 128
    assert candidate_probability(threshold, bands, rows) >= 0.9
    assert candidate_probability(threshold, 128 // (rows + 1), rows + 1) < 0.9
    # Far below the threshold candidates are rare.
    assert candidate_probability(threshold - 0.3, bands, rows) < 0.35


def test_bulk_text_signature_equals_signature_of_the_shingle_strings():
    text = "Markets rallied on Friday, after the central bank held rates; markets rallied again."
    for k in (1, 3, 5, 40):
        assert np.array_equal(text_signature(text, k), signature(shingles(text, k)))


def test_distinct_shingles_get_distinct_hashes_and_word_order_matters():
    from transforms.minhash import _shingle_hashes

    words = [f"w{i % 997}" for i in range(20000)]
    hashes = _shingle_hashes(words, 5)
    assert len(np.unique(hashes)) == len(set(zip(*(words[j:] for j in range(5)))))
    assert not np.array_equal(_shingle_hashes(["a", "b"], 2), _shingle_hashes(["b", "a"], 2))
    assert hashes.max() < 2 ** 32
