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
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuner.training._augment import AugmentSpec, apply_params, draw_params
from tuner.trial import EpochRecord, better

__all__ = ["ArrayFeed", "ImageFeed", "Best", "fit_phase",
           "balanced_weights"]

_EPS = 1e-9  # for losses; accuracies are exact fractions (see _exact)
_EVAL_BATCH = 128


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``n / (n_classes_present * n_c)`` (1.0 everywhere when balanced)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes, np.float64)
    w[present] = len(y) / (present.sum() * counts[present])
    return w.astype(np.float32)


def _epoch_order(n: int, epochs: int, seed: int, start_epoch: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, start_epoch + e, 11]) for e in range(epochs)]


@dataclass
class ArrayFeed:
    """Cached activations ``views`` (K, N, ...): each epoch shuffles and uses one
    randomly chosen view of every image."""

    views: np.ndarray
    y: np.ndarray  # one-hot float32 (N, C)
    w: np.ndarray  # sample weights (N,)

    def sample_batch(self) -> tuple:
        return np.asarray(self.views[0, :2]), self.y[:2], self.w[:2]

    def dataset(self, epochs: int, batch_size: int, seed: int, start_epoch: int):
        import tensorflow as tf

        k, n = self.views.shape[:2]
        rngs = _epoch_order(n, epochs, seed, start_epoch)
        perms = np.stack([r.permutation(n) for r in rngs]).astype(np.int32)
        views = np.stack([r.integers(0, k, size=n) for r in rngs]).astype(np.int32)
        x = tf.constant(np.asarray(self.views))
        y, w = tf.constant(self.y), tf.constant(self.w)

        def load(v, i):
            return tf.gather_nd(x, tf.stack([v, i], axis=1)), tf.gather(y, i), tf.gather(w, i)

        return _per_epoch(tf, (views, perms), batch_size).map(load).prefetch(tf.data.AUTOTUNE)


@dataclass
class ImageFeed:
    """Decoded uint8 images, augmented on the fly with fresh parameters each epoch."""

    images: np.ndarray  # (N, S, S, 3) uint8
    y: np.ndarray
    w: np.ndarray
    augment: AugmentSpec

    def sample_batch(self) -> tuple:
        return self.images[:2].astype(np.float32), self.y[:2], self.w[:2]

    def dataset(self, epochs: int, batch_size: int, seed: int, start_epoch: int):
        import tensorflow as tf

        n = len(self.images)
        rngs = _epoch_order(n, epochs, seed, start_epoch)
        perms = np.stack([r.permutation(n) for r in rngs]).astype(np.int32)
        params = np.stack([draw_params(self.augment, n, r) for r in rngs])
        images = tf.constant(self.images)
        y, w = tf.constant(self.y), tf.constant(self.w)
        aug = self.augment.enabled

        def load(i, p):
            x = tf.gather(images, i)
            x = apply_params(x, p) if aug else tf.cast(x, tf.float32)
            return x, tf.gather(y, i), tf.gather(w, i)

        return (_per_epoch(tf, (perms, params), batch_size)
                .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE))


def _per_epoch(tf, arrays: tuple[np.ndarray, ...], batch_size: int):
    """Batches of each epoch's rows (arrays are (epochs, N, ...)); no batch spans two epochs."""
    epochs = arrays[0].shape[0]
    tensors = tuple(tf.constant(a) for a in arrays)
    return tf.data.Dataset.range(epochs).flat_map(
        lambda e: tf.data.Dataset.from_tensor_slices(tuple(t[e] for t in tensors)).batch(batch_size))


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


def fit_phase(model: Any, feed: ArrayFeed | ImageFeed, x_val: np.ndarray, y_val: np.ndarray, *,
              phase: str, lr: float, epochs: int, patience: int, batch_size: int,
              label_smoothing: float, seed: int, start_epoch: int, best: Best | None,
              history: list[EpochRecord],
              on_epoch: Callable[[int, float], None] | None, keep_last: bool = False) -> Best:
    """Train ``model`` for up to ``epochs`` epochs; restore and return the best state.

    ``best`` carries the previous phase's result: this phase must beat it, and the
    weights ``model`` has at entry come back when it does not. ``keep_last``: train
    all ``epochs`` and keep the last state (the final refit, whose validation
    images are in training).
    """
    import keras

    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy", keras.metrics.CategoricalCrossentropy(name="ce")])
    # Metric, loss and optimizer state created here, before fit: created inside the
    # first traced train step (keras' default without a distribution strategy), they
    # make tf.function trace the whole step twice (seconds to tens of seconds).
    model._symbolic_build(data_batch=feed.sample_batch())
    if best is not None:
        best = Best(best.accuracy, best.loss, best.epoch, model.get_weights())
    n = feed.y.shape[0]
    y_val_1h = np.eye(feed.y.shape[1], dtype=np.float32)[y_val]
    track = _callback(model, phase, start_epoch, patience, best, history, on_epoch, keep_last,
                      n_val=len(y_val))
    model.fit(feed.dataset(epochs, batch_size, seed, start_epoch), epochs=epochs,
              steps_per_epoch=math.ceil(n / batch_size), validation_data=(x_val, y_val_1h),
              validation_batch_size=_EVAL_BATCH, callbacks=[track], shuffle=False, verbose=0)
    assert track.best is not None
    model.set_weights(track.best.weights)
    return track.best
