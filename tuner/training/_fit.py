"""The training loop shared by trials and the final fit.

One ``model.fit`` call per phase over a ``tf.data`` pipeline that already holds
every epoch's shuffling (and augmented view or augmentation parameters), so the
train step is traced once per phase. A callback validates after each epoch,
keeps the best weights (early stopping on validation accuracy, ties to the lower
loss), calls the trial's ``on_epoch`` (which may raise to stop the trial) and
restores the best weights at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tuner.data import Rows, RowStore
from tuner.final import INFERENCE_BATCH
from tuner.training._augment import AugmentSpec, apply_params, draw_params
from tuner.training._optim import OptimizerSpec, make_optimizer, retune, tunable_optimizer
from tuner.training._stream import epoch_stream, in_order, prefetched
from tuner.trial import EpochRecord, better

__all__ = ["ArrayFeed", "ImageFeed", "Best", "fit_phase", "balanced_weights", "eval_dataset",
           "predict_rows", "resize_u8", "smoothed"]

_EPS = 1e-9  # for losses; accuracies are exact fractions (see _exact)


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``n / (n_classes_present * n_c)`` (1.0 everywhere when balanced)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes, np.float64)
    w[present] = len(y) / (present.sum() * counts[present])
    return w.astype(np.float32)


def _augment_rngs(epochs: int, seed: int, start_epoch: int) -> list[np.random.Generator]:
    """One generator per epoch for the augmentation draws, seeded by (seed, epoch) like
    the stream's order but with its own salt (17; the stream's plans use 11), so that an
    image's augmentation is not drawn from the numbers that placed it in the epoch."""
    return [np.random.default_rng([seed, start_epoch + e, 17]) for e in range(epochs)]


@dataclass
class ArrayFeed:
    """Cached activations: ``views`` are K equal-length selections (the augmented views
    of every image); each epoch shuffles the images, and each block of an epoch's
    stream reads one view, drawn at random (:func:`epoch_stream`)."""

    views: tuple[Rows, ...]
    y: np.ndarray  # one-hot float32 (N, C)
    w: np.ndarray  # sample weights (N,)
    size = None  # activations are never resized (ImageFeed's field)

    def __post_init__(self) -> None:
        if isinstance(self.views, np.ndarray):  # (K, N, ...) in memory: K views of N rows
            k, n = self.views.shape[:2]
            store = RowStore.of_array(self.views.reshape((k * n,) + self.views.shape[2:]))
            self.views = tuple(Rows.all(store, v * n, (v + 1) * n) for v in range(k))

    def sample_batch(self) -> tuple:
        return self.views[0].read(slice(0, 2)).astype(np.float32), self.y[:2], self.w[:2]

    def dataset(self, epochs: int, batch_size: int, seed: int, start_epoch: int):
        import tensorflow as tf

        y, w = tf.constant(self.y), tf.constant(self.w)

        def load(e, i, x):
            return tf.cast(x, tf.float32), tf.gather(y, i), tf.gather(w, i)

        return prefetched(tf, epoch_stream(tf, self.views, epochs=epochs, batch_size=batch_size,
                                           seed=seed, start_epoch=start_epoch)
                          .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))


@dataclass
class ImageFeed:
    """Decoded uint8 images, augmented on the fly with fresh parameters each epoch;
    resized first (in the graph) when ``size`` differs from theirs."""

    images: Rows  # (N, S, S, 3) uint8
    y: np.ndarray
    w: np.ndarray
    augment: AugmentSpec
    size: int | None = None

    def __post_init__(self) -> None:
        self.images = Rows.of(self.images)

    def sample_batch(self) -> tuple:
        x = self.images.read(slice(0, 2))
        if self.size not in (None, x.shape[1]):
            x = np.asarray(resize_u8(x, self.size))
        return x.astype(np.float32), self.y[:2], self.w[:2]

    def dataset(self, epochs: int, batch_size: int, seed: int, start_epoch: int):
        import tensorflow as tf

        n = len(self.images)
        rngs = _augment_rngs(epochs, seed, start_epoch)
        params = tf.constant(np.stack([draw_params(self.augment, n, r) for r in rngs]))
        y, w = tf.constant(self.y), tf.constant(self.w)
        aug, size = self.augment.enabled, self.size
        resize = size not in (None, self.images.shape[1])

        def load(e, i, x):
            if resize:
                x = resize_u8(x, size)
            if aug:
                x = apply_params(x, tf.gather_nd(params, tf.stack([tf.cast(e, tf.int32), i], 1)))
            else:
                x = tf.cast(x, tf.float32)
            return x, tf.gather(y, i), tf.gather(w, i)

        return prefetched(tf, epoch_stream(tf, [self.images], epochs=epochs,
                                           batch_size=batch_size, seed=seed,
                                           start_epoch=start_epoch)
                          .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))


def smoothed(y: np.ndarray, label_smoothing: float) -> np.ndarray:
    """One-hot targets with keras' label smoothing: ``y * (1 - s) + s / classes``."""
    if not label_smoothing:
        return y
    return (y * np.float32(1.0 - label_smoothing)
            + np.float32(label_smoothing / y.shape[1])).astype(np.float32)


def resize_u8(x, size: int):
    """uint8 images resized to ``size`` (antialiased), rounded back to uint8."""
    import tensorflow as tf

    small = tf.image.resize(x, (size, size), antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(small), 0, 255), tf.uint8)


def eval_dataset(rows: Rows, y: np.ndarray | None = None, size: int | None = None,
                 batch_size: int = INFERENCE_BATCH):
    """``rows`` as float32 batches in store order (resized to ``size``), paired with the
    rows of ``y`` when given; :func:`in_order` positions come first without ``y``."""
    import tensorflow as tf

    resize = size not in (None, rows.shape[1])

    def prep(x):
        return tf.cast(resize_u8(x, size) if resize else x, tf.float32)

    ds = in_order(tf, rows, batch_size)
    if y is None:
        return prefetched(tf, ds.map(lambda i, x: (i, prep(x))))
    yt = tf.constant(y)
    return prefetched(tf, ds.map(lambda i, x: (prep(x), tf.gather(yt, i))))


def predict_rows(model: Any, rows: Rows, size: int | None = None) -> np.ndarray:
    """``model``'s outputs (float64) for every row of ``rows``, in the order of ``rows``."""
    import tensorflow as tf

    if not len(rows):
        return np.zeros((0, 0))
    step = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    placed = None
    # in_order interleaves its spans: each batch carries its rows' positions
    for pos, x in eval_dataset(rows, size=size):
        out = np.asarray(step(x), np.float64)
        if placed is None:
            placed = np.empty((len(rows), out.shape[-1]))
        placed[pos.numpy()] = out
    return placed


@dataclass
class Best:
    """Best validation result so far and the weights that gave it."""

    accuracy: float
    loss: float
    epoch: int
    weights: list | None

    def beaten_by(self, acc: float, loss: float) -> bool:
        return better(acc, loss, self.accuracy, self.loss)


def _exact(accuracy: float, n: int) -> float:
    """keras' float32 accuracy as the exact fraction correct/n, so that it compares
    equal to the same count computed elsewhere (the NumPy head phase, in float64)."""
    return round(accuracy * n) / n if n else accuracy


def _callback(model: Any, phase: str, start_epoch: int, patience: int, best: Best | None,
              history: list[EpochRecord], on_epoch: Callable[[int, float], None] | None,
              keep_last: bool = False, n_val: int = 0):
    import keras

    class _Track(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.best = best
            self.waited = 0

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            e = start_epoch + epoch
            acc, loss = _exact(float(logs["val_accuracy"]), n_val), float(logs["val_ce"])
            history.append(EpochRecord(epoch=e, phase=phase,
                                       train_accuracy=float(logs["accuracy"]),
                                       train_loss=float(logs["loss"]),
                                       val_accuracy=acc, val_loss=loss))
            if keep_last or self.best is None or self.best.beaten_by(acc, loss):
                self.best = Best(acc, loss, e, model.get_weights())
                self.waited = 0
            else:
                self.waited += 1
            if on_epoch is not None:
                on_epoch(e, acc)
            if self.waited >= patience and not keep_last:
                model.stop_training = True

    return _Track()


def fit_phase(model: Any, feed: ArrayFeed | ImageFeed, x_val: Rows, y_val: np.ndarray, *,
              phase: str, lr: float, epochs: int, patience: int, batch_size: int,
              label_smoothing: float, seed: int, start_epoch: int, best: Best | None,
              history: list[EpochRecord],
              on_epoch: Callable[[int, float], None] | None, keep_last: bool = False,
              optimizer: OptimizerSpec | None = None, reuse: bool = False) -> Best:
    """Train ``model`` for up to ``epochs`` epochs; restore and return the best state.

    ``best`` carries the previous phase's result: this phase must beat it, and the
    weights ``model`` has at entry come back when it does not. ``keep_last``: train
    all ``epochs`` and keep the last state (the final refit, whose validation
    images are in training). ``optimizer``: Adam at ``lr`` unless given. ``reuse``:
    ``model`` is a kept view (:class:`~tuner.training._kept.KeptBackbone`): compiled on
    its first phase with a tunable optimizer, then only retuned, so that its traced
    steps serve every later phase. Label smoothing enters through the targets (keras'
    own transform), which leaves the compiled loss the same for every phase.
    """
    import keras

    spec = optimizer or OptimizerSpec()
    feed = replace(feed, y=smoothed(feed.y, label_smoothing))
    if not (reuse and retune(model, spec, lr)):
        model.compile(optimizer=(tunable_optimizer if reuse else make_optimizer)(spec, lr),
                      loss=keras.losses.CategoricalCrossentropy(),
                      metrics=["accuracy", keras.metrics.CategoricalCrossentropy(name="ce")])
        # Metric, loss and optimizer state created here, before fit: created inside the
        # first traced train step (keras' default without a distribution strategy), they
        # make tf.function trace the whole step twice (seconds to tens of seconds).
        model._symbolic_build(data_batch=feed.sample_batch())
        if reuse:
            retune(model, spec, lr, remember=True)
    if best is not None:
        best = Best(best.accuracy, best.loss, best.epoch, model.get_weights())
    n = feed.y.shape[0]
    y_val_1h = np.eye(feed.y.shape[1], dtype=np.float32)[y_val]
    track = _callback(model, phase, start_epoch, patience, best, history, on_epoch, keep_last,
                      n_val=len(y_val))
    model.fit(feed.dataset(epochs, batch_size, seed, start_epoch), epochs=epochs,
              steps_per_epoch=math.ceil(n / batch_size),
              validation_data=eval_dataset(Rows.of(x_val), y_val_1h, size=feed.size),
              validation_steps=math.ceil(len(y_val) / INFERENCE_BATCH),
              callbacks=[track], shuffle=False, verbose=0)
    assert track.best is not None
    model.set_weights(track.best.weights)
    return track.best
