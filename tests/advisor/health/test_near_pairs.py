"""The vectorised phash pair search against a brute-force loop over ``hamming``."""

from __future__ import annotations

import time

import numpy as np
import pytest

from advisor.data import hamming
from advisor.health._data import pairwise_within


def random_hashes(n: int, seed: int, planted: int) -> np.ndarray:
    """``n`` random 64-bit hashes, ``planted`` of them copies of others with 0..5 bits flipped."""
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, size=n, dtype=np.uint64)
    for k in range(planted):
        src, dst = rng.choice(n, size=2, replace=False)
        flip = 0
        for b in rng.choice(64, size=int(rng.integers(0, 6)), replace=False):
            flip |= 1 << int(b)
        h[dst] = h[src] ^ np.uint64(flip)
    return h


@pytest.mark.parametrize("block", [7, 64, 1024])
def test_matches_brute_force(block: int) -> None:
    h = random_hashes(300, seed=block, planted=40)
    hex_ = [f"{int(x):016x}" for x in h]
    want = {(i, j, hamming(hex_[i], hex_[j])) for i in range(len(h)) for j in range(i + 1, len(h))
            if hamming(hex_[i], hex_[j]) <= 4}
    i, j, d = pairwise_within(h, 4, block=block)
    got = set(zip(i.tolist(), j.tolist(), d.tolist()))
    assert got == want and len(got) >= 20  # planted pairs with <= 4 flipped bits are found


def test_block_shrinks_to_bound_memory_and_finds_the_same_pairs(monkeypatch) -> None:
    from advisor.health import _data

    h = random_hashes(300, seed=5, planted=40)
    want = [a.tolist() for a in pairwise_within(h, 4)]
    monkeypatch.setattr(_data, "MAX_PAIR_CELLS", 300 * 3)  # 3 rows per block
    assert [a.tolist() for a in pairwise_within(h, 4)] == want


def test_edge_sizes() -> None:
    assert all(len(a) == 0 for a in pairwise_within(np.zeros(0, dtype=np.uint64), 4))
    assert all(len(a) == 0 for a in pairwise_within(np.array([5], dtype=np.uint64), 64))
    i, j, d = pairwise_within(np.array([2**64 - 1, 0, 2**64 - 1], dtype=np.uint64), 0)
    assert (i.tolist(), j.tolist(), d.tolist()) == ([0], [2], [0])


def test_tf_flowers_sized_search_is_fast() -> None:
    h = random_hashes(3119, seed=1, planted=50)
    pairwise_within(h, 4)  # warm-up
    t0 = time.perf_counter()
    pairwise_within(h, 4)
    assert time.perf_counter() - t0 < 1.0  # measured ~0.05 s on 2 busy cores
