"""The tf.data streams of rows: every row once per epoch, seeded and replayable, the
same from disk as from memory, views drawn per block, evaluation order recoverable."""

from __future__ import annotations


import numpy as np
import pytest

from tuner.data import Rows, RowStore


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[RowStore, RowStore]:
    tmp = tmp_path_factory.mktemp("rows")
    a = np.arange(400 * 3, dtype=np.float16).reshape(400, 3) / 3  # row r holds r
    np.save(tmp / "a.npy", a)
    return RowStore.open_npy(tmp / "a.npy"), RowStore.of_array(a)


def _epochs(views, **kw) -> dict[int, list[tuple[int, int]]]:
    import tensorflow as tf

    from tuner.training._stream import epoch_stream

    out: dict[int, list] = {}
    for e, i, x in epoch_stream(tf, views, **kw):
        assert len(set(e.numpy().tolist())) == 1  # no batch spans two epochs
        out.setdefault(int(e[0]), []).extend(zip(i.numpy().tolist(),
                                                  np.round(x.numpy()[:, 0]).astype(int).tolist()))
    return out


def test_every_row_once_per_epoch_seeded_and_alike_from_disk_and_memory(stores) -> None:
    disk, mem = stores
    sel = np.random.default_rng(1).permutation(400)[:150]  # a scattered selection
    kw = dict(epochs=3, batch_size=32, seed=5, start_epoch=0)
    a, b = _epochs([Rows(disk, sel)], **kw), _epochs([Rows(mem, sel)], **kw)
    assert a == b
    for pairs in a.values():
        assert sorted(p for p, _ in pairs) == list(range(150))
        assert all(sel[p] == row for p, row in pairs)  # positions pair with their rows
    assert a[0] != a[1]  # a new order each epoch
    resumed = _epochs([Rows(disk, sel)], epochs=1, batch_size=32, seed=5, start_epoch=2)
    assert resumed[0] == a[2]  # a resumed epoch replays its order


def test_views_are_drawn_per_block_and_keep_positions(stores) -> None:
    disk, _ = stores
    views = [Rows.all(disk, 0, 200), Rows.all(disk, 200, 400)]
    got = _epochs(views, epochs=2, batch_size=50, seed=0, start_epoch=0)
    for pairs in got.values():
        assert sorted(p for p, _ in pairs) == list(range(200))
        assert all(row in (p, p + 200) for p, row in pairs)
    used = {row >= 200 for pairs in got.values() for _, row in pairs}
    assert used == {False, True}  # both views appear


def test_in_order_gives_positions_to_pair_labels(stores) -> None:
    import tensorflow as tf

    from tuner.training._stream import in_order

    disk, _ = stores
    sel = np.array([30, 2, 399, 7])
    pos = np.concatenate([i.numpy() for i, _ in in_order(tf, Rows(disk, sel), 3)])
    rows = np.concatenate([x.numpy()[:, 0] for _, x in in_order(tf, Rows(disk, sel), 3)])
    assert np.array_equal(sel[pos], np.round(rows).astype(int))


@pytest.mark.parametrize("window_mb", [None, 1e-4])  # one window; windows of 17 rows
def test_the_numpy_order_is_the_stream_order(stores, window_mb, monkeypatch) -> None:
    from tuner.training import _stream
    from tuner.training._stream import epoch_orders

    if window_mb is not None:
        monkeypatch.setattr(_stream, "_SHUFFLE_MB", window_mb)
        assert _stream._window(stores[0], 200) == 17
    disk, _ = stores
    views = [Rows.all(disk, 0, 200), Rows.all(disk, 200, 400)]
    kw = dict(epochs=3, seed=2, start_epoch=1)
    streamed = _epochs(views, batch_size=16, **kw)
    for e, (pos, rows) in enumerate(epoch_orders(views, **kw)):
        assert list(zip(pos.tolist(), rows.tolist())) == streamed[e]
        assert sorted(pos.tolist()) == list(range(200))


def test_predict_rows_returns_outputs_in_the_order_of_the_rows(stores) -> None:
    """Many spans (more rows than one block) read interleaved: each output must still
    land at its row's position (a model that returns its input makes it visible)."""
    import keras

    from tuner.training._fit import predict_rows

    disk, mem = stores
    sel = np.random.default_rng(3).permutation(400)[:300]  # scattered, five blocks or more
    inp = keras.Input((3,))
    identity = keras.Model(inp, keras.layers.Identity()(inp))
    for store in (disk, mem):
        out = predict_rows(identity, Rows(store, sel))
        assert out.shape == (300, 3)
        np.testing.assert_array_equal(np.round(out[:, 0]).astype(int), sel)


def test_training_and_evaluation_pipelines_run_without_tf_data_autotuning(stores) -> None:
    """Autotuning's optimisation thread cost up to 5 s at the end of a fit (the iterator's
    deletion waits for it): every pipeline that feeds keras has it off, and still yields
    every row."""
    import tensorflow as tf

    from tuner.training._augment import get_augmentation
    from tuner.training._fit import ArrayFeed, ImageFeed, eval_dataset

    disk, _ = stores
    n = 100
    y = np.eye(2, dtype=np.float32)[np.arange(n) % 2]
    w = np.ones(n, np.float32)
    images = Rows.of(np.random.default_rng(0).integers(0, 255, (n, 8, 8, 3), dtype=np.uint8))
    pipelines = {
        "cached activations": ArrayFeed((Rows(disk, np.arange(n)),), y, w).dataset(2, 16, 0, 0),
        "images": ImageFeed(images, y, w, get_augmentation("light")).dataset(2, 16, 0, 0),
        "evaluation": eval_dataset(Rows(disk, np.arange(n)), y),
        "prediction": eval_dataset(images),
    }
    for name, ds in pipelines.items():
        assert ds.options().autotune.enabled is False, name
        rows = sum(int(tf.shape(batch[0])[0]) for batch in ds)
        assert rows == (2 * n if name in ("cached activations", "images") else n), name
