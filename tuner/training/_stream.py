"""Rows into ``tf.data``, read in the graph: no Python per batch, memory bounded.

A store on disk is read with ``FixedLengthRecordDataset`` over spans of consecutive
rows: the span of each block of ``_BLOCK`` rows of the selection (rows of the span
that are not in the selection are dropped). An epoch reads its blocks in a seeded
random order and permutes the rows in windows of at most ``_SHUFFLE_MB`` (one window
of every row when the selection fits: a full shuffle). The draws are made in NumPy
from ``(seed, epoch)`` (:func:`epoch_orders` gives the same order to a NumPy
consumer) and enter the graph as small tables, so a resumed epoch replays its order.
The train rows of a decoded store are stored in a shuffled order (``tuner.data``),
so blocks mix the classes. Memory: a window or two and per-row int32 tables,
whatever the dataset's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tuner.data import Rows, RowStore

__all__ = ["epoch_stream", "epoch_orders", "in_order", "prefetched"]

_BLOCK = 64  # rows of a selection read as one span
_CYCLE = 8  # spans read at once by in_order
_SHUFFLE_MB = 64  # bound of an epoch's shuffle buffer


def _reader(tf, store: RowStore):
    """``read(start, stop)``: dataset of ``(store row, row)`` for rows ``start..stop-1``."""
    shape = list(store.row_shape)
    if not store.on_disk:
        table = tf.constant(store.array)
        return lambda a, b: tf.data.Dataset.range(a, b).map(
            lambda r: (r, tf.gather(table, r)))
    rb, end = store.row_bytes, store.offset + store.n * store.row_bytes
    dtype = tf.as_dtype(store.dtype)
    path = str(store.path)

    def read(a, b):
        recs = tf.data.FixedLengthRecordDataset(
            path, rb, header_bytes=store.offset + a * rb, footer_bytes=end - (store.offset + b * rb),
            buffer_size=max(rb * _BLOCK, 1 << 16))
        recs = recs.map(lambda raw: tf.reshape(tf.io.decode_raw(raw, dtype), shape))
        return tf.data.Dataset.zip((tf.data.Dataset.range(a, b), recs))

    return read


def _blocks(views: Sequence[Rows]) -> list[np.ndarray]:
    """The selection's positions in blocks of ``_BLOCK``, in store order (the same for
    every view: views must order their rows alike)."""
    order = np.argsort(views[0].index, kind="stable")
    for v in views[1:]:
        if not np.array_equal(np.argsort(v.index, kind="stable"), order):
            raise ValueError("the views of a stream must order their rows alike")
    return [order[j:j + _BLOCK] for j in range(0, len(order), _BLOCK)]


def _layout(views: Sequence[Rows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position of each store row in the selection (-1 when not in it), and the span
    (start, stop) of every block for every view: arrays (store n,), (K, blocks) x 2."""
    store, n = views[0].store, len(views[0])
    local = np.full(store.n, -1, np.int32)
    for v in views:
        if v.store is not store or len(v) != n:
            raise ValueError("the views of a stream must be equal-length rows of one store")
        local[v.index] = np.arange(n, dtype=np.int32)
        if len(np.unique(v.index)) != n:
            raise ValueError("a stream's rows must be distinct")
    bounds = sorted((int(v.index.min()), int(v.index.max())) for v in views if n)
    if any(b[0] <= a[1] for a, b in zip(bounds, bounds[1:])):
        raise ValueError("the views of a stream must lie in disjoint row ranges")
    blocks = _blocks(views)
    starts = np.array([[v.index[b].min() for b in blocks] for v in views], np.int64)
    stops = np.array([[v.index[b].max() + 1 for b in blocks] for v in views], np.int64)
    return local, starts, stops


def _window(store: RowStore, n: int) -> int:
    return int(max(1, min(n, _SHUFFLE_MB * 2**20 // max(store.row_bytes, 1))))


def _plans(n_blocks: int, k: int, n: int, window: int, *, epochs: int, seed: int,
           start_epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each epoch's draws, seeded by ``(seed, start_epoch + epoch)``: the block order
    (E, blocks), the view each block reads (E, blocks) and, per window of ``window``
    rows of the read order, its permutation (E, n; local to its window)."""
    perm = np.empty((epochs, n_blocks), np.int64)
    view = np.empty((epochs, n_blocks), np.int64)
    within = np.empty((epochs, n), np.int32)
    for e in range(epochs):
        rng = np.random.default_rng([seed, start_epoch + e, 11])
        perm[e], view[e] = rng.permutation(n_blocks), rng.integers(0, k, n_blocks)
        within[e] = np.concatenate([rng.permutation(min(window, n - g))
                                    for g in range(0, n, window)]) if n else []
    return perm, view, within


def epoch_orders(views: Sequence[Rows], *, epochs: int, seed: int, start_epoch: int):
    """Per epoch, ``(positions, store rows)`` in :func:`epoch_stream`'s order (the same
    seeds give the same batches): for a consumer that reads its own batches (the
    NumPy head), without ``tf.data``."""
    n = len(views[0])
    store = views[0].store
    blocks = _blocks(views)
    window = _window(store, n)
    perm, view, within = _plans(len(blocks), len(views), n, window, epochs=epochs, seed=seed,
                                start_epoch=start_epoch)
    at = np.stack([v.index for v in views])
    for e in range(epochs):
        pos = np.concatenate([blocks[b] for b in perm[e]]) if n else np.zeros(0, np.int64)
        vw = np.concatenate([np.full(len(blocks[b]), view[e, j]) for j, b in enumerate(perm[e])]
                            ) if n else np.zeros(0, np.int64)
        for g in range(0, n, window):
            w = slice(g, g + window)
            pos[w], vw[w] = pos[w][within[e, w]], vw[w][within[e, w]]
        yield pos, at[vw, pos]


def epoch_stream(tf, views: Sequence[Rows], *, epochs: int, batch_size: int, seed: int,
                 start_epoch: int):
    """Batches ``(epoch, positions, rows)`` of ``epochs`` epochs: every position of the
    selection once per epoch, in :func:`epoch_orders`'s order; ``epoch`` counts from 0
    here. With several ``views`` (equal-length selections, e.g. the augmented views of
    cached activations) each block of an epoch reads one view, drawn at random. No
    batch spans two epochs."""
    store, n, k = views[0].store, len(views[0]), len(views)
    local, starts, stops = _layout(views)
    n_blocks = starts.shape[1]
    window = _window(store, n)
    perm, view, within = _plans(n_blocks, k, n, window, epochs=epochs, seed=seed,
                                start_epoch=start_epoch)
    read = _reader(tf, store)
    local_t = tf.constant(local)
    # the spans each epoch reads, in its order: (E, blocks)
    first = tf.constant(starts[view, perm])
    last = tf.constant(stops[view, perm])
    within_t = tf.constant(within)

    def one_epoch(e):
        spans = tf.data.Dataset.from_tensor_slices((first[e], last[e]))
        rows = spans.flat_map(
            lambda a, b: read(a, b).filter(lambda r, x: tf.gather(local_t, r) >= 0))
        rows = rows.map(lambda r, x: (e, tf.gather(local_t, r), x))

        def shuffle(g, batch):  # window g of the read order, permuted as planned
            at = g * window
            order = within_t[e, at:at + tf.shape(batch[1], out_type=tf.int64)[0]]
            return tuple(tf.gather(t, order) for t in batch)

        return (rows.batch(window).enumerate().map(shuffle)
                .unbatch().batch(batch_size))

    return tf.data.Dataset.range(epochs).flat_map(one_epoch)


def in_order(tf, rows: Rows, batch_size: int):
    """Batches ``(positions, rows)`` of every row of ``rows`` once, in store order
    (for evaluation: a caller pairs labels by position)."""
    local, starts, stops = _layout([rows])
    read = _reader(tf, rows.store)
    local_t = tf.constant(local)
    spans = tf.data.Dataset.from_tensor_slices((starts[0], stops[0]))
    return (spans.interleave(
        lambda a, b: read(a, b).filter(lambda r, x: tf.gather(local_t, r) >= 0),
        cycle_length=_CYCLE, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .map(lambda r, x: (tf.gather(local_t, r), x)).batch(batch_size))


def prefetched(tf, ds):
    """``ds`` prefetched, with tf.data's autotuning off: the end of every training and
    evaluation pipeline here.

    Autotuning runs an optimisation thread per iterator. Deleting the iterator waits for
    that thread to wake up: at the end of about one ``model.fit`` in ten, 4.7 to 5.0 s
    (224 px, 2 cores; gdb: ``RootDataset::Iterator::~Iterator`` waiting in
    ``UnboundedThreadPool``); and a block-16 suffix's epochs took 0.64 to 0.66 s with it,
    0.44 to 0.48 s without (``benchmarks/fit_autotune.py``, ``docs/training-recipe.md``).
    With autotuning off, the ``AUTOTUNE`` parallelism of these small pipelines (cached rows
    or decoded images) and their prefetch buffer take tf.data's untuned defaults; measured,
    the trials ran faster with them, not slower.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(tf.data.AUTOTUNE).with_options(options)
