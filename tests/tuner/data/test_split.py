"""The one stratified sampler: proportional per class, seeded, reproducible."""

from __future__ import annotations

import numpy as np

from tuner.data import stratified_holdout, stratified_sample

LABELS = np.array([0] * 50 + [1] * 30 + [2] * 5 + [3] * 1)


def test_a_sample_keeps_class_proportions_and_every_class() -> None:
    rows = stratified_sample(LABELS, 43, seed=0)
    counts = np.bincount(LABELS[rows], minlength=4)
    assert counts.tolist() == [25, 15, 2, 1] and list(rows) == sorted(set(rows.tolist()))
    assert np.array_equal(rows, stratified_sample(LABELS, 43, seed=0))
    assert not np.array_equal(rows, stratified_sample(LABELS, 43, seed=1))
    assert np.array_equal(stratified_sample(LABELS, 500, seed=0), np.arange(len(LABELS)))


def test_a_holdout_never_takes_a_whole_class_and_says_when_it_takes_none() -> None:
    kept, held, notes = stratified_holdout(LABELS, 0.2, seed=0, salt="val")
    assert np.bincount(LABELS[held], minlength=4).tolist() == [10, 6, 1, 0]
    assert sorted(np.concatenate([kept, held]).tolist()) == list(range(len(LABELS)))
    assert notes == ["class index 3 has 1 image(s): none held out for val"]
    _, other, _ = stratified_holdout(LABELS, 0.2, seed=0, salt="test")
    assert not np.array_equal(held, other)  # the salt separates the test and val draws
