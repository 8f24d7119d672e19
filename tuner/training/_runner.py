"""Run one trial (train + validate) or the final fit, fast on a CPU.

Trials train on cached activations of the frozen prefix
(:class:`~tuner.training._activations.CachedActivations`); see
``docs/training-recipe.md``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.backbones import (BackboneSpec, Boundary, WeightsSource, block_boundaries,
                               build_backbone, get_backbone, resolve_weights, set_bn_momentum)
from advisor.errors import ConfigError
from advisor.recommend import FreezePlan
from tuner.data import PreparedData
from tuner.final import REFIT_PROTOCOL, FinalRequest, FinalResult, check_exports, finish_final
from tuner.training._activations import CachedActivations
from tuner.training._augment import AugmentSpec, get_augmentation
from tuner.training._cache import ActivationCache
from tuner.training._fit import ArrayFeed, Best, ImageFeed, balanced_weights, fit_phase
from tuner.training._head import fit_head
from tuner.training._model import Network, build_network
from tuner.training._precision import precision_scope, use_mixed_precision
from tuner.training._spec import VIEWS, RunnerSpec
from tuner.trial import EpochRecord, TrialOutcome, TrialParams, check_params, phase_epochs

__all__ = ["TrialRunner", "SCRATCH_MAX_SIZE", "SCRATCH_BN_MOMENTUM"]

SCRATCH_MAX_SIZE = 128  # from-scratch training resizes larger inputs down to this
SCRATCH_BN_MOMENTUM = 0.9


@dataclass
class _Trained:
    """A trained network, still alive (the caller releases it)."""

    net: Network
    best: Best
    history: list[EpochRecord]
    notes: list[str] = field(default_factory=list)
    scratch: bool = False
    mixed_precision: bool = False


class TrialRunner(CachedActivations):
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

    @property
    def settings(self) -> RunnerSpec:
        """This runner's settings (what a worker process needs to build the same)."""
        return RunnerSpec(backbone=self.backbone, weights=self.weights, seed=self.seed,
                          cache_dir=str(self.cache_dir) if self.cache_dir else None,
                          views=self.views, cache_budget_mb=self.cache_budget_mb,
                          precision=self.precision)

    def _sibling(self, data: PreparedData) -> "TrialRunner":
        """A runner with this one's settings on other data."""
        return self.settings.build(data)

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
            try:
                plan = FreezePlan.from_code(fb, self.n_blocks, bounds)
            except ValueError:
                raise ConfigError("freeze_block out of range", expected=f"-1 .. {self.n_blocks}",
                                  received=str(fb), fix="pass blocks of this backbone") from None
            if plan.partial:  # only a partial freeze caches boundary activations
                names.append(plan.layer)
        self._expected = sorted(set(names), key=names.index)

    def class_weights(self) -> np.ndarray:
        """Balanced class weights of the training split (all 1.0 when balanced)."""
        return balanced_weights(self.data.y_train, self.data.n_classes)

    def _validate(self, params: TrialParams) -> AugmentSpec:
        check_params(params, self.n_blocks, self.backbone)
        if self.views < 1:
            raise ConfigError("The activation cache needs at least one view per image",
                              expected="views >= 1", received=str(self.views),
                              fix="pass views=4 (the default) or another positive count")
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
            self._release(collect=params.freeze_plan(self.n_blocks).trains_backbone)

    def fit_final(self, request: FinalRequest) -> FinalResult:
        """Retrain ``request.params`` (see :class:`~tuner.final.FinalRequest`), evaluate
        once on the test split and export the model."""
        export = check_exports(request.export)
        refit = request.refit_epochs
        t0 = time.perf_counter()
        trained = None
        runner = self._refit_runner() if refit else self
        try:
            trained = runner._train(request.params, None, final=True, refit=refit)
            if refit:
                trained.notes.append("refit on train + val: " + ", ".join(
                    f"{v} {k} epoch(s)" for k, v in refit.items()) + f" ({request.refit_from})")
            weights = ("random (from scratch)" if trained.scratch
                       else runner.weights_source().kind)
            return finish_final(
                trained.net.model, runner.data, runner.split("test", trained.scratch),
                params=request.params, backbone=runner.spec.name, weights=weights,
                val_accuracy=(request.search_val if refit and request.search_val is not None
                              else trained.best.accuracy),
                history=tuple(trained.history), notes=tuple(trained.notes),
                mixed_precision=trained.mixed_precision, out_dir=Path(request.out_dir),
                export=export, t0=t0, **({"protocol": REFIT_PROTOCOL} if refit else {}))
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
        plan = params.freeze_plan(self.n_blocks)
        if plan.scratch:
            net = build_network(self.spec, self.scratch_size, WeightsSource("random", None),
                                self.data.n_classes, params.dropout, None, seed=self.seed)
            net.backbone.trainable = True
            set_bn_momentum(net.backbone, SCRATCH_BN_MOMENTUM)
            return net
        bnd = self.boundaries()[plan.block]
        all_frozen = plan.all_frozen
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
        mixed = use_mixed_precision(self.precision)
        with precision_scope(mixed):
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

        plan = params.freeze_plan(self.n_blocks)
        if plan.scratch:
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

        all_frozen = plan.all_frozen
        bnd = self.boundaries()[plan.block]
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
