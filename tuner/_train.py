"""The epoch loop shared by trials and the final fit: one ``fit`` call per epoch,
validation after each, early stopping on validation accuracy with best-weight
restore, and the per-epoch callback that may stop a trial by raising."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuner._augment import AugmentSpec, apply_params, draw_params
from tuner._types import EpochRecord

__all__ = ["ArrayFeed", "ImageFeed", "Best", "fit_phase", "evaluate", "balanced_weights"]

_EPS = 1e-9


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-class weights ``n / (n_classes_present * n_c)`` (1.0 everywhere when balanced)."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(n_classes, np.float64)
    w[present] = len(y) / (present.sum() * counts[present])
    return w.astype(np.float32)


@dataclass
class ArrayFeed:
    """Cached activations ``views`` (K, N, ...): each epoch shuffles and picks one
    of the K views of every image."""

    views: np.ndarray
    y: np.ndarray  # one-hot float32 (N, C)
    w: np.ndarray  # sample weights (N,)

    def fit_epoch(self, model: Any, batch_size: int, rng: np.random.Generator):
        n = self.views.shape[1]
        perm = rng.permutation(n)
        view = rng.integers(0, self.views.shape[0], size=n)
        x = np.asarray(self.views[view, perm])
        return model.fit(x, self.y[perm], sample_weight=self.w[perm], batch_size=batch_size,
                         epochs=1, shuffle=False, verbose=0)


@dataclass
class ImageFeed:
    """Decoded uint8 images, augmented on the fly (fresh parameters each epoch)
    in a batched ``tf.data`` pipeline with prefetch."""

    images: np.ndarray  # (N, S, S, 3) uint8
    y: np.ndarray
    w: np.ndarray
    augment: AugmentSpec

    def fit_epoch(self, model: Any, batch_size: int, rng: np.random.Generator):
        import tensorflow as tf

        n = len(self.images)
        perm = rng.permutation(n).astype(np.int32)
        params = draw_params(self.augment, n, rng)
        images = tf.constant(self.images)
        y, w = tf.constant(self.y), tf.constant(self.w)
        aug = self.augment.enabled

        def load(idx, p):
            x = tf.gather(images, idx)
            x = apply_params(x, p) if aug else tf.cast(x, tf.float32)
            return x, tf.gather(y, idx), tf.gather(w, idx)

        ds = (tf.data.Dataset.from_tensor_slices((perm, params)).batch(batch_size)
              .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
              .prefetch(tf.data.AUTOTUNE))
        return model.fit(ds, epochs=1, verbose=0)


@dataclass
class Best:
    """Best validation result so far and the weights that gave it."""

    accuracy: float
    loss: float
    epoch: int
    weights: list | None

    def beaten_by(self, acc: float, loss: float) -> bool:
        # ties on accuracy (frequent on small validation sets) go to the lower loss
        return acc > self.accuracy + _EPS or (acc > self.accuracy - _EPS and loss < self.loss - _EPS)


def evaluate(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Accuracy, mean cross-entropy (no smoothing, no weights) and probabilities."""
    probs = np.asarray(model.predict(x, batch_size=128, verbose=0), dtype=np.float64)
    acc = float(np.mean(probs.argmax(axis=1) == y)) if len(y) else 0.0
    loss = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)))) if len(y) else 0.0
    return acc, loss, probs


def fit_phase(model: Any, feed: ArrayFeed | ImageFeed, x_val: np.ndarray, y_val: np.ndarray, *,
              phase: str, lr: float, epochs: int, patience: int, batch_size: int,
              label_smoothing: float, seed: int, start_epoch: int, best: Best | None,
              history: list[EpochRecord],
              on_epoch: Callable[[int, float], None] | None) -> Best:
    """Train ``model`` for up to ``epochs`` epochs; restore and return the best state.

    ``best`` carries the previous phase's result: this phase must beat it, and its
    weights (``model.get_weights()`` at entry) come back when it does not.
    """
    import keras

    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"])
    if best is not None:
        best = Best(best.accuracy, best.loss, best.epoch, model.get_weights())
    waited = 0
    for i in range(epochs):
        epoch = start_epoch + i
        rng = np.random.default_rng([seed, epoch, 11])
        h = feed.fit_epoch(model, batch_size, rng).history
        acc, loss, _ = evaluate(model, x_val, y_val)
        history.append(EpochRecord(epoch=epoch, phase=phase, train_accuracy=float(h["accuracy"][-1]),
                                   train_loss=float(h["loss"][-1]), val_accuracy=acc, val_loss=loss))
        if best is None or best.beaten_by(acc, loss):
            best = Best(acc, loss, epoch, model.get_weights())
            waited = 0
        else:
            waited += 1
        if on_epoch is not None:
            on_epoch(epoch, acc)
        if waited >= patience:
            break
    assert best is not None
    model.set_weights(best.weights)
    return best
