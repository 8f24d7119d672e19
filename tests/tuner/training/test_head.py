"""fit_head (NumPy) trains the Keras head exactly as fit_phase (Keras) does."""

from __future__ import annotations

import numpy as np
import pytest

from tuner.training._head import fit_head
from tuner.training._fit import ArrayFeed, fit_phase
def head_model(n_features: int, n_classes: int, dropout: float):
    import keras

    keras.utils.set_random_seed(3)
    x = keras.Input((n_features,))
    out = keras.layers.Dense(n_classes, activation="softmax")(keras.layers.Dropout(dropout)(x))
    return keras.Model(x, out)


def problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    n, f, c = 90, 24, 3
    y = rng.integers(0, c, n)
    centres = rng.normal(size=(c, f))
    views = (centres[y][None] + rng.normal(scale=1.5, size=(2, n, f))).astype(np.float16)
    y_val = rng.integers(0, c, 40)
    x_val = (centres[y_val] + rng.normal(scale=1.5, size=(40, f))).astype(np.float16)
    w = np.where(y == 0, 2.0, 0.8).astype(np.float32)  # class weights
    return ArrayFeed(views, np.eye(c, dtype=np.float32)[y], w), x_val, y_val


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_matches_keras_fit_without_dropout(label_smoothing: float) -> None:
    feed, x_val, y_val = problem()
    kw = dict(lr=3e-2, epochs=4, patience=10, batch_size=16, label_smoothing=label_smoothing,
              seed=5, start_epoch=0, best=None, on_epoch=None)
    keras_head, numpy_head = head_model(24, 3, 0.0), head_model(24, 3, 0.0)
    hk: list = []
    hn: list = []
    bk = fit_phase(keras_head, feed, x_val, y_val, phase="head", history=hk, **kw)
    bn = fit_head(numpy_head, feed, x_val, y_val, dropout=0.0, history=hn, **kw)
    for a, b in zip(keras_head.get_weights(), numpy_head.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-4)
    # exact fractions in both (keras' float32 accuracy is rounded to correct/n), so a tie
    # between a head epoch and a fine-tune epoch is a tie
    assert [h.val_accuracy for h in hk] == [h.val_accuracy for h in hn]
    np.testing.assert_allclose([h.val_loss for h in hk], [h.val_loss for h in hn], atol=1e-4)
    np.testing.assert_allclose([h.train_accuracy for h in hk], [h.train_accuracy for h in hn],
                               rtol=1e-6)
    assert bk.epoch == bn.epoch and bk.accuracy == pytest.approx(bn.accuracy)


def test_dropout_early_stopping_and_on_epoch() -> None:
    feed, x_val, y_val = problem(1)
    head = head_model(24, 3, 0.5)
    seen: list[int] = []
    hist: list = []
    best = fit_head(head, feed, x_val, y_val, dropout=0.5, lr=0.3, epochs=30, patience=2,
                    batch_size=8, label_smoothing=0.0, seed=0, start_epoch=0, best=None,
                    history=hist, on_epoch=lambda e, a: seen.append(e))
    assert seen == [h.epoch for h in hist] and len(hist) < 30  # stopped early
    assert best.accuracy == max(h.val_accuracy for h in hist) > 0.6
    probs = np.asarray(head(np.asarray(x_val, np.float32), training=False))
    assert np.mean(probs.argmax(1) == y_val) == pytest.approx(best.accuracy)  # best restored
