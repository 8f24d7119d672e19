"""The tuner: search freeze depth and training hyper-parameters around the advice,
then retrain, evaluate and export the best configuration (``tltune``)."""

from tuner._results import FINISHED_STATES, SweepResult, TrialRecord
from tuner._space import Dimension, SearchSpace
from tuner._tune import SweepEvent, load_advice, tune
from tuner._types import EpochRecord, TrialOutcome, TrialParams

__all__ = [
    "FINISHED_STATES",
    "Dimension",
    "EpochRecord",
    "SearchSpace",
    "SweepEvent",
    "SweepResult",
    "TrialOutcome",
    "TrialParams",
    "TrialRecord",
    "load_advice",
    "tune",
]
