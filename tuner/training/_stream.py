"""Rows into ``tf.data``, read in the graph: no Python per batch, memory bounded.

A store on disk is read with ``FixedLengthRecordDataset`` over spans of consecutive
rows (the span of a block of ``_BLOCK`` rows of the selection; rows of the span that
are not in the selection are dropped), several blocks at once in parallel. An epoch
reads its blocks in a seeded random order and shuffles the rows in windows of at
most ``_SHUFFLE_MB`` (one window of every row when the selection fits: a full
shuffle), with stateless seeded draws so that a resumed epoch replays its order. The train
rows of a decoded store are stored in a shuffled order (``tuner.data``), so blocks
mix the classes. Memory: a window or two, ``_CYCLE`` blocks in flight and per-row int32
tables, whatever the dataset's size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tuner.data import Rows, RowStore

__all__ = ["epoch_stream", "in_order"]

_BLOCK = 64  # rows of a selection read as one span
_CYCLE = 8  # spans read at once
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
    order = np.argsort(views[0].index, kind="stable")
    blocks = [order[j:j + _BLOCK] for j in range(0, n, _BLOCK)]
    starts = np.array([[v.index[b].min() for b in blocks] for v in views], np.int64)
    stops = np.array([[v.index[b].max() + 1 for b in blocks] for v in views], np.int64)
    return local, starts, stops


def epoch_stream(tf, views: Sequence[Rows], *, epochs: int, batch_size: int, seed: int,
                 start_epoch: int):
    """Batches ``(epoch, positions, rows)`` of ``epochs`` epochs: every position of the
    selection once per epoch, seeded by ``(seed, start_epoch + epoch)``; ``epoch``
    counts from 0 here. With several ``views`` (equal-length selections, e.g. the
    augmented views of cached activations) each block of an epoch reads one view,
    drawn at random. No batch spans two epochs."""
    store, n, k = views[0].store, len(views[0]), len(views)
    local, starts, stops = _layout(views)
    n_blocks = starts.shape[1]
    buffer = int(max(1, min(n, _SHUFFLE_MB * 2**20 // max(store.row_bytes, 1))))
    read = _reader(tf, store)
    local_t, starts_t, stops_t = (tf.constant(a) for a in (local, starts, stops))

    def one_epoch(e):
        s = tf.stack([tf.constant(seed, tf.int64), tf.constant(start_epoch, tf.int64) + e])
        perm = tf.argsort(tf.random.stateless_uniform([n_blocks], seed=s))
        view = tf.random.stateless_uniform([n_blocks], seed=s + 7919, minval=0, maxval=k,
                                           dtype=tf.int32)
        at = tf.stack([view, tf.cast(perm, tf.int32)], axis=1)
        spans = tf.data.Dataset.from_tensor_slices((tf.gather_nd(starts_t, at),
                                                    tf.gather_nd(stops_t, at)))
        rows = spans.interleave(
            lambda a, b: read(a, b).filter(lambda r, x: tf.gather(local_t, r) >= 0),
            cycle_length=_CYCLE, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        rows = rows.map(lambda r, x: (e, tf.gather(local_t, r), x))

        # a stateless shuffle of each window of `buffer` rows (all rows when they fit):
        # seeded by epoch and window, so a resumed epoch replays its order exactly
        def shuffle(g, window):
            order = tf.argsort(tf.random.stateless_uniform(
                tf.shape(window[1])[:1], seed=tf.stack([s[0] * 7 + 3, s[1] * 1009 + g])))
            return tuple(tf.gather(t, order) for t in window)

        return (rows.batch(buffer).enumerate().map(lambda g, w: shuffle(g, w))
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
