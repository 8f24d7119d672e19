"""ActivationCache directly: entries keyed by everything they depend on, written whole
or not at all, reused from disk by another cache (another process), first commit wins."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from tuner.training._cache import ActivationCache, CacheKey

KEY = CacheKey(fingerprint="f" * 16, backbone="mobilenet_v2", weights="w", input_size=32,
               boundary="block_3_add", augmentation="light", views=2, seed=0)
SHAPES = {"train": (2, 5, 4, 4, 8), "val": (3, 4, 4, 8)}


def fill(cache: ActivationCache, key: CacheKey, value: float) -> dict:
    writers = cache.allocate(key, SHAPES)
    for w in writers.values():
        w.write(0, np.full(w.store.shape, value, np.float16))
    return cache.commit(key, writers)


def test_an_entry_is_reused_from_disk_by_another_cache(tmp_path: Path) -> None:
    first = ActivationCache(tmp_path)
    assert first.get(KEY) is None
    entry = fill(first, KEY, 1.5)
    assert first.computed == 1 and len(entry["train"]) == SHAPES["train"][0]
    assert entry["train"][1].shape == SHAPES["train"][1:]
    again = ActivationCache(tmp_path)  # a new process: nothing in memory
    got = again.get(KEY)
    assert again.loaded == 1 and got["val"].dtype == np.float16 and got["val"].store.on_disk
    assert all(np.all(np.asarray(v) == 1.5) for v in got["train"])
    assert np.all(np.asarray(got["val"]) == 1.5) and again.nbytes() == 0


def test_every_part_of_the_key_separates_entries(tmp_path: Path) -> None:
    cache = ActivationCache(tmp_path)
    fill(cache, KEY, 1.0)
    for field, value in (("fingerprint", "g" * 16), ("weights", "v"), ("input_size", 64),
                         ("boundary", "pooled"), ("augmentation", "off"), ("views", 1),
                         ("seed", 1), ("backbone", "resnet50")):
        other = replace(KEY, **{field: value})
        assert other.dirname != KEY.dirname
        assert ActivationCache(tmp_path).get(other) is None, field


def test_an_unfinished_entry_is_never_read_and_the_first_commit_wins(tmp_path: Path) -> None:
    writer = ActivationCache(tmp_path)
    pending = writer.allocate(KEY, SHAPES)  # killed here: a temporary folder, no entry
    pending["train"].write(0, np.full(pending["train"].store.shape, 9.0))
    assert ActivationCache(tmp_path).get(KEY) is None
    fill(ActivationCache(tmp_path), KEY, 2.0)  # another process commits first
    kept = writer.commit(KEY, pending)
    assert np.all(np.asarray(kept["train"][0]) == 2.0)  # the committed entry, not the late one
    assert not [p for p in (tmp_path / "activations").iterdir() if p.name.startswith(".")]


def test_without_a_folder_entries_stay_in_memory(tmp_path: Path) -> None:
    cache = ActivationCache(None)
    fill(cache, KEY, 3.0)
    assert np.all(np.asarray(cache.get(KEY)["val"]) == 3.0) and cache.nbytes() > 0
    assert not any(tmp_path.iterdir())
