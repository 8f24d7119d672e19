"""The training recipe of one trial, on the runner's data, cache and backbone.

A pretrained trial trains its head on cached pooled features (NumPy, no keras fit),
then, unless everything is frozen, fine-tunes the layers after its freeze boundary on
the cached boundary activations (on the images when they exceed the cache budget),
all at once or gradually: block groups unfrozen from the top in stages, each stage on
the activations at its own boundary (the layers below a stage's boundary have not
trained yet, so their cached activations still hold).
From scratch trains the whole network on the images at a smaller size, with faster
BatchNorm statistics. See ``docs/training-recipe.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuner.training._fit import ArrayFeed, Best, ImageFeed, fit_phase
from tuner.training._head import fit_head
from tuner.training._model import Network
from tuner.training._optim import OptimizerSpec, layer_rate_scales
from tuner.training._precision import precision_scope, use_mixed_precision
from tuner.trial import EpochRecord, TrialParams, gradual_stages, phase_epochs, stage_epochs

__all__ = ["Trained", "train_trial", "SCRATCH_MAX_SIZE", "SCRATCH_BN_MOMENTUM"]

SCRATCH_MAX_SIZE = 128  # from-scratch training resizes larger inputs down to this
SCRATCH_BN_MOMENTUM = 0.9


@dataclass
class Trained:
    """A trained network, still alive (the caller releases it)."""

    net: Network
    best: Best
    history: list[EpochRecord]
    notes: list[str] = field(default_factory=list)
    scratch: bool = False
    mixed_precision: bool = False


def train_trial(runner: Any, params: TrialParams,
                on_epoch: Callable[[int, float], None] | None, final: bool = False,
                refit: dict[str, int] | None = None) -> Trained:
    """Train ``params`` with the data, cache and backbone of ``runner`` (a
    :class:`~tuner.training.TrialRunner`; see the module docstring). ``final`` builds
    the whole network even for a feature extractor (it is exported); ``refit`` trains
    exactly those epochs per phase and keeps the last state."""
    aug = runner._validate(params)
    mixed = use_mixed_precision(runner.precision)
    with precision_scope(mixed):
        net = runner._build(params, final)
    d = runner.data
    y = np.eye(d.n_classes, dtype=np.float32)[d.y_train]
    cw = runner.class_weights()
    w = cw[d.y_train]
    notes = [f"mixed_precision: {mixed}"]
    if not np.allclose(cw[cw > 0], 1.0):
        notes.append("class weights (balanced): " + ", ".join(
            f"{c}={cw[i]:.3g}" for i, c in enumerate(d.classes)))
    history: list[EpochRecord] = []
    common = dict(patience=params.patience, batch_size=params.batch_size,
                  label_smoothing=params.label_smoothing, seed=runner.seed,
                  history=history, on_epoch=on_epoch, keep_last=refit is not None)

    plan = params.freeze_plan(runner.n_blocks)
    if plan.scratch:
        # every layer is a backbone layer here: backbone_lr (the search space gives
        # it a from-scratch range) trains all of them, head included
        notes.append(f"from scratch at {runner.scratch_size}px, BatchNorm momentum "
                     f"{SCRATCH_BN_MOMENTUM}, lr {params.backbone_lr}")
        best = fit_phase(net.model, ImageFeed(d.x_train, y, w, aug, size=runner.scratch_size),
                         d.x_val, d.y_val, phase="scratch",
                         lr=params.backbone_lr,
                         epochs=refit.get("scratch", 1) if refit else params.epochs,
                         start_epoch=0, best=None,
                         **common)
        return Trained(net, best, history, notes, scratch=True, mixed_precision=mixed)

    all_frozen = plan.all_frozen
    n_head, n_ft = phase_epochs(params, all_frozen)
    stages = (gradual_stages(plan.block, runner.n_blocks)
              if params.schedule == "gradual" and not all_frozen else (plan.block,))
    epochs = stage_epochs(max(1, n_ft), len(stages))
    stages = stages[-len(epochs):]  # fewer epochs than stages: the deepest stages
    if refit:
        n_head, n_ft = refit.get("head", 1), refit.get("finetune", 0)
        # the search's schedule up to the refit's epochs: the stages it had reached
        epochs = _first_epochs(epochs, n_ft) if n_ft > 0 else epochs
        stages = stages[:len(epochs)]
    # the first stage's activations come with the pooled features, in the same pass
    first = runner.boundaries()[stages[0]]
    first_cached = _cached_suffix(runner, net, first, aug)
    pooled, acts, cache_note = runner._activations(first.name if first_cached else None, aug,
                                                   net.backbone)
    notes.append(cache_note)

    head_common = dict(common, patience=params.head_patience or params.patience)
    # NumPy, not keras fit: same recipe, without a compile and trace per trial
    best = fit_head(net.head, ArrayFeed(pooled["train"], y, w), pooled["val"], d.y_val,
                    dropout=params.dropout, lr=params.head_lr, epochs=n_head, start_epoch=0,
                    best=None, **head_common)
    if all_frozen or n_ft < 1:
        return Trained(net, best, history, notes, mixed_precision=mixed)
    opt = OptimizerSpec(params.optimizer, params.weight_decay,
                        layer_rate_scales(net.backbone, runner.boundaries(), params.layer_decay))
    if opt.name != "adam" or opt.weight_decay or opt.scales:
        notes.append(f"fine-tuning with {opt.label} at {params.finetune_lr:.3g}"
                     + (f", weight decay {opt.weight_decay:g}" if opt.weight_decay else "")
                     + (f", layer decay {params.layer_decay:g}" if opt.scales else ""))
    if len(stages) > 1:
        notes.append("gradual unfreezing: blocks " + ", ".join(
            f"{runner.n_blocks - b} ({e} epochs)" for b, e in zip(stages, epochs))
            + " trainable from the top")
    for i, (block, n_epochs) in enumerate(zip(stages, epochs)):
        stage = runner.boundaries()[block]
        cached = first_cached if i == 0 else _cached_suffix(runner, net, stage, aug)
        if i > 0 and cached:
            # a fresh prefix: the top layers of net.backbone have been trained by now
            _, acts, cache_note = runner._activations(stage.name, aug, None)
            notes.append(cache_note)
        elif not cached and 0 <= stage.index < len(net.backbone.layers) - 1:
            # a boundary with a suffix view, over the budget (no model built to find out)
            notes.append(f"boundary activations of {stage.name} exceed the cache budget "
                         f"({runner.cache_budget_mb} MB): fine-tuning runs on the images")
        net.freeze_through(stage.index)
        if cached:
            model, feed, x_val = (net.suffix_at(stage, opt.name), ArrayFeed(acts["train"], y, w),
                                  acts["val"])
        else:
            model, feed, x_val = net.model, ImageFeed(d.x_train, y, w, aug), d.x_val
        # a kept view keeps its traced steps (the image model's trainable layers vary)
        best = fit_phase(model, feed, x_val, d.y_val, phase="finetune", lr=params.finetune_lr,
                         epochs=n_epochs, start_epoch=len(history), best=best, optimizer=opt,
                         reuse=cached and net.kept is not None, **common)
    return Trained(net, best, history, notes, mixed_precision=mixed)


def _first_epochs(planned: tuple[int, ...], total: int) -> tuple[int, ...]:
    """The stage epochs of ``planned`` that the first ``total`` epochs cover (the last
    stage reached takes the rest, all of it when ``total`` exceeds the plan)."""
    out: list[int] = []
    for e in planned:
        left = total - sum(out)
        if left <= 0:
            break
        out.append(min(e, left))
    out[-1] += total - sum(out)
    return tuple(out)


def _cached_suffix(runner: Any, net: Network, boundary: Any, aug: Any) -> bool:
    """True when fine-tuning from ``boundary`` trains on its cached activations (it has a
    suffix view and they fit the cache budget)."""
    return (net.backbone is not None and not boundary.name == "input"
            and boundary.index < len(net.backbone.layers) - 1
            and runner._fits_budget(boundary.name, aug))
