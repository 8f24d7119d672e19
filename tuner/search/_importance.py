"""Parameter importances of a finished search, for either backend.

The trials are copied into an in-memory Optuna study so that the same evaluator
(``optuna.importance.get_param_importances``, fANOVA by default) serves both the
Optuna and the KerasTuner backend.
"""

from __future__ import annotations

from tuner.trial import TrialRecord
from tuner.search._space import SearchSpace

__all__ = ["param_importances", "MIN_COMPLETE"]

MIN_COMPLETE = 2


def _distributions(space: SearchSpace) -> dict:
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    out = {}
    for d in space.dimensions():
        out[d.name] = (CategoricalDistribution(list(d.choices)) if d.kind == "categorical"
                       else FloatDistribution(d.low, d.high, log=d.log))
    return out


def param_importances(space: SearchSpace, trials: list[TrialRecord] | tuple[TrialRecord, ...],
                      seed: int = 0) -> tuple[dict[str, float] | None, str]:
    """``(importances, note)``: importance per searched parameter over COMPLETE
    trials, or ``None`` with the reason when it cannot be computed."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    done = [t for t in trials if t.state == "COMPLETE" and t.val_accuracy is not None]
    if len(done) < MIN_COMPLETE:
        return None, f"importances need >= {MIN_COMPLETE} COMPLETE trials, have {len(done)}"
    dists = _distributions(space)
    if not dists:
        return None, "nothing is searched: every parameter is fixed"
    study = optuna.create_study(direction="maximize")
    for t in done:
        params = {k: t.sampled[k] for k in dists if k in t.sampled}
        study.add_trial(optuna.trial.create_trial(
            params=params, distributions={k: dists[k] for k in params},
            value=float(t.val_accuracy)))
    if len({t.val_accuracy for t in done}) < 2:
        return None, "every COMPLETE trial has the same validation accuracy"
    try:
        imp = optuna.importance.get_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except (ValueError, RuntimeError) as e:  # e.g. no parameter present in every trial
        return None, f"importances not computed: {type(e).__name__}: {str(e)[:200]}"
    return {k: float(v) for k, v in imp.items()}, "fANOVA over COMPLETE trials (optuna)"
