"""Run one trial (train + validate) or the final fit, fast on a CPU.

Trials train on cached activations of the frozen prefix
(:class:`~tuner.training._activations.CachedActivations`); see
``docs/training-recipe.md``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from advisor.backbones import (BackboneSpec, Boundary, WeightsSource, get_backbone,
                               resolve_weights, set_bn_momentum)
from advisor.errors import ConfigError
from advisor.recommend import FreezePlan
from tuner.data import PreparedData
from tuner.final import REFIT_PROTOCOL, FinalRequest, FinalResult, check_exports, finish_final
from tuner.training._activations import CachedActivations
from tuner.training._augment import AugmentSpec, get_augmentation
from tuner.training._cache import ActivationCache
from tuner.training._device import DeviceInfo, detect_device
from tuner.training._fit import balanced_weights, predict_rows
from tuner.training._layout import BackboneLayout
from tuner.training._lrcurve import LRFinding
from tuner.training._kept import KeptBackbone
from tuner.training._model import Network, build_network
from tuner.training._recipe import SCRATCH_BN_MOMENTUM, SCRATCH_MAX_SIZE, train_trial
from tuner.training._spec import VIEWS, RunnerSpec
from tuner.trial import TrialOutcome, TrialParams, check_params

__all__ = ["TrialRunner", "SCRATCH_MAX_SIZE", "SCRATCH_BN_MOMENTUM"]



class TrialRunner(CachedActivations):
    """Trains trials on one :class:`PreparedData`.

    ``views``: augmented views of each training image kept in the activation cache;
    ``cache_budget_mb``: above this size the boundary activations are not cached
    and fine-tuning runs the whole network on the images. ``precision``: ``"auto"``
    (mixed float16 when TensorFlow sees a GPU, else float32), ``"mixed"`` or
    ``"float32"``.
    """

    def __init__(self, data: PreparedData, *, backbone: str = "mobilenet_v2",
                 weights: str = "imagenet", seed: int = 0, cache_dir: str | Path | None = None,
                 views: int = VIEWS, cache_budget_mb: float = 1024,
                 precision: str = "auto") -> None:
        self.data = data
        self.backbone = backbone
        self.weights = weights
        self.seed = seed
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.views = views
        self.cache_budget_mb = cache_budget_mb
        self.precision = precision
        self._device: DeviceInfo | None = None
        self._cache: ActivationCache | None = None
        self._layout: BackboneLayout | None = None  # shared by the folds and the refit
        self._weights_source: WeightsSource | None = None
        self._expected: list[str] = []
        self._kept = KeptBackbone()  # the search trials' network parts, reset per trial

    def for_fold(self, k: int, i: int, seed: int) -> "TrialRunner":
        """A runner of the same backbone on :meth:`PreparedData.cv_fold` ``(k, i, seed)``,
        sharing this one's backbone analysis and cache folder."""
        r = self._sibling(self.data.cv_fold(k, i, seed))
        r._layout = self._layout
        return r

    @property
    def settings(self) -> RunnerSpec:
        """This runner's settings (what a worker process needs to build the same)."""
        return RunnerSpec(**{f.name: getattr(self, f.name) for f in fields(RunnerSpec)})

    @classmethod
    def from_spec(cls, spec: RunnerSpec, data: PreparedData) -> "TrialRunner":
        """A runner with the settings ``spec`` on ``data``."""
        return cls(data, **asdict(spec))

    def _sibling(self, data: PreparedData) -> "TrialRunner":
        """A runner with this one's settings on other data."""
        return TrialRunner.from_spec(self.settings, data)

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

    @property
    def layout(self) -> BackboneLayout:
        """The backbone's freeze boundaries and activation shapes at this input size."""
        if self._layout is None:
            self._layout = BackboneLayout.measure(self.spec, self.data.input_size)
        return self._layout

    def boundaries(self) -> list[Boundary]:
        """Freeze boundaries of the backbone: ``[input, block 1, ..., all frozen]``."""
        return list(self.layout.boundaries)

    @property
    def n_blocks(self) -> int:
        return self.boundaries()[-1].block

    @property
    def device(self) -> DeviceInfo:
        """The device this runner trains on, and why (detected once)."""
        if self._device is None:
            self._device = detect_device(self.precision)
        return self._device

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

    @property
    def kept_views(self) -> int:
        """How many kept suffix views the search trials have compiled (each keeps its
        traced steps for the later trials on it)."""
        return self._kept.compiled

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
            trained = train_trial(self, params, on_epoch)
            return self._outcome(trained, t0)
        finally:
            del trained
            self._release(collect=params.freeze_plan(self.n_blocks).trains_backbone)

    def run_tested(self, params: TrialParams) -> tuple[TrialOutcome, np.ndarray]:
        """Train like :meth:`run` (the best epoch on validation restored), then predict
        every test image: ``(outcome, probabilities)`` with one row per test image.

        The test split chooses nothing here (not the epoch, not the head), so its
        accuracy is an unbiased score of the trained configuration; the paired
        comparisons of :mod:`tuner.verify` are built on it."""
        t0 = time.perf_counter()
        self._validate(params)
        trained = None
        try:
            trained = train_trial(self, params, None, final=True)
            size = self.scratch_size if trained.scratch else self.data.input_size
            probs = predict_rows(trained.net.model, self.data.x_test, size)
            return self._outcome(trained, t0), probs
        finally:
            del trained
            self._release()

    def _outcome(self, trained, t0: float) -> TrialOutcome:
        """The trial's best validation result and history (``t0``: its start)."""
        best = trained.best
        return TrialOutcome(val_accuracy=best.accuracy, val_loss=best.loss,
                            epochs_run=len(trained.history),
                            seconds=round(time.perf_counter() - t0, 3),
                            history=tuple(trained.history), notes=tuple(trained.notes),
                            n_val=len(self.data.y_val))

    def find_lr(self, **kw: Any) -> "LRFinding":
        """:func:`~tuner.training.find_lr` on this runner (``kw``: its options)."""
        from tuner.training._lrfind import find_lr

        try:
            return find_lr(self, **kw)
        finally:
            self._release()

    def fit_final(self, request: FinalRequest) -> FinalResult:
        """Retrain ``request.params`` (see :class:`~tuner.final.FinalRequest`), evaluate
        once on the test split and export the model."""
        export = check_exports(request.export)
        refit = request.refit_epochs
        t0 = time.perf_counter()
        trained = None
        runner = self._refit_runner() if refit else self
        try:
            trained = train_trial(runner, request.params, None, final=True, refit=refit)
            if refit:
                trained.notes.append("refit on train + val: " + ", ".join(
                    f"{v} {k} epoch(s)" for k, v in refit.items()) + f" ({request.refit_from})")
            weights = ("random (from scratch)" if trained.scratch
                       else runner.weights_source().kind)
            size = runner.scratch_size if trained.scratch else runner.data.input_size
            probs = (predict_rows(trained.net.model, runner.data.x_test, size)
                     if len(runner.data.y_test) else None)
            return finish_final(
                trained.net.model, runner.data, probs, size,
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
        r._layout, r._weights_source = self.layout, self._weights_source
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
        if final or all_frozen:  # an exported model, or a head on cached features
            return build_network(self.spec, self.data.input_size, self.weights_source(),
                                 self.data.n_classes, params.dropout, None if all_frozen else bnd,
                                 seed=self.seed, head_only=all_frozen and not final,
                                 n_features=self.layout.shapes["pooled"][0])
        return self._kept.network(self.spec, self.data.input_size, self.weights_source(),
                                  self.data.n_classes, params.dropout, bnd, seed=self.seed)

    @property
    def scratch_size(self) -> int:
        return min(self.data.input_size, SCRATCH_MAX_SIZE)
