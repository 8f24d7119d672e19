"""Which rows go to which split: the stratified hold-out and the test-split choice."""

from __future__ import annotations

import numpy as np

from advisor.data import DatasetIndex
from advisor.errors import ConfigError, DatasetError

__all__ = ["stratified_holdout", "choose_test_split"]


def stratified_holdout(labels: np.ndarray, fraction: float, seed: int, salt: str
                       ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Split row indices into (kept, held out): ``round(n_c * fraction)`` per class,
    at least one and never all of a class with two or more images."""
    rng = np.random.default_rng([seed, int.from_bytes(salt.encode(), "little") % (2**31)])
    held: list[int] = []
    notes: list[str] = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            notes.append(f"class index {int(c)} has {len(idx)} image(s): none held out for {salt}")
            continue
        k = min(max(1, int(round(len(idx) * fraction))), len(idx) - 1)
        held += rng.choice(idx, size=k, replace=False).tolist()
    held_arr = np.array(sorted(held), dtype=np.int64)
    kept = np.setdiff1d(np.arange(len(labels)), held_arr)
    return kept, held_arr, notes


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
