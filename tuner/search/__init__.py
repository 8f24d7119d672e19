"""The search: the space around the advice, the backends (Optuna, KerasTuner) that
propose, the ask / train / tell loop, parameter importances and the optional
cross-validated re-ranking of the top trials."""

from tuner.search._events import EVENT_KINDS, Emitter, Progress, SweepEvent
from tuner.search._importance import MIN_COMPLETE, param_importances
from tuner.search._loop import MAX_WORKER_DEATHS, TEST_SLEEP_ENV, TrialLoop
from tuner.search._rerank import (CV_FOLDS, RERANK_TOP, SMALL_VAL, CandidateScore, RerankResult,
                                  candidates, choose, fold_problem, rerank,
                                  small_validation_hint)
from tuner.search._stopping import DEFAULT_STALL, StallStop, check_stall, stall_stop
from tuner.search._space import DEFAULT_EPOCHS, DEFAULT_PATIENCE, Dimension, SearchSpace
from tuner.search.backends import BACKENDS, KILLED_MESSAGE, Proposal, SearchBackend, get_backend

__all__ = ["BACKENDS", "CV_FOLDS", "DEFAULT_EPOCHS", "DEFAULT_STALL", "StallStop", "check_stall",
           "stall_stop", "DEFAULT_PATIENCE", "EVENT_KINDS",
           "KILLED_MESSAGE", "MAX_WORKER_DEATHS", "MIN_COMPLETE", "RERANK_TOP", "SMALL_VAL",
           "TEST_SLEEP_ENV", "CandidateScore", "Dimension", "Emitter", "Progress", "Proposal",
           "RerankResult", "SearchBackend", "SearchSpace", "SweepEvent", "TrialLoop",
           "candidates", "choose", "fold_problem", "get_backend", "param_importances", "rerank",
           "small_validation_hint"]
