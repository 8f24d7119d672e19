"""``tladvise --verify``: a bounded, cross-fitted pilot that measures what fine-tuning
the top blocks gains over the feature extractor, and confirms or overturns the call.

Images: a stratified subsample of ``max_images`` (per split and class), cut into
``folds`` stratified folds; each fold is scored once by models trained on the other
folds (their epochs and heads chosen on a selection split of those, never on the
scored fold). Options, all at 128 px under the rule of :mod:`tuner.verify._pilot`
(the head on cached features to convergence, then 4 fine-tuning epochs; the fixed
learning-rate rule): the feature extractor, a partial freeze at the advice's
boundary (:func:`~tuner.verify.partial_boundary`: the top blocks train on cached
boundary activations, so it costs only the suffix), and the call where it is neither
(full fine-tune, from scratch). The call is judged against the other of the pair, or
(full fine-tune, from scratch) against the better of the two. Every comparison is paired on the same images
(:meth:`~tuner.verify.Scoreboard.difference`): a difference beyond :data:`Z` standard
errors counts as real.

The result is an :class:`advisor.VerifyResult`: the advisor owns the type, since its
:class:`~advisor.AdviceResult` carries it and its renderers draw it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from advisor import AdviceResult, PairedDifference, PilotRun, VerifyResult
from tuner.verify._paired import Option, Scoreboard, crossfit_splits, score_options
from tuner.verify._pilot import PilotBudget, for_advice, freeze_plan_of

__all__ = ["REGRET_TOLERANCE", "VERIFY_BUDGET", "VERIFY_FOLDS", "Z", "PilotRun", "VerifyResult",
           "call_from_evidence", "rival_of", "verify_advice", "verdict"]

VERIFY_BUDGET = PilotBudget(max_train=None)  # at PILOT_INPUT_SIZE, no training cap
VERIFY_FOLDS = 3
Z = 2.0  # differences beyond Z standard errors count as real
REGRET_TOLERANCE = 0.005  # expected regrets closer than this (half a point): the cheaper option

ProgressFactory = Callable[[str, int], Callable[..., None]]


def verdict(diff: PairedDifference, z: float = Z) -> str:
    """``confirmed``, ``overturned`` or ``inconclusive``: the paired difference of the
    recommended minus the rival beyond ``z`` standard errors either way, or within."""
    if diff.difference > z * diff.se:
        return "confirmed"
    if -diff.difference > z * diff.se:
        return "overturned"
    return "inconclusive"


def _explain(v: str, rec: PilotRun, rival: PilotRun, diff: PairedDifference, n: int,
             gain: PairedDifference) -> str:
    nums = (f"{rec.scenario} {rec.val_accuracy:.3f} vs {rival.scenario} {rival.val_accuracy:.3f} "
            f"on {n} held-out images: paired difference {diff.difference:+.3f}, {Z:g} standard "
            f"errors = {Z * diff.se:.3f}")
    lo, hi = gain.interval(Z)
    g = (f" Fine-tuning the top blocks gains {gain.difference:+.3f} over the feature extractor "
         f"(interval {lo:+.3f} .. {hi:+.3f}).")
    if v == "confirmed":
        return f"The call stands: {nums}; the recommended scenario is ahead beyond noise.{g}"
    if v == "overturned":
        return (f"The call is overturned: {nums}; {rival.scenario} is ahead beyond noise in this "
                f"pilot. Consider it, or run tltune to search both.{g}")
    lead = "ahead" if diff.difference > 0 else "behind" if diff.difference < 0 else "level"
    return (f"Inconclusive: {nums}; the recommended scenario is {lead} but within noise, so this "
            f"pilot cannot tell them apart.{g}")


def _expected_shortfall(mean: float, se: float) -> float:
    """E[max(X, 0)] for X ~ Normal(mean, se): what choosing against X is expected to lose."""
    if se <= 0:
        return max(mean, 0.0)
    z = mean / se
    return mean * 0.5 * (1 + math.erf(z / math.sqrt(2))) + se * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def call_from_evidence(runs: dict[str, PilotRun], diff: Callable[[str, str], PairedDifference],
                       tolerance: float = REGRET_TOLERANCE) -> tuple[str, str]:
    """The scenario the pilot's evidence supports, and why: each option's expected regret
    is its largest expected shortfall against another option (each paired difference
    taken as Normal(difference, se)); of the options within ``tolerance`` (accuracy, a
    fraction) of the least, the one that trained fastest in the pilot."""
    er = {o: max(_expected_shortfall(d.difference, d.se)
                 for d in (diff(j, o) for j in runs if j != o)) for o in runs}
    least = min(er.values())
    near = [o for o in runs if er[o] - least <= tolerance]
    call = min(near, key=lambda o: runs[o].seconds)
    nums = "; ".join(f"{o} {100 * er[o]:.1f} points ({runs[o].seconds:.0f} s)" for o in runs)
    why = ("the least" if len(near) == 1 else
           f"the fastest of {len(near)} within {100 * tolerance:.1f} points of the least: the "
           "evidence cannot separate them")
    return call, f"{call}, {why}. Expected regret (pilot seconds): {nums}."


def rival_of(call: str, runs: dict[str, PilotRun]) -> str:
    """What the call is judged against: the other of the feature extractor and the
    partial freeze, or (a call of full fine-tune or from scratch) the better of them."""
    if call == "feature_extractor":
        return "partial_freeze"
    if call == "partial_freeze":
        return "feature_extractor"
    return max(("feature_extractor", "partial_freeze"), key=lambda s: runs[s].val_accuracy)


def _label(scenario: str, block: int) -> str:
    return f"partial_b{block}" if scenario == "partial_freeze" else scenario


def verify_advice(path: str | Path, result: AdviceResult, *, max_images: int | None = 600,
                  folds: int = VERIFY_FOLDS, budget: PilotBudget = VERIFY_BUDGET, seed: int = 0,
                  weights: str = "imagenet", cache_dir: Path | None = None,
                  progress: ProgressFactory | None = None) -> VerifyResult:
    """Cross-fit the feature extractor, the partial freeze at the advice's boundary and
    (when it is neither) the call on a stratified subsample of ``path``; measure the
    gain of fine-tuning and judge the call against :func:`rival_of` (see the module
    docstring).

    ``weights``: as for :func:`advisor.advise` (pass the same the advice used).
    ``budget``: the training budget (flips are dropped where the advice says so).
    """
    t0 = time.perf_counter()
    a = result.advice
    budget = for_advice(budget, result)
    splits, y, _ = crossfit_splits(path, budget, [seed], folds, max_images=max_images,
                                   cache_dir=cache_dir)
    # the gain pair (cheap: the partial freeze trains only the top blocks, on cached
    # activations), and the call itself where it is neither
    scenarios = list(dict.fromkeys(["feature_extractor", "partial_freeze", a.scenario]))
    planned: dict[str, Option] = {}

    def options(bounds) -> list[Option]:
        opts = []
        for s in scenarios:
            plan = freeze_plan_of(s, result, bounds)
            opts.append(Option(_label(s, plan.block), s, plan.code, plan.layer_label))
        planned.update({o.scenario: o for o in opts})
        return opts

    advance = progress("Verifying (cross-fitted pilot)", len(splits) * len(scenarios)) \
        if progress else None
    board = score_options(splits, len(y), y, options, budget, backbone=a.backbone, weights=weights,
                          cache_dir=cache_dir, on_run=(lambda r: advance()) if advance else None)
    runs = {s: _pilot_run(board, planned[s]) for s in scenarios}
    rival_s = rival_of(a.scenario, runs)
    rec, rival = runs[a.scenario], runs[rival_s]
    diff = board.difference(planned[a.scenario].label, planned[rival_s].label)
    gain = board.difference(planned["partial_freeze"].label, "feature_extractor")
    v = verdict(diff)
    call, why = call_from_evidence(
        runs, lambda x, y: board.difference(planned[x].label, planned[y].label))
    return VerifyResult(
        recommended=rec, rival=rival,
        n_train=int(round(float(np.mean([len(s.data.y_train) for s in splits])))),
        n_val=len(y), difference=diff.difference, standard_error=diff.se, verdict=v,
        explanation=_explain(v, rec, rival, diff, len(y), gain),
        seconds=round(time.perf_counter() - t0, 1), budget=budget.to_dict(),
        split_source=dict(splits[0].data.split_source), gain=gain,
        gain_block=planned["partial_freeze"].freeze_block,
        scheme=f"{folds}-fold cross-fitting, seed {seed}: every image scored once, by models "
               "that neither trained on it nor chose their epoch on it",
        call=call, call_reason=why)


def _pilot_run(board: Scoreboard, o: Option) -> PilotRun:
    runs = [r for r in board.runs if r.label == o.label]
    return PilotRun(scenario=o.scenario, freeze_block=o.freeze_block, freeze_layer=o.freeze_layer,
                    val_accuracy=round(board.accuracy(o.label), 4),
                    epochs_run=int(np.median([r.epochs_run for r in runs])),
                    seconds=round(sum(r.seconds for r in runs), 1))
