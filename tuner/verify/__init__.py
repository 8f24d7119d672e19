"""The pilot behind ``tladvise --verify`` and ``benchmarks/scenario_truth.py``: one
equal training budget (:class:`PilotBudget`), its data and per-scenario trial
parameters, and :func:`verify_advice`, which trains the call and its runner-up and
returns an :class:`advisor.VerifyResult`."""

from advisor import PilotRun, VerifyResult
from tuner.verify._pilot import (LEARNING_RATES, PILOT_INPUT_SIZE, PilotBudget, for_advice, freeze_plan_of,
                                 partial_boundary, pilot_data, planned_epochs, scenario_params)
from tuner.verify._paired import (SELECT_FRACTION, SELECT_MAX, Option, PairedDifference, ScoredRun,
                                  Scoreboard, Split, crossfit_splits, grid_options, holdout_splits,
                                  score_options)
from tuner.verify._verify import VERIFY_BUDGET, Z, verdict, verify_advice

__all__ = ["SELECT_FRACTION", "SELECT_MAX", "Option", "PairedDifference", "ScoredRun", "Scoreboard",
           "Split", "crossfit_splits", "grid_options", "holdout_splits", "score_options",
           "LEARNING_RATES", "PILOT_INPUT_SIZE", "VERIFY_BUDGET", "Z", "PilotBudget", "PilotRun", "VerifyResult",
           "for_advice", "freeze_plan_of", "partial_boundary", "pilot_data", "planned_epochs",
           "scenario_params", "verdict", "verify_advice"]
