"""The pilot behind ``tladvise --verify`` and ``benchmarks/scenario_truth.py``: one
equal training budget (:class:`PilotBudget`), its data and per-scenario trial
parameters; paired, unbiased comparisons of transfer options (:class:`Scoreboard`,
:func:`score_options` over :func:`holdout_splits` or :func:`crossfit_splits`); and
:func:`verify_advice`, which cross-fits the call, its runner-up, the feature extractor
and a partial freeze, and returns an :class:`advisor.VerifyResult` with the measured
gain of fine-tuning."""

from advisor import PairedDifference, PilotRun, VerifyResult
from tuner.verify._pilot import (LEARNING_RATES, PILOT_INPUT_SIZE, PilotBudget, for_advice, freeze_plan_of,
                                 partial_boundary, pilot_data, planned_epochs, scenario_params)
from tuner.verify._paired import (SELECT_FRACTION, SELECT_MAX, Option, ScoredRun,
                                  Scoreboard, Split, crossfit_splits, grid_options, holdout_splits,
                                  score_options)
from tuner.verify._verify import (REGRET_TOLERANCE, VERIFY_BUDGET, VERIFY_FOLDS, Z, call_from_evidence,
                                  rival_of, verdict, verify_advice)

__all__ = ["SELECT_FRACTION", "SELECT_MAX", "Option", "PairedDifference", "ScoredRun", "Scoreboard",
           "Split", "crossfit_splits", "grid_options", "holdout_splits", "score_options",
           "LEARNING_RATES", "PILOT_INPUT_SIZE", "REGRET_TOLERANCE", "VERIFY_BUDGET", "VERIFY_FOLDS", "Z", "call_from_evidence", "rival_of", "PilotBudget", "PilotRun", "VerifyResult",
           "for_advice", "freeze_plan_of", "partial_boundary", "pilot_data", "planned_epochs",
           "scenario_params", "verdict", "verify_advice"]
