"""benchmarks/shift_probe.py: the probe sees a test split drawn apart from train + val."""

from __future__ import annotations

import importlib.util

import numpy as np

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("shift_probe", REPO / "benchmarks" / "shift_probe.py")
probe_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe_mod)


def blobs(n: int, rng: np.random.Generator, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes 3 apart on the first axis; ``shift`` moves class 0 towards class 1."""
    y = np.arange(n) % 2
    x = rng.normal(size=(n, 8))
    x[:, 0] += np.where(y == 1, 3.0, shift)
    return x, y


def test_gap_is_small_without_shift_and_large_with_it() -> None:
    rng = np.random.default_rng(0)
    x, y = blobs(200, rng)
    same = probe_mod.probe(x, y, *blobs(200, rng), seed=0, folds=5)
    moved = probe_mod.probe(x, y, *blobs(200, rng, shift=2.5), seed=0, folds=5)
    assert same["C"] in probe_mod.C_GRID and 0.85 < same["cv_accuracy"] <= 1.0
    assert abs(same["gap_points"]) < 5
    assert moved["gap_points"] > 15 and moved["test_accuracy"] < same["test_accuracy"]
    assert moved["cv_accuracy"] == same["cv_accuracy"]  # C and CV use train + val alone
