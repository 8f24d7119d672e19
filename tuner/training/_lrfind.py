"""The LR finder (Smith 2017; fastai's ``lr_find`` with its "valley" suggestion): a short
sweep of exponentially increasing learning rates, one mini-batch per step, on the
runner's cached activations, so the frozen backbone never runs per step.

The head sweeps on the cached pooled features in NumPy (Adam with keras' update, the
recipe's softmax cross-entropy). The backbone sweeps the trial's ``suffix`` model (the
layers after the freeze boundary, and the head) on the cached boundary activations with
keras' Adam, the rate set before every step; its head first trains a few epochs at the
head's suggestion, as a trial's head phase precedes its fine-tuning. The curves are read
by :mod:`._lrcurve`. The finder's network is thrown away afterwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from advisor.errors import ConfigError
from tuner.data import Rows
from tuner.training._lrcurve import (LRCurve, LRFinding, curve_from_losses, diverged, smooth,
                                     smoothing_beta, sweep_lrs)
from tuner.training._stream import epoch_orders
from tuner.trial import TrialParams

__all__ = ["BACKBONE_STEPS", "HEAD_STEPS", "HEAD_WARMUP_EPOCHS", "LR_RANGE", "find_lr"]

HEAD_STEPS = 100
BACKBONE_STEPS = 40  # 0.6..1 s a step at 160 px from block 9 of MobileNetV2 on 2 busy cores
LR_RANGE = (1e-7, 1.0)
# head epochs before the backbone sweep, at the head's suggestion (fastai's fine_tune trains
# the head one epoch first): a trial fine-tunes a trained head, yet a head trained to a
# near-zero training loss leaves the backbone sweep only noise to read (hymenoptera)
HEAD_WARMUP_EPOCHS = 1
# keras.optimizers.Adam defaults
_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-7


def _batches(views: tuple[Rows, ...], batch_size: int, seed: int) -> Iterator[tuple]:
    """Endless ``(positions, store rows)`` of full mini-batches, epoch after epoch in the
    trials' order (:func:`epoch_orders`: a random cached view per block)."""
    n = len(views[0])
    bs = min(batch_size, n)
    e = 0
    while True:
        (order, at), = epoch_orders(views, epochs=1, seed=seed, start_epoch=e)
        for s in range(0, n - bs + 1, bs):
            yield order[s:s + bs], at[s:s + bs]
        e += 1


def _sweep(step: Callable[[np.ndarray, np.ndarray, float], float], batches: Iterator[tuple],
           store: Any, lr_range: tuple[float, float], steps: int) -> LRCurve:
    """Run ``step(x, positions, lr)`` (the batch's loss before its update) at each rate
    of the sweep until it ends, the loss is not finite or the smoothed loss diverges."""
    lrs = sweep_lrs(lr_range, steps)
    beta = smoothing_beta(steps)
    raw: list[float] = []
    t0 = time.perf_counter()
    for lr in lrs:
        pos, rows = next(batches)
        loss = step(store.read(rows).astype(np.float32), pos, float(lr))
        if not math.isfinite(loss):
            break
        raw.append(loss)
        if diverged(smooth(raw, beta)):
            break
    return curve_from_losses(lrs, raw, planned=steps, lr_range=lr_range, beta=beta,
                             seconds=time.perf_counter() - t0)


class _NumpyHead:
    """The head (dropout + softmax dense) trained by Adam in NumPy, as ``_head.py`` does."""

    def __init__(self, weights: list, y: np.ndarray, sw: np.ndarray, dropout: float,
                 label_smoothing: float, seed: int) -> None:
        self.params = [np.asarray(a, np.float32).copy() for a in weights]
        self.reset()
        k = y.shape[1]
        self.y = (y * (1.0 - label_smoothing) + label_smoothing / k).astype(np.float32)
        self.sw, self.keep = sw, 1.0 - dropout
        self.rng = np.random.default_rng([seed, 29])

    def reset(self) -> None:
        """A fresh Adam state."""
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, x: np.ndarray, pos: np.ndarray, lr: float) -> float:
        w, b = self.params
        if self.keep < 1.0:
            x = x * (self.rng.random(x.shape, np.float32) < self.keep) / np.float32(self.keep)
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        yb, sw = self.y[pos], self.sw[pos]
        loss = float(np.sum(-np.sum(yb * np.log(np.clip(p, 1e-7, 1.0)), axis=1) * sw) / len(pos))
        g = (p - yb) * (sw / len(pos))[:, None]
        self.t += 1
        alpha = lr * math.sqrt(1 - _BETA2 ** self.t) / (1 - _BETA1 ** self.t)
        for prm, grad, m, v in zip(self.params, (x.T @ g, g.sum(axis=0)), self.m, self.v):
            m += (grad - m) * (1 - _BETA1)
            v += (grad * grad - v) * (1 - _BETA2)
            prm -= (alpha * m / (np.sqrt(v) + _EPSILON)).astype(np.float32)
        return loss


def _keras_step(model: Any, y: np.ndarray, sw: np.ndarray, label_smoothing: float
                ) -> Callable[[np.ndarray, np.ndarray, float], float]:
    """One Adam step of ``model`` on a batch at a given rate (traced once)."""
    import keras
    import tensorflow as tf

    opt = keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    weights = model.trainable_variables
    opt.build(weights)  # its state made before the trace (one trace, not two)
    yt, swt = tf.constant(y), tf.constant(sw)

    @tf.function(reduce_retracing=True)
    def train(x, pos):
        with tf.GradientTape() as tape:
            loss = loss_fn(tf.gather(yt, pos), model(x, training=True),
                           sample_weight=tf.gather(swt, pos))
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    def step(x: np.ndarray, pos: np.ndarray, lr: float) -> float:
        opt.learning_rate = lr
        return float(train(tf.constant(x), tf.constant(pos, tf.int32)))

    return step


def find_lr(runner: Any, *, freeze_block: int | None = None, augmentation: str = "off",
            batch_size: int = 32, head_steps: int = HEAD_STEPS,
            backbone_steps: int = BACKBONE_STEPS,
            lr_range: tuple[float, float] = LR_RANGE, dropout: float = 0.2,
            label_smoothing: float = 0.0,
            head_warmup_epochs: int = HEAD_WARMUP_EPOCHS) -> LRFinding:
    """Sweep the learning rate of the head and of the backbone's trainable layers on
    ``runner``'s cached activations (an in-process :class:`~tuner.training.TrialRunner`;
    its ``seed`` makes the finding deterministic) and suggest a rate for each.

    ``freeze_block``: the partial freeze whose trainable layers the backbone sweep trains
    (default ``n_blocks // 2``, the centre of a search without advice); ``n_blocks`` (a
    feature extractor) sweeps the head alone. Each sweep runs up to ``head_steps`` /
    ``backbone_steps`` steps of ``batch_size`` images from ``lr_range[0]`` to
    ``lr_range[1]`` and stops early once its smoothed loss exceeds 4 times its minimum.
    The activations come from (and stay in) the runner's activation cache, so a sweep's
    trials at the same block and augmentation reuse them. ``finding.ranges(w)`` gives
    the ``head_lr`` and ``backbone_lr`` search ranges ``w`` decades wide centred on the
    suggestions; nothing is kept in the runner but its cache."""
    for name in ("_activations", "_validate", "_build", "boundaries", "n_blocks"):
        if not hasattr(runner, name):
            raise ConfigError("The LR finder needs an in-process runner",
                              expected="a tuner.training.TrialRunner",
                              received=type(runner).__name__,
                              fix="build a TrialRunner on the prepared data (a WorkerRunner "
                                  "trains in another process)")
    n = runner.n_blocks
    fb = n // 2 if freeze_block is None else int(freeze_block)
    if not 1 <= fb <= n:
        raise ConfigError("The LR finder sweeps a partial freeze or a feature extractor",
                          expected=f"freeze_block in 1 .. {n}", received=str(freeze_block),
                          fix="pass a partial-freeze block (full fine-tunes and from-scratch "
                              "trials train on the images, which the finder does not run)")
    if batch_size < 1 or head_warmup_epochs < 0:
        raise ConfigError("Invalid LR finder settings",
                          expected="batch_size >= 1 and head_warmup_epochs >= 0",
                          received=f"batch_size={batch_size}, "
                                   f"head_warmup_epochs={head_warmup_epochs}",
                          fix="pass a positive batch size")
    params = TrialParams(freeze_block=fb, head_lr=1e-3, backbone_lr=1e-4, dropout=dropout,
                         augmentation=augmentation, label_smoothing=label_smoothing,
                         batch_size=batch_size)
    sweep_lrs(lr_range, head_steps)  # a bad range or step count fails before any work
    if fb < n:
        sweep_lrs(lr_range, backbone_steps)
    aug = runner._validate(params)
    bnd = runner.boundaries()[fb]
    if fb < n and not runner._fits_budget(bnd.name, aug):
        raise ConfigError("The boundary activations exceed the runner's cache budget",
                          expected=f"at most {runner.cache_budget_mb} MB",
                          received=f"{runner._entry_bytes(bnd.name, aug) / 2**20:.3g} MB at "
                                   f"{bnd.name} (block {fb})",
                          fix="raise cache_budget_mb, pick a later freeze block or lower "
                              "the views")
    t0 = time.perf_counter()
    try:
        return _find(runner, params, aug, bnd, head_steps, backbone_steps, tuple(lr_range),
                     head_warmup_epochs, t0)
    finally:
        runner._release()


def _find(runner: Any, params: TrialParams, aug: Any, bnd: Any, head_steps: int,
          backbone_steps: int, lr_range: tuple[float, float], warmup: int, t0: float
          ) -> LRFinding:
    net = runner._build(params)
    partial = net.suffix is not None
    pooled, acts, note = runner._activations(bnd.name if partial else None, aug, net.backbone)
    d, seed, bs = runner.data, runner.seed, params.batch_size
    y = np.eye(d.n_classes, dtype=np.float32)[d.y_train]
    sw = runner.class_weights()[d.y_train]
    views = tuple(pooled["train"])
    head = _NumpyHead(net.head.get_weights(), y, sw, params.dropout, params.label_smoothing,
                      seed)
    head_curve = _sweep(head.step, _batches(views, bs, seed), views[0].store, lr_range,
                        head_steps)
    notes = [note]
    backbone_curve = None
    if partial:
        head = _NumpyHead(net.head.get_weights(), y, sw, params.dropout,
                          params.label_smoothing, seed)
        batches = _batches(views, bs, seed)
        per_epoch = len(views[0]) // min(bs, len(views[0]))
        for _ in range(warmup * per_epoch):
            pos, rows = next(batches)
            head.step(views[0].store.read(rows).astype(np.float32), pos, head_curve.suggestion)
        net.head.set_weights(head.params)  # the suffix shares the head's layers
        notes.append(f"head trained {warmup} epoch(s) at {head_curve.suggestion:.3g} "
                     "before the backbone sweep")
        net.freeze_through(bnd.index)
        bviews = tuple(acts["train"])
        backbone_curve = _sweep(_keras_step(net.suffix, y, sw, params.label_smoothing),
                                _batches(bviews, bs, seed), bviews[0].store, lr_range,
                                backbone_steps)
    return LRFinding(head=head_curve, backbone=backbone_curve, freeze_block=params.freeze_block,
                     n_blocks=runner.n_blocks, boundary=bnd.name if partial else None,
                     backbone_name=runner.spec.name, augmentation=aug.level, batch_size=bs,
                     seed=seed, seconds=round(time.perf_counter() - t0, 3), notes=tuple(notes))
