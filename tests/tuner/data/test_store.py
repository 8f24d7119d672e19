"""Row stores: on disk read by pread (no map, no torn store), selections that take and
concatenate without copying, and the decoded store of prepare_data on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_image_folder
from tuner.data import Rows, RowStore, RowWriter, prepare_data


def test_rows_read_like_the_array_they_select(tmp_path: Path) -> None:
    a = np.random.default_rng(0).integers(0, 255, (50, 4, 4, 3), dtype=np.uint8)
    np.save(tmp_path / "a.npy", a)
    for store in (RowStore.open_npy(tmp_path / "a.npy"), RowStore.of_array(a)):
        rows = Rows.all(store, 10, 40)
        assert len(rows) == 30 and rows.shape == (30, 4, 4, 3)
        pick = np.array([7, 0, 29, 8, 9, 3])
        assert np.array_equal(rows.read(pick), a[10:40][pick])
        sub = rows.take(pick)
        assert np.array_equal(np.asarray(sub), a[10:40][pick]) and sub.store is store
        both = Rows.all(store, 0, 5) + sub  # same store: indices joined, nothing read
        assert both.store is store and np.array_equal(both[...], np.concatenate([a[:5], a[10:40][pick]]))
        assert np.array_equal(rows[3], a[13]) and np.array_equal(rows[:, 0, 0], a[10:40, 0, 0])
        assert sum(len(c) for _, c in rows.chunks(7)) == 30


def test_a_writer_fills_a_store_without_mapping_it(tmp_path: Path) -> None:
    w = RowWriter.npy(tmp_path / "x.npy", (6, 2, 3), np.float16)
    w.write(3, np.full((3, 2, 3), 2.0))
    w.write(0, np.full((3, 2, 3), 1.0))
    store = w.close()
    assert np.array_equal(np.load(tmp_path / "x.npy"), np.repeat([1.0, 2.0], 3)[:, None, None]
                          * np.ones((6, 2, 3)))
    assert np.all(store.read(np.array([5, 0])) == np.array([2.0, 1.0])[:, None, None])


def test_a_truncated_store_is_an_error_not_garbage(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones((10, 8), np.uint8))
    store = RowStore.open_npy(tmp_path / "a.npy")
    with open(tmp_path / "a.npy", "r+b") as f:
        f.truncate(store.offset + 8 * 5)
    with pytest.raises(OSError, match="short read"):
        store.read(np.array([9]))


def test_prepare_keeps_the_decoded_rows_on_disk_in_split_order(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "ds", {"a": 12, "b": 12}, size=20)
    d = prepare_data(root, input_size=16, seed=0, cache_dir=tmp_path / "c")
    store = d.x_train.store
    assert store.on_disk and d.x_val.store is store and d.x_test.store is store
    n_tr, n_va = len(d.y_train), len(d.y_val)
    assert np.array_equal(d.x_train.index, np.arange(n_tr)) and d.x_val.index[0] == n_tr and d.x_test.index[0] == n_tr + n_va
    folder = store.path.parent
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "pixels.npy"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left
    # train rows are stored shuffled: both classes among the first rows
    assert len(set(d.y_train[:6].tolist())) == 2
    again = prepare_data(root, input_size=16, seed=0, cache_dir=tmp_path / "c")
    assert again.fingerprint == d.fingerprint and any("reused" in n for n in again.notes)
    assert np.array_equal(np.asarray(again.x_val), np.asarray(d.x_val))
    mem = prepare_data(root, input_size=16, seed=0)  # no cache folder: the same, in memory
    assert not mem.x_train.store.on_disk and mem.fingerprint == d.fingerprint
    assert np.array_equal(np.asarray(mem.x_train), np.asarray(d.x_train))
    refit, fold = d.with_val_in_train(), d.cv_fold(2, 0, 0)
    assert refit.x_train.store is store and fold.x_train.store is store
    assert len(refit.x_train) == n_tr + n_va


def test_an_interrupted_decode_leaves_no_store_and_a_killed_ones_folder_is_removed(
        tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    root = write_image_folder(tmp_path / "ds", {"a": 10, "b": 10}, size=20)
    cache = tmp_path / "c"

    def stop(n: int) -> None:
        stop.seen += n
        if stop.seen == 7:
            raise KeyboardInterrupt  # the user's Ctrl-C in the middle of decoding
    stop.seen = 0
    with pytest.raises(KeyboardInterrupt):
        prepare_data(root, input_size=16, seed=0, cache_dir=cache, progress=stop)
    assert not list((cache / "data").iterdir())  # no store, no temporary folder
    d = prepare_data(root, input_size=16, seed=0, cache_dir=cache)
    name = d.x_train.store.path.parent.name
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    killed = cache / "data" / f".{name}.{dead}.x1y2"  # what a SIGKILLed writer leaves
    killed.mkdir()
    shutil.rmtree(cache / "data" / name)  # force a new decode of the same name
    prepare_data(root, input_size=16, seed=0, cache_dir=cache)
    assert not killed.exists()
    assert [p.name for p in (cache / "data").iterdir()] == [name]
