"""The equal training budget used to check advice against real outcomes.

Shared by ``tladvise --verify`` (:mod:`tuner.verify._verify`) and the ground-truth
harness ``benchmarks/scenario_truth.py``, so both train every scenario the same
way; see ``docs/ground-truth.md``.

* Data: validation is the dataset's ``val/`` folder, or else a stratified
  ``val_fraction`` of the images (seeded); training is the rest (a ``test/``
  folder is not used), capped to ``max_train`` images, stratified per class.
* Every pretrained scenario trains at the same ``input_size``; from scratch
  trains the same architecture at ``min(input_size, 128)`` px with BatchNorm
  momentum 0.9 (what :class:`~tuner.training._runner.TrialRunner` does for a
  from-scratch :class:`~advisor.recommend.FreezePlan`).
* Every pretrained scenario first trains its head on the cached features to
  convergence: up to ``head_epochs`` epochs, early stopping with ``head_patience``
  (seconds, not minutes, on cached features). A feature extractor stops there; the
  others then fine-tune for up to ``finetune_epochs`` with ``patience`` (by default
  equal, so fine-tuning always gets all its epochs: its first epoch often dips below
  the converged head before it climbs). From scratch trains ``epochs`` end to end
  with ``patience``. The best epoch of both phases is restored. ``head_epochs=None``
  gives the older equal-epoch budget: ``epochs`` in all, a third of them on the
  head. ``light`` augmentation (without flips where the advice says so, as
  ``tltune`` does: :func:`for_advice`), batch 32, one seed.
* Learning rates: a fixed rule, the geometric middle of the ranges the advisor's
  rule gives each scenario family (:data:`advisor.recommend.LR_RANGES`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from advisor import AdviceResult
from advisor.backbones import Boundary
from advisor.codec import Record
from advisor.errors import ConfigError
from advisor.recommend import FITTED_RULE, LR_RANGES, FreezePlan, boundary_at_fraction
from tuner.training import NO_FLIP
from tuner.data import PreparedData, prepare_data, stratified_holdout, stratified_sample
from tuner.trial import TrialParams, phase_epochs

__all__ = ["PILOT_INPUT_SIZE", "PilotBudget", "LEARNING_RATES", "pilot_data", "scenario_params",
           "partial_boundary", "freeze_plan_of", "for_advice", "planned_epochs"]

# (head_lr, backbone_lr): geometric middles of the advisor's ranges per family; a
# feature extractor (no backbone range) carries the head's, which it never uses.
LEARNING_RATES: dict[str, tuple[float, float]] = {
    s: (head.middle, (backbone or head).middle) for s, (head, backbone) in LR_RANGES.items()}

PILOT_INPUT_SIZE = 128  # every scenario of a pilot trains at this side (CPU minutes)


@dataclass(frozen=True)
class PilotBudget(Record):
    """One training budget, applied identically to every scenario."""

    input_size: int = PILOT_INPUT_SIZE
    max_train: int | None = 600
    epochs: int = 6
    patience: int = 4
    head_epochs: int | None = 30
    head_patience: int = 5
    finetune_epochs: int = 4
    batch_size: int = 32
    augmentation: str = "light"
    val_fraction: float = 0.2



def for_advice(budget: PilotBudget, result: AdviceResult) -> PilotBudget:
    """``budget`` with the advice's augmentation constraint: no flips when the
    advice says none (grayscale content), like the search space of ``tltune``."""
    if result.advice.augmentation.flip == "none" and budget.augmentation != "off" \
            and not budget.augmentation.endswith(NO_FLIP):
        return replace(budget, augmentation=budget.augmentation + NO_FLIP)
    return budget


def planned_epochs(params: TrialParams, n_blocks: int) -> int:
    """Most epochs ``params`` can train for (both phases; from scratch: ``epochs``)."""
    plan = params.freeze_plan(n_blocks)
    if plan.scratch:
        return params.epochs
    return sum(phase_epochs(params, plan.all_frozen))


def pilot_data(path: str | Path, budget: PilotBudget, *, seed: int = 0,
               max_images: int | None = None, cache_dir: Path | None = None) -> PreparedData:
    """Decode ``path`` once and split it as the module docstring says.

    ``max_images`` first takes a stratified subsample of the whole dataset (per split
    and class); ``budget.max_train`` then caps the training split alone.
    """
    if budget.max_train is not None and budget.max_train < 2:
        raise ConfigError("The training cap is too small", expected="at least 2 images",
                          received=str(budget.max_train), fix="raise max_train or pass None")
    d = prepare_data(path, input_size=budget.input_size, val_fraction=budget.val_fraction,
                     seed=seed, max_images=max_images, cache_dir=cache_dir)
    parts_x, parts_y, parts_f = [d.x_train], [d.y_train], list(d.files_train)
    if not d.split_source["test"].startswith("folder"):  # a hold-out of train: give it back
        parts_x.append(d.x_test)
        parts_y.append(d.y_test)
        parts_f += d.files_test
    val_folder = d.split_source["val"].startswith("folder")
    if not val_folder:  # re-draw one hold-out of the whole pool
        parts_x.append(d.x_val)
        parts_y.append(d.y_val)
        parts_f += d.files_val
    x, y = sum(parts_x[1:], parts_x[0]), np.concatenate(parts_y)  # Rows: no copy
    notes = list(d.notes)
    source = dict(d.split_source)
    source["test"] = ("folder test/, unused" if d.split_source["test"].startswith("folder")
                      else "none (the tuner's test hold-out went back to training)")
    if val_folder:
        train_idx = np.arange(len(y))
        x_val, y_val, f_val = d.x_val, d.y_val, d.files_val
    else:
        train_idx, val_idx, n = stratified_holdout(y, budget.val_fraction, seed, "pilot-val")
        notes += n
        x_val, y_val, f_val = x.take(val_idx), y[val_idx], tuple(parts_f[i] for i in val_idx)
        source["val"] = f"stratified {budget.val_fraction:.0%} of the images, seed {seed}"
    source["train"] = "the images not used for validation (test/ folder unused)"
    if budget.max_train is not None and len(train_idx) > budget.max_train:
        keep = stratified_sample(y[train_idx], budget.max_train, seed, salt=41)
        source["train"] += f"; stratified cap of {len(keep)} of {len(train_idx)}, seed {seed}"
        train_idx = train_idx[keep]
    f_train = tuple(parts_f[i] for i in train_idx)
    h = hashlib.sha1(json.dumps([d.fingerprint, f_train, list(f_val)]).encode())
    return replace(d, x_train=x.take(train_idx), y_train=y[train_idx], x_val=x_val, y_val=y_val,
                   x_test=x.take(slice(0, 0)), y_test=np.zeros(0, np.int32), files_train=f_train,
                   files_val=tuple(f_val), files_test=(), split_source=source,
                   fingerprint=h.hexdigest()[:16], notes=tuple(notes))


def scenario_params(scenario: str, freeze: FreezePlan, budget: PilotBudget) -> TrialParams:
    """The trial of ``scenario`` with the plan ``freeze`` under ``budget`` (fixed LR rule)."""
    if scenario not in LEARNING_RATES:
        raise ConfigError(f"Unknown scenario {scenario!r}", expected=f"one of {list(LEARNING_RATES)}",
                          received=repr(scenario), fix="use a scenario name from the advice")
    head_lr, backbone_lr = LEARNING_RATES[scenario]
    p = TrialParams(freeze_block=freeze.code, head_lr=head_lr, backbone_lr=backbone_lr,
                    augmentation=budget.augmentation, batch_size=budget.batch_size,
                    epochs=budget.epochs, patience=budget.patience)
    if scenario == "from_scratch" or budget.head_epochs is None:
        return p
    return replace(p, epochs=budget.finetune_epochs, head_epochs=budget.head_epochs,
                   head_patience=budget.head_patience)


TOP_BLOCKS_FRACTION = 0.75  # the pilot's partial freeze when the rule's fine-tune is a full one


def partial_boundary(result: AdviceResult, boundaries: list[Boundary]) -> Boundary:
    """The partial-freeze boundary of the advice: its own when it recommends
    partial_freeze, else the fitted rule's partial depth
    (:data:`advisor.recommend.FITTED_RULE`), or the top quarter of the blocks when the
    rule's fine-tune is a full one."""
    a = result.advice
    _check_backbone(result, boundaries)
    if a.scenario == "partial_freeze":
        return boundaries[a.freeze.block]
    frac = FITTED_RULE.fraction if FITTED_RULE.scenario == "partial_freeze" else TOP_BLOCKS_FRACTION
    return boundary_at_fraction(boundaries, frac)


def freeze_plan_of(scenario: str, result: AdviceResult, boundaries: list[Boundary]) -> FreezePlan:
    """The freeze plan that trains ``scenario`` for this advice (partial_freeze: at
    :func:`partial_boundary`)."""
    partial = partial_boundary(result, boundaries) if scenario == "partial_freeze" else None
    return FreezePlan.for_scenario(scenario, boundaries, partial=partial)


def _check_backbone(result: AdviceResult, boundaries: list[Boundary]) -> None:
    a = result.advice
    n = boundaries[-1].block
    if not a.freeze.matches(boundaries):
        raise ConfigError("The advice does not match the backbone being trained",
                          expected=f"{n} blocks with {a.freeze.layer!r} at block {a.freeze.block}",
                          received=f"advice for {a.backbone} with {a.freeze.n_blocks} blocks",
                          fix="train the advice's backbone (advice.backbone)")
