"""Which rows go to which split: the stratified hold-out and the test-split choice."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from advisor.data import DatasetIndex
from advisor.errors import ConfigError, DatasetError

__all__ = ["stratified_pick", "stratified_sample", "stratified_holdout", "choose_test_split"]


def _seed_of(salt: str | int) -> int:
    return salt if isinstance(salt, int) else int.from_bytes(salt.encode(), "little") % (2**31)


def stratified_pick(labels: np.ndarray, count: Callable[[int], int], seed: int,
                    salt: str | int) -> np.ndarray:
    """Sorted row indices: ``count(n_c)`` rows drawn at random from each class ``c`` of
    ``n_c`` rows (seeded by ``seed`` and ``salt``). The one stratified sampler of the
    tuner: hold-outs, training caps and probe samples all draw through it."""
    rng = np.random.default_rng([seed, _seed_of(salt)])
    picked: list[int] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = count(len(idx))
        if k > 0:
            picked += rng.choice(idx, size=k, replace=False).tolist()
    return np.array(sorted(picked), dtype=np.int64)


def stratified_sample(labels: np.ndarray, limit: int, seed: int, salt: str | int = "sample"
                      ) -> np.ndarray:
    """Sorted indices of at most about ``limit`` rows, each class in proportion (at
    least one row of each); every row when there are no more than ``limit``."""
    n = len(labels)
    if limit >= n:
        return np.arange(n)
    return stratified_pick(labels, lambda n_c: min(n_c, max(1, int(round(n_c * limit / n)))),
                           seed, salt)


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int, salt: str
                       ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split row indices into (kept, held out): ``round(n_c * fraction)`` per class,
    at least one and never all of a class with two or more images."""
    counts = np.bincount(np.unique(labels, return_inverse=True)[1]) if len(labels) else []
    notes = [f"class index {int(c)} has {int(k)} image(s): none held out for {salt}"
             for c, k in zip(np.unique(labels), counts) if k < 2]
    held = stratified_pick(
        labels, lambda n_c: 0 if n_c < 2 else min(max(1, int(round(n_c * fraction))), n_c - 1),
        seed, salt)
    kept = np.setdiff1d(np.arange(len(labels)), held)
    return kept, held, notes


def choose_test_split(index: DatasetIndex, test_split: str | None) -> str | None:
    if test_split is not None and test_split not in ("train", "val", "test"):
        raise ConfigError("Unknown test split", expected="'val' or 'test' (a split folder)",
                          received=repr(test_split), fix="pass --test-split val, or leave it out")
    if test_split == "train":
        raise ConfigError("The train split cannot be the test split", expected="'val' or 'test'",
                          received="'train'", fix="pass --test-split val, or leave it out")
    if "test" in index.splits:
        if test_split not in (None, "test"):
            raise ConfigError(
                f"The dataset has a test/ folder but test_split={test_split!r} was asked",
                expected="no test_split (test/ is used) or test_split='test'",
                received=f"splits {list(index.splits)}",
                fix="leave --test-split out to evaluate on test/")
        return "test"
    if test_split is not None:
        if test_split not in index.splits:
            raise DatasetError(f"No {test_split}/ folder to use as the test split",
                               expected=f"{index.root}/{test_split}/<class>/<image>",
                               received=f"splits {list(index.splits) or ['none (flat layout)']}",
                               fix="leave --test-split out to hold out a fraction of train")
        return test_split
    return None
