"""``tladvise --verify``: a bounded pilot that trains the recommended scenario and
its closest rival (``advice.runner_up``) and confirms or overturns the call.

Budget (:data:`VERIFY_BUDGET`, about 3 minutes on a 2-core CPU for 500 images):
a stratified subsample of ``max_images`` images (per split and class), validation
on its ``val/`` part (else a stratified 20%), both scenarios at 128 px under the
rule of :mod:`tuner.verify._pilot` (the head on cached features to convergence, up to 30
epochs with patience 5, then 4 fine-tuning epochs; from scratch 6 epochs, patience
4; the fixed learning-rate rule). The verdict compares the difference of the two validation
accuracies with twice its binomial standard error
``sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n)`` (``n`` validation images; it treats the
two runs as independent, which overstates the noise of a paired comparison, so
the verdict errs towards "inconclusive").

The result is an :class:`advisor.VerifyResult`: the advisor owns the type, since its
:class:`~advisor.AdviceResult` carries it and its renderers draw it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from advisor import AdviceResult, PilotRun, VerifyResult
from tuner.verify._pilot import (PilotBudget, for_advice, freeze_plan_of, pilot_data, planned_epochs,
                          scenario_params)

__all__ = ["VERIFY_BUDGET", "Z", "PilotRun", "VerifyResult", "verify_advice", "verdict"]

VERIFY_BUDGET = PilotBudget(max_train=None)  # at PILOT_INPUT_SIZE, no training cap
Z = 2.0  # differences beyond Z standard errors count as real

ProgressFactory = Callable[[str, int], Callable[..., None]]


def verdict(acc_rec: float, acc_rival: float, n_val: int, z: float = Z) -> tuple[str, float, float]:
    """``(verdict, difference, standard error)`` of recommended vs rival accuracy."""
    diff = acc_rec - acc_rival
    se = math.sqrt((acc_rec * (1 - acc_rec) + acc_rival * (1 - acc_rival)) / max(n_val, 1))
    if diff > z * se:
        return "confirmed", diff, se
    if -diff > z * se:
        return "overturned", diff, se
    return "inconclusive", diff, se


def _explain(v: str, rec: PilotRun, rival: PilotRun, diff: float, se: float, n_val: int) -> str:
    nums = (f"{rec.scenario} {rec.val_accuracy:.3f} vs {rival.scenario} {rival.val_accuracy:.3f} "
            f"on {n_val} validation images: difference {diff:+.3f}, {Z:g} standard errors = "
            f"{Z * se:.3f}")
    if v == "confirmed":
        return f"The call stands: {nums}; the recommended scenario is ahead beyond noise."
    if v == "overturned":
        return (f"The call is overturned: {nums}; {rival.scenario} is ahead beyond noise in this "
                "pilot. Consider it, or run tltune to search both.")
    lead = "ahead" if diff > 0 else "behind" if diff < 0 else "level"
    return (f"Inconclusive: {nums}; the recommended scenario is {lead} but within noise, so this "
            "pilot cannot tell them apart (a larger validation set or longer runs could).")


def verify_advice(path: str | Path, result: AdviceResult, *, max_images: int | None = 500,
                  budget: PilotBudget = VERIFY_BUDGET, seed: int = 0, weights: str = "imagenet",
                  cache_dir: Path | None = None,
                  progress: ProgressFactory | None = None) -> VerifyResult:
    """Train ``result.advice.scenario`` and ``result.advice.runner_up`` on a stratified
    subsample of ``path`` and judge the call (see the module docstring).

    ``weights``: as for :func:`advisor.advise` (pass the same the advice used).
    ``budget``: the training budget (flips are dropped where the advice says so).
    """
    from tuner.training import TrialRunner

    t0 = time.perf_counter()
    a = result.advice
    budget = for_advice(budget, result)
    data = pilot_data(path, budget, seed=seed, max_images=max_images, cache_dir=cache_dir)
    runner = TrialRunner(data, backbone=a.backbone, weights=weights,
                         seed=seed, cache_dir=cache_dir)
    boundaries = runner.boundaries()
    runs: list[PilotRun] = []
    for scenario in (a.scenario, a.runner_up):
        plan = freeze_plan_of(scenario, result, boundaries)
        params = scenario_params(scenario, plan, budget)
        most = planned_epochs(params, runner.n_blocks)
        advance = progress(f"Verifying: {scenario}", most) if progress else None
        out = runner.run(params, (lambda e, acc: advance()) if advance else None)
        if advance and out.epochs_run < most:  # stopped early: fill the bar
            advance(most - out.epochs_run)
        runs.append(PilotRun(scenario=scenario, freeze_block=plan.code,
                             freeze_layer=plan.layer_label,
                             val_accuracy=out.val_accuracy, epochs_run=out.epochs_run,
                             seconds=out.seconds))
    rec, rival = runs
    n_val = len(data.y_val)
    v, diff, se = verdict(rec.val_accuracy, rival.val_accuracy, n_val)
    return VerifyResult(recommended=rec, rival=rival, n_train=len(data.y_train), n_val=n_val,
                        difference=round(diff, 4), standard_error=round(se, 4), verdict=v,
                        explanation=_explain(v, rec, rival, diff, se, n_val),
                        seconds=round(time.perf_counter() - t0, 1), budget=budget.to_dict(),
                        split_source=dict(data.split_source))
