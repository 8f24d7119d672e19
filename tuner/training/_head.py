"""The head phase on cached pooled features, in NumPy.

The new head is dropout + one softmax dense layer. On cached features, an epoch
of it is a few small matrix products; a Keras ``fit`` of the same layer costs a
model compile and a ``tf.function`` trace per trial (about 2.5 s of a 2.6 s
trial on 2 cores). This trains it with the same recipe as :func:`fit_phase`:
the same stream of batches (:func:`~tuner.training._stream.epoch_stream`: order and
cached view per block), Adam
with Keras' update and defaults, categorical cross-entropy with label smoothing
and per-sample (class) weights averaged over the batch, dropout on the features,
validation after every epoch, early stopping with ties to the lower loss, best
weights restored into the Keras head. Without dropout the two agree to float
precision (``tests/tuner/test_head.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tuner.data import Rows
from tuner.final import score_probs
from tuner.training._fit import ArrayFeed, Best
from tuner.training._stream import epoch_orders
from tuner.trial import EpochRecord

__all__ = ["fit_head"]

# keras.optimizers.Adam defaults
_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-7
_VAL_CHUNK = 4096  # validation rows scored at once


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _val_probs(x_val: Rows, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Softmax of the head on the validation features, read in chunks (float64)."""
    out = np.empty((len(x_val), len(b)), np.float64)
    for s, x in x_val.chunks(_VAL_CHUNK):
        out[s:s + len(x)] = _softmax(x.astype(np.float32) @ w + b)
    return out


def fit_head(head: Any, feed: ArrayFeed, x_val: Rows, y_val: np.ndarray, *,
             dropout: float, lr: float, epochs: int, patience: int, batch_size: int,
             label_smoothing: float, seed: int, start_epoch: int, best: Best | None,
             history: list[EpochRecord], on_epoch: Callable[[int, float], None] | None,
             phase: str = "head", keep_last: bool = False) -> Best:
    """Train the Keras ``head`` (pooled features -> softmax) on ``feed`` as
    :func:`~tuner.training._fit.fit_phase` would (``keep_last`` too); returns the best
    state, restored."""
    w, b = (np.asarray(a, np.float32).copy() for a in head.get_weights())
    params = [w, b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    n = len(feed.views[0])
    n_classes = feed.y.shape[1]
    y_smooth = (feed.y * (1.0 - label_smoothing) + label_smoothing / n_classes).astype(np.float32)
    keep = 1.0 - dropout
    drop_rng = np.random.default_rng([seed, start_epoch, 13])
    waited = 0
    store = feed.views[0].store
    orders = epoch_orders(feed.views, epochs=epochs, seed=seed, start_epoch=start_epoch)
    for e, (order, at) in enumerate(orders):
        correct, loss_sum = 0, 0.0
        for s in range(0, n, batch_size):
            idx = order[s:s + batch_size]
            x = store.read(at[s:s + batch_size]).astype(np.float32)
            if dropout > 0:
                x = x * (drop_rng.random(x.shape, np.float32) < keep) / np.float32(keep)
            p = _softmax(x @ w + b)
            yb, sw = y_smooth[idx], feed.w[idx]
            loss_sum += float(np.sum(-np.sum(yb * np.log(np.clip(p, 1e-7, 1.0)), axis=1) * sw))
            correct += int(np.sum(p.argmax(axis=1) == feed.y[idx].argmax(axis=1)))
            g_logits = (p - yb) * (sw / len(idx))[:, None]
            grads = [x.T @ g_logits, g_logits.sum(axis=0)]
            step += 1
            alpha = lr * math.sqrt(1 - _BETA2 ** step) / (1 - _BETA1 ** step)
            for prm, g, mm, vv in zip(params, grads, m, v):
                mm += (g - mm) * (1 - _BETA1)
                vv += (g * g - vv) * (1 - _BETA2)
                prm -= (alpha * mm / (np.sqrt(vv) + _EPSILON)).astype(np.float32)
        epoch = start_epoch + e
        acc, loss = score_probs(_val_probs(Rows.of(x_val), w, b), y_val)
        history.append(EpochRecord(epoch=epoch, phase=phase, train_accuracy=correct / n,
                                   train_loss=loss_sum / n, val_accuracy=acc, val_loss=loss))
        if keep_last or best is None or best.beaten_by(acc, loss):
            best = Best(acc, loss, epoch, [w.copy(), b.copy()])
            waited = 0
        else:
            waited += 1
        if on_epoch is not None:
            on_epoch(epoch, acc)
        if waited >= patience and not keep_last:
            break
    assert best is not None
    if best.weights is not None and best.epoch >= start_epoch:
        head.set_weights(best.weights)
    return best
