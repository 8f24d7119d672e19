"""The tuner: search freeze depth and training hyper-parameters around the advice,
then retrain, evaluate and export the best configuration (``tltune``).

The library call is :func:`tune`; its options are :class:`SweepOptions` and its result
a :class:`SweepResult`. :func:`find_lr` sweeps the learning rates of a runner's head and
backbone (an :class:`LRFinding`, whose ``ranges()`` centre a search on its suggestions).
The subpackages hold one concept each: ``trial`` (what a trial is), ``data`` (decoded
splits), ``training`` (the runners), ``final`` (evaluation, export, prediction), ``search``
(space, backends, loop), ``run`` (the run directory), ``report`` (terminal and
HTML/Markdown) and ``verify`` (the pilot behind ``tladvise --verify``).
"""

from tuner._advice import load_advice
from tuner._options import SweepOptions
from tuner._tune import tune
from tuner.final import FinalResult, predict
from tuner.run import SweepConfig, SweepResult, load_results
from tuner.search import Dimension, SearchSpace, SweepEvent
from tuner.training import LRFinding, find_lr
from tuner.trial import FINISHED_STATES, EpochRecord, TrialOutcome, TrialParams, TrialRecord

__all__ = [
    "FINISHED_STATES",
    "Dimension",
    "EpochRecord",
    "FinalResult",
    "LRFinding",
    "SearchSpace",
    "SweepConfig",
    "SweepEvent",
    "SweepOptions",
    "SweepResult",
    "TrialOutcome",
    "TrialParams",
    "TrialRecord",
    "find_lr",
    "load_advice",
    "load_results",
    "predict",
    "tune",
]
