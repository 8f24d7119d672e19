"""Run one trial (train + validate) or the final fit, fast on a CPU.

The frozen part of the backbone runs once per run, not once per epoch per trial:
its activations (pooled features, and the activation at the trial's freeze
boundary) are cached, K augmented views per training image, and the trainable
rest trains on them. See ``docs/training-recipe.md``.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from advisor.backbones import (
    BackboneSpec,
    Boundary,
    WeightsSource,
    block_boundaries,
    build_backbone,
    get_backbone,
    resolve_weights,
    set_bn_momentum,
)
from advisor.errors import ConfigError
from tuner._augment import AugmentSpec, apply_params, draw_params, get_augmentation
from tuner._cache import ActivationCache, CacheKey
from tuner._data import PreparedData
from tuner._head import fit_head
from tuner._model import Network, build_network, build_prefix
from tuner._results import REFIT_FROM_SEARCH
from tuner._train import ArrayFeed, Best, ImageFeed, balanced_weights, fit_phase
from tuner._types import EpochRecord, TrialOutcome, TrialParams, head_phase_epochs

__all__ = ["TrialRunner", "VIEWS", "SCRATCH_MAX_SIZE", "SCRATCH_BN_MOMENTUM"]

VIEWS = 4  # augmented views cached per training image (one is picked per epoch)
SCRATCH_MAX_SIZE = 128  # from-scratch training resizes larger inputs down to this
SCRATCH_BN_MOMENTUM = 0.9
_CACHE_BATCH = 64
_EXTRA_BUDGETS = 1  # expected boundaries written in one pass: at most this many budgets


def phase_epochs(params: TrialParams, all_frozen: bool) -> tuple[int, int]:
    """Planned epochs of the linear-probe (head) phase and of the fine-tune phase
    (see :class:`TrialParams`)."""
    if params.head_epochs is not None:
        return params.head_epochs, 0 if all_frozen else params.epochs
    if all_frozen:
        return params.epochs, 0
    n_head = head_phase_epochs(params.epochs)
    return n_head, max(1, params.epochs - n_head)


def gpu_available() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextlib.contextmanager
def _precision(mixed: bool) -> Iterator[None]:
    import keras

    old = keras.mixed_precision.dtype_policy()
    if mixed:
        keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(old)


@dataclass
class _Trained:
    """A trained network, still alive (the caller releases it)."""

    net: Network
    best: Best
    history: list[EpochRecord]
    notes: list[str] = field(default_factory=list)
    scratch: bool = False
    mixed_precision: bool = False


class TrialRunner:
    """Trains trials on one :class:`PreparedData`.

    ``views``: augmented views of each training image kept in the activation cache;
    ``cache_budget_mb``: above this size the boundary activations are not cached
    and fine-tuning runs the whole network on the images. ``precision``: ``"auto"``
    (mixed float16 when TensorFlow sees a GPU, else float32), ``"mixed"`` or
    ``"float32"``.
    """

    def __init__(self, data: PreparedData, *, backbone: str = "mobilenet_v2",
                 weights: str = "imagenet", seed: int = 0, cache_dir: Path | None = None,
                 views: int = VIEWS, cache_budget_mb: float = 1024,
                 precision: str = "auto") -> None:
        self.data = data
        self.backbone = backbone
        self.weights = weights
        self.seed = seed
        self.cache_dir = cache_dir
        self.views = views
        self.cache_budget_mb = cache_budget_mb
        self.precision = precision
        self._cache: ActivationCache | None = None
        self._boundaries: list[Boundary] | None = None
        self._shapes: dict[str, tuple[int, ...]] = {}
        self._weights_source: WeightsSource | None = None
        self._small: dict[str, np.ndarray] | None = None
        self._expected: list[str] = []

    def for_fold(self, k: int, i: int, seed: int) -> "TrialRunner":
        """A runner of the same backbone on :meth:`PreparedData.cv_fold` ``(k, i, seed)``,
        sharing this one's backbone analysis and cache folder."""
        r = self._sibling(self.data.cv_fold(k, i, seed))
        if self._boundaries is not None:
            r._boundaries, r._shapes = list(self._boundaries), dict(self._shapes)
        return r

    def _sibling(self, data: PreparedData) -> "TrialRunner":
        """A runner with this one's settings on other data."""
        return TrialRunner(data, backbone=self.backbone, weights=self.weights, seed=self.seed,
                           cache_dir=self.cache_dir, views=self.views,
                           cache_budget_mb=self.cache_budget_mb, precision=self.precision)

    def close(self) -> None:
        """Nothing to release in process (the worker runner's interface)."""

    # ----------------------------------------------------------------- basics
    @property
    def spec(self) -> BackboneSpec:
        return get_backbone(self.backbone)

    @property
    def cache(self) -> ActivationCache:
        """The activation cache (``computed``/``loaded`` count its entries)."""
        if self._cache is None:
            self._cache = ActivationCache(self.cache_dir)
        return self._cache

    def weights_source(self) -> WeightsSource:
        """The resolved pretrained weights (``WeightsError`` when unavailable)."""
        if self._weights_source is None:
            self._weights_source = resolve_weights(self.spec, self.weights)
        return self._weights_source

    def boundaries(self) -> list[Boundary]:
        """Freeze boundaries of the backbone: ``[input, block 1, ..., all frozen]``."""
        if self._boundaries is None:
            import keras

            model = build_backbone(self.spec, self.data.input_size, WeightsSource("random", None))
            self._boundaries = block_boundaries(model, self.spec)
            self._shapes = {b.name: tuple(model.layers[b.index].output.shape[1:])
                            for b in self._boundaries if b.index >= 0}
            self._shapes["pooled"] = (int(model.output.shape[-1]),)
            del model
            keras.backend.clear_session()
        return list(self._boundaries)

    @property
    def n_blocks(self) -> int:
        return self.boundaries()[-1].block

    def expect(self, freeze_blocks) -> None:
        """Announce the freeze blocks a sweep will try: the first cache pass of each
        augmentation level then stores the activations of all of them (when a
        ``cache_dir`` is set and each fits the budget), instead of one pass per block."""
        bounds = self.boundaries()
        names = []
        for fb in freeze_blocks:
            if not -1 <= fb <= self.n_blocks:
                raise ConfigError("freeze_block out of range", expected=f"-1 .. {self.n_blocks}",
                                  received=str(fb), fix="pass blocks of this backbone")
            b = bounds[fb] if fb >= 0 else None
            if b is not None and 0 <= b.index and fb < self.n_blocks:
                names.append(b.name)
        self._expected = sorted(set(names), key=names.index)

    def _mixed_precision(self) -> bool:
        if self.precision not in ("auto", "mixed", "float32"):
            raise ConfigError("Unknown precision", expected='"auto", "mixed" or "float32"',
                              received=repr(self.precision), fix='leave it at "auto"')
        return gpu_available() if self.precision == "auto" else self.precision == "mixed"

    def class_weights(self) -> np.ndarray:
        """Balanced class weights of the training split (all 1.0 when balanced)."""
        return balanced_weights(self.data.y_train, self.data.n_classes)

    def _validate(self, params: TrialParams) -> AugmentSpec:
        n = self.n_blocks
        if not -1 <= params.freeze_block <= n:
            raise ConfigError("freeze_block out of range", expected=f"-1 (scratch) .. {n}",
                              received=str(params.freeze_block),
                              fix=f"pick a block between 0 and {n} of {self.backbone}")
        bad = [k for k in ("head_lr", "backbone_lr") if not getattr(params, k) > 0]
        bad += [k for k in ("batch_size", "epochs", "patience") if getattr(params, k) < 1]
        bad += [k for k in ("head_epochs", "head_patience")
                if getattr(params, k) is not None and getattr(params, k) < 1]
        if not 0.0 <= params.dropout < 1.0:
            bad.append("dropout")
        if not 0.0 <= params.label_smoothing < 1.0:
            bad.append("label_smoothing")
        if self.views < 1:
            raise ConfigError("The activation cache needs at least one view per image",
                              expected="views >= 1", received=str(self.views),
                              fix="pass views=4 (the default) or another positive count")
        if bad:
            raise ConfigError(f"Invalid trial parameters {bad}",
                              expected="positive learning rates, batch size, epochs and patience "
                                       "(head_epochs and head_patience too when set); "
                                       "dropout and label smoothing in [0, 1)",
                              received=str({k: getattr(params, k) for k in bad}),
                              fix="fix the search space")
        return get_augmentation(params.augmentation)

    # ------------------------------------------------------------- public API
    def run(self, params: TrialParams,
            on_epoch: Callable[[int, float], None] | None = None) -> TrialOutcome:
        """Train one configuration and return its best validation accuracy.

        ``on_epoch(epoch, val_accuracy)`` runs after every epoch; an exception it
        raises (e.g. ``optuna.TrialPruned``) stops the trial and propagates.
        """
        t0 = time.perf_counter()
        self._validate(params)
        trained = None
        try:
            trained = self._train(params, on_epoch)
            best = trained.best
            return TrialOutcome(val_accuracy=best.accuracy, val_loss=best.loss,
                                epochs_run=len(trained.history),
                                seconds=round(time.perf_counter() - t0, 3),
                                history=tuple(trained.history), notes=tuple(trained.notes),
                                n_val=len(self.data.y_val))
        finally:
            del trained
            self._release(collect=params.freeze_block != self.n_blocks)

    def fit_final(self, params: TrialParams, out_dir: Path, *,
                  export: tuple[str, ...] = ("keras",),
                  refit_epochs: dict[str, int] | None = None, search_val: float | None = None,
                  refit_from: str = REFIT_FROM_SEARCH):
        """Retrain ``params``, evaluate once on the test split and export the model;
        returns a :class:`~tuner._final.FinalResult`.

        Without ``refit_epochs``: the trial protocol (train split, early stopping on
        val). With it (``{"head": n, "finetune": m}`` or ``{"scratch": n}``, the best
        trial's epochs up to its best epoch, see :func:`~tuner._results.refit_epochs`):
        train on train + val for exactly those epochs, keeping the last state;
        ``search_val`` is then the validation accuracy the search saw, and
        ``refit_from`` says in the final notes where the epoch counts came from.
        """
        from tuner._final import EXPORT_FORMATS, REFIT_PROTOCOL, finish_final

        unknown = [e for e in export if e not in EXPORT_FORMATS]
        if unknown:
            raise ConfigError(f"Unknown export format(s) {unknown}",
                              expected=f"some of {list(EXPORT_FORMATS)}", received=str(list(export)),
                              fix="pass --export keras,savedmodel,tflite or a subset")
        t0 = time.perf_counter()
        trained = None
        runner = self._refit_runner() if refit_epochs else self
        try:
            trained = runner._train(params, None, final=True, refit=refit_epochs)
            if not refit_epochs:
                return finish_final(runner, params, trained, Path(out_dir), export, t0)
            trained.notes.append("refit on train + val: " + ", ".join(
                f"{v} {k} epoch(s)" for k, v in refit_epochs.items())
                + f" ({refit_from})")
            return finish_final(runner, params, trained, Path(out_dir), export, t0,
                                val_accuracy=search_val, protocol=REFIT_PROTOCOL)
        finally:
            del trained
            self._release()

    def _refit_runner(self) -> "TrialRunner":
        """A runner on train + val (its own activation-cache entries), sharing this
        one's backbone analysis and weights."""
        r = self._sibling(self.data.with_val_in_train())
        self.boundaries()
        r._boundaries, r._shapes = self._boundaries, self._shapes
        r._weights_source = self._weights_source
        return r

    def build(self, params: TrialParams) -> Network:
        """The untrained network of ``params`` (the caller releases it with
        ``keras.backend.clear_session()``)."""
        self._validate(params)
        return self._build(params)

    # --------------------------------------------------------------- internals
    @staticmethod
    def _release(collect: bool = True) -> None:
        """Drop keras' global state; ``collect`` also runs the garbage collector (0.2..1 s:
        worth it after a trial that built a backbone, not after a head alone)."""
        import keras

        keras.backend.clear_session(free_memory=False)
        if collect:
            gc.collect()

    def _build(self, params: TrialParams, final: bool = False) -> Network:
        """The trial's network; a feature-extractor trial gets only its head unless
        ``final`` (the exported model needs the backbone)."""
        if params.freeze_block == -1:
            net = build_network(self.spec, self.scratch_size, WeightsSource("random", None),
                                self.data.n_classes, params.dropout, None, seed=self.seed)
            net.backbone.trainable = True
            set_bn_momentum(net.backbone, SCRATCH_BN_MOMENTUM)
            return net
        bnd = self.boundaries()[params.freeze_block]
        all_frozen = params.freeze_block == self.n_blocks
        return build_network(self.spec, self.data.input_size, self.weights_source(),
                             self.data.n_classes, params.dropout, None if all_frozen else bnd,
                             seed=self.seed, head_only=all_frozen and not final,
                             n_features=self._shapes["pooled"][0])

    @property
    def scratch_size(self) -> int:
        return min(self.data.input_size, SCRATCH_MAX_SIZE)

    def split(self, name: str, scratch: bool = False) -> np.ndarray:
        """Images of split ``name`` at the size the model of the trial takes."""
        x = getattr(self.data, f"x_{name}")
        if not scratch or self.scratch_size == self.data.input_size:
            return x
        if self._small is None:
            self._small = {}
        if name not in self._small:
            import tensorflow as tf

            s = self.scratch_size
            small = tf.image.resize(x, (s, s), antialias=True) if len(x) else np.zeros((0, s, s, 3))
            self._small[name] = np.clip(np.round(np.asarray(small)), 0, 255).astype(np.uint8)
        return self._small[name]

    def _train(self, params: TrialParams, on_epoch: Callable[[int, float], None] | None,
               final: bool = False, refit: dict[str, int] | None = None) -> _Trained:
        aug = self._validate(params)
        mixed = self._mixed_precision()
        with _precision(mixed):
            net = self._build(params, final)
        d = self.data
        y = np.eye(d.n_classes, dtype=np.float32)[d.y_train]
        cw = self.class_weights()
        w = cw[d.y_train]
        notes = [f"mixed_precision: {mixed}"]
        if not np.allclose(cw[cw > 0], 1.0):
            notes.append("class weights (balanced): " + ", ".join(
                f"{c}={cw[i]:.3g}" for i, c in enumerate(d.classes)))
        history: list[EpochRecord] = []
        common = dict(patience=params.patience, batch_size=params.batch_size,
                      label_smoothing=params.label_smoothing, seed=self.seed,
                      history=history, on_epoch=on_epoch, keep_last=refit is not None)

        if params.freeze_block == -1:
            # every layer is a backbone layer here: backbone_lr (the search space gives
            # it a from-scratch range) trains all of them, head included
            notes.append(f"from scratch at {self.scratch_size}px, BatchNorm momentum "
                         f"{SCRATCH_BN_MOMENTUM}, lr {params.backbone_lr}")
            best = fit_phase(net.model, ImageFeed(self.split("train", True), y, w, aug),
                             self.split("val", True).astype(np.float32), d.y_val, phase="scratch",
                             lr=params.backbone_lr,
                             epochs=refit.get("scratch", 1) if refit else params.epochs,
                             start_epoch=0, best=None,
                             **common)
            return _Trained(net, best, history, notes, scratch=True, mixed_precision=mixed)

        all_frozen = params.freeze_block == self.n_blocks
        bnd = self.boundaries()[params.freeze_block]
        cached_suffix = net.suffix is not None and self._fits_budget(bnd.name, aug)
        if net.suffix is not None and not cached_suffix:
            notes.append(f"boundary activations of {bnd.name} exceed the cache budget "
                         f"({self.cache_budget_mb} MB): fine-tuning runs on the images")
        pooled, acts, cache_note = self._activations(bnd.name if cached_suffix else None, aug,
                                                     net.backbone)
        notes.append(cache_note)

        n_head, n_ft = phase_epochs(params, all_frozen)
        if refit:
            n_head, n_ft = refit.get("head", 1), refit.get("finetune", 0)
        head_common = dict(common, patience=params.head_patience or params.patience)
        # NumPy, not keras fit: same recipe, without a compile and trace per trial
        best = fit_head(net.head, ArrayFeed(pooled["train"], y, w), pooled["val"], d.y_val,
                        dropout=params.dropout, lr=params.head_lr, epochs=n_head, start_epoch=0,
                        best=None, **head_common)
        if not all_frozen and n_ft > 0:
            net.freeze_through(bnd.index)
            if cached_suffix:
                model, feed, x_val = net.suffix, ArrayFeed(acts["train"], y, w), acts["val"]
            else:
                model, feed = net.model, ImageFeed(d.x_train, y, w, aug)
                x_val = d.x_val.astype(np.float32)
            best = fit_phase(model, feed, x_val, d.y_val, phase="finetune", lr=params.backbone_lr,
                             epochs=n_ft, start_epoch=len(history), best=best, **common)
        return _Trained(net, best, history, notes, mixed_precision=mixed)

    # ---------------------------------------------------------------- caching
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
        return n * math.prod(self._shapes[boundary]) * 2

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
                 ) -> dict[str, dict[str, np.ndarray]]:
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
        targets: dict[str, dict[str, np.ndarray]] = {}
        for name, t in zip(names, prefix.outputs):
            shapes = {"train": (views, len(x_views)) + tuple(t.shape[1:]),
                      "val": (len(x_plain),) + tuple(t.shape[1:])}
            targets[name] = (self.cache.allocate(keys[name], shapes) if name in keys
                             else {k: np.empty(v, np.float16) for k, v in shapes.items()})

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

        def fill(x: np.ndarray, params: np.ndarray | None, dest: dict[str, np.ndarray]) -> None:
            for s in range(0, len(x), _CACHE_BATCH):
                b = slice(s, s + _CACHE_BATCH)
                img = x[b].astype(np.float32) if params is None else augment(x[b], params[b])
                for name, o in zip(names, forward(img)):
                    dest[name][b] = o.numpy()

        fill(x_plain, None, {n: targets[n]["val"] for n in names})
        for v in range(views):
            if d.pool and not aug.enabled:  # the pool's plain pass already made this view
                for n in names:
                    targets[n]["train"][v] = targets[n]["val"]
                continue
            params = (draw_params(aug, len(x_views), np.random.default_rng([self.seed, v, 23]))
                      if aug.enabled else None)
            fill(x_views, params, {n: targets[n]["train"][v] for n in names})
        return targets

    def _pool_images(self) -> np.ndarray:
        """A fold's train + val images in pool order (see :class:`PoolRows`)."""
        d, pool = self.data, self.data.pool
        x = np.empty((pool.size,) + d.x_train.shape[1:], d.x_train.dtype)
        x[pool.train], x[pool.val] = d.x_train, d.x_val
        return x

    def _rows(self, entry: dict[str, np.ndarray] | None) -> dict[str, np.ndarray] | None:
        """A cache entry as this runner's splits: a fold's rows of a pool entry."""
        pool = self.data.pool
        if entry is None or pool is None:
            return entry
        return {"train": entry["train"][:, pool.train], "val": entry["val"][pool.val]}
