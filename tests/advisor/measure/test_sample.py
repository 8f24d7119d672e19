"""The bounded, stratified sample of training images for the probes and LogME."""

from __future__ import annotations

import numpy as np

from advisor.data import scan_layout
from advisor.measure import MAX_PROBE_IMAGES, measure, stratified_rows
from advisor.measure import _measure
from tests.conftest import write_image_folder


def test_up_to_the_cap_every_row_is_kept() -> None:
    labels = np.repeat([0, 1, 2], [10, 30, 60])
    s = stratified_rows(labels, cap=100, seed=3)
    assert not s.sampled and s.rows.tolist() == list(range(100)) and s.n_total == 100
    assert stratified_rows(np.zeros(MAX_PROBE_IMAGES)).rows.size == MAX_PROBE_IMAGES


def test_above_the_cap_classes_keep_their_share_and_tiny_classes_survive() -> None:
    labels = np.repeat([0, 1, 2], [3, 2997, 7000])
    s = stratified_rows(labels, cap=1000, seed=0)
    assert s.sampled and s.n_total == 10_000
    assert np.all(np.diff(s.rows) > 0)  # sorted, no repeats
    kept = np.bincount(labels[s.rows], minlength=3)
    assert kept.tolist() == [3, 300, 700]  # the 3-image class is kept whole
    again = stratified_rows(labels, cap=1000, seed=0)
    assert np.array_equal(s.rows, again.rows)  # seeded
    assert not np.array_equal(s.rows, stratified_rows(labels, cap=1000, seed=1).rows)
    note = s.note("linear probes and LogME")
    assert "1,003 of 10,000 training images (seed 0" in note


def test_measure_says_when_it_samples(tmp_path, monkeypatch) -> None:
    ds = write_image_folder(tmp_path / "ds", {"red": 20, "green": 20})
    index = scan_layout(ds)
    cache = tmp_path / "cache"
    _, full = measure(index, weights="none", input_size=64, cache_dir=cache)
    assert full.notes == ()
    monkeypatch.setattr(_measure, "MAX_PROBE_IMAGES", 16)
    _, part = measure(index, weights="none", input_size=64, cache_dir=cache)
    assert part.cache_hit  # the features are shared; the sampled probes are another entry
    assert part.n_images == 40
    assert len(part.notes) == 1 and "sample of 16 of 40 training images" in part.notes[0]
    assert part.probe.learning_curve[-1].n_train < full.probe.learning_curve[-1].n_train
    assert len(list((cache / "features").glob("*/derived-*.json"))) == 2
    _, warm = measure(index, weights="none", input_size=64, cache_dir=cache)
    assert warm.notes == part.notes and warm.probe == part.probe  # the note survives the cache
