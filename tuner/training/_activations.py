"""The activation cache side of :class:`~tuner.training.TrialRunner`.

The frozen part of the backbone runs once per run, not once per epoch per trial:
its activations (pooled features, and the activation at the trial's freeze
boundary) are cached, K augmented views per training image, and the trainable
rest trains on them. See ``docs/training-recipe.md``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from tuner.data import Rows, RowWriter
from tuner.final import INFERENCE_BATCH
from tuner.training._augment import AugmentSpec, apply_params, draw_params
from tuner.training._cache import CacheKey
from tuner.training._model import build_prefix

__all__ = ["CachedActivations"]

_EXTRA_BUDGETS = 1  # expected boundaries written in one pass: at most this many budgets


class CachedActivations:
    """Mixed into the runner: activations of its data from the cache, computed in one
    pass over the images where missing. Reads the runner's ``data``, ``spec``,
    ``seed``, ``views``, ``cache``, ``cache_budget_mb``, ``weights_source()``,
    ``layout`` and ``_expected``."""

    def _key(self, boundary: str, aug: AugmentSpec) -> CacheKey:
        # a cross-validation fold keys on its pool: the entry covers every image of
        # train + val (K views and one plain view each), shared by all folds
        pool = self.data.pool
        return CacheKey(fingerprint=pool.fingerprint if pool else self.data.fingerprint,
                        backbone=self.spec.name,
                        weights=self.weights_source().fingerprint(), input_size=self.data.input_size,
                        boundary=boundary, augmentation=aug.level,
                        views=self.views if aug.enabled else 1, seed=self.seed)

    def _entry_bytes(self, boundary: str, aug: AugmentSpec) -> int:
        k = self.views if aug.enabled else 1
        d = self.data
        n = (k + 1) * d.pool.size if d.pool else k * len(d.x_train) + len(d.x_val)
        return n * math.prod(self.layout.shapes[boundary]) * 2

    def _fits_budget(self, boundary: str, aug: AugmentSpec) -> bool:
        return self._entry_bytes(boundary, aug) <= self.cache_budget_mb * 2**20

    def _activations(self, boundary: str | None, aug: AugmentSpec, backbone: Any | None
                     ) -> tuple[dict, dict | None, str]:
        """Pooled features (and the activations at ``boundary``) from the cache,
        computing what is missing in one pass over the images (with ``backbone``,
        untrained yet, when the trial built one). The pass also stores the expected
        boundaries (:meth:`expect`) of this augmentation level: the prefix runs to the
        last layer for the pooled features anyway, so they cost only the writes."""
        pkey = self._key("pooled", aug)
        bkey = self._key(boundary, aug) if boundary is not None else None
        pooled = self.cache.get(pkey)
        acts = self.cache.get(bkey) if bkey else None
        what = "pooled features" + (f" and {bkey.boundary}" if bkey else "")
        if pooled is not None and (bkey is None or acts is not None):
            return (self._rows(pooled), self._rows(acts),
                    f"activation cache hit: {what} ({aug.level}, {pkey.views} views)")
        t0 = time.perf_counter()
        names = [boundary] if bkey is not None and acts is None else []
        if self.cache.root is not None:  # extras only where they go to disk, not to memory
            room = _EXTRA_BUDGETS * self.cache_budget_mb * 2**20
            for b in sorted(self._expected, key=lambda b: self._entry_bytes(b, aug)):
                size = self._entry_bytes(b, aug)
                if (b not in names and size <= min(room, self.cache_budget_mb * 2**20)
                        and self.cache.get(self._key(b, aug)) is None):
                    names.append(b)
                    room -= size
        keys = {b: self._key(b, aug) for b in names}
        if pooled is None:
            keys["pooled"] = pkey
        out = self._compute(aug, keys, backbone)
        for name, key in keys.items():
            entry = self.cache.commit(key, out[name])
            if name == "pooled":
                pooled = entry
            elif name == boundary:
                acts = entry
        extra = [b for b in names if b != boundary]
        note = (f"activation cache computed: {what} ({aug.level}, {pkey.views} views)"
                + (f" and {len(extra)} expected boundaries" if extra else "")
                + f" in {time.perf_counter() - t0:.1f}s")
        return self._rows(pooled), self._rows(acts), note

    def _compute(self, aug: AugmentSpec, keys: dict[str, CacheKey], backbone: Any | None
                 ) -> dict[str, dict[str, RowWriter]]:
        """Run the frozen prefix over every training view and the validation images,
        writing the activations of ``keys`` (boundary names and ``"pooled"``)."""
        import tensorflow as tf

        bounds = [b for b in keys if b != "pooled"]
        prefix = build_prefix(self.spec, self.data.input_size, self.weights_source(), bounds,
                              self.seed, backbone)
        d = self.data
        views = self.views if aug.enabled else 1
        x_views, x_plain = (self._pool_images(),) * 2 if d.pool else (d.x_train, d.x_val)
        names = bounds + ["pooled"]  # the order of the prefix's outputs
        targets: dict[str, dict[str, RowWriter]] = {}
        for name, t in zip(names, prefix.outputs):
            if name in keys:  # outputs not asked for (already cached) are not kept
                targets[name] = self.cache.allocate(keys[name], {
                    "train": (views, len(x_views)) + tuple(t.shape[1:]),
                    "val": (len(x_plain),) + tuple(t.shape[1:])})

        size = d.input_size
        # augmentation traced apart from the backbone: one backbone trace serves augmented
        # and plain batches
        augment = tf.function(apply_params, autograph=False, input_signature=[
            tf.TensorSpec((None, size, size, 3), tf.uint8), tf.TensorSpec((None, 7), tf.float32)])

        @tf.function(autograph=False,
                     input_signature=[tf.TensorSpec((None, size, size, 3), tf.float32)])
        def forward(x):
            out = prefix(x, training=False)
            return [tf.cast(o, tf.float16) for o in (out if isinstance(out, list) else [out])]

        def fill(x: Rows, params: np.ndarray | None, split: str, first: int) -> None:
            for s, rows in x.chunks(INFERENCE_BATCH):
                img = (rows.astype(np.float32) if params is None
                       else augment(rows, params[s:s + len(rows)]))
                for name, o in zip(names, forward(img)):
                    if name in targets:
                        targets[name][split].write(first + s, o.numpy())

        fill(x_plain, None, "val", 0)
        n = len(x_views)
        for v in range(views):
            if d.pool and not aug.enabled:  # the pool's plain pass already made this view
                for w in targets.values():
                    for s in range(0, n, INFERENCE_BATCH):
                        rows = np.arange(s, min(n, s + INFERENCE_BATCH))
                        w["train"].write(v * n + s, w["val"].store.read(rows))
                continue
            params = (draw_params(aug, n, np.random.default_rng([self.seed, v, 23]))
                      if aug.enabled else None)
            fill(x_views, params, "train", v * n)
        return targets

    def _pool_images(self) -> Rows:
        """A fold's train + val images in pool order (see :class:`PoolRows`)."""
        d, pool = self.data, self.data.pool
        at = np.empty(pool.size, np.int64)
        at[pool.train] = np.arange(len(pool.train))
        at[pool.val] = len(pool.train) + np.arange(len(pool.val))
        return (d.x_train + d.x_val).take(at)

    def _rows(self, entry: dict | None) -> dict | None:
        """A cache entry as this runner's splits: a fold's rows of a pool entry."""
        pool = self.data.pool
        if entry is None or pool is None:
            return entry
        return {"train": tuple(v.take(pool.train) for v in entry["train"]),
                "val": entry["val"].take(pool.val)}
