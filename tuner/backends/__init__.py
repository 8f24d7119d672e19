"""Search backends (Optuna, KerasTuner): they decide parameters, never train."""

from tuner.backends._base import KILLED_MESSAGE, Proposal, SearchBackend
from tuner.backends._factory import BACKENDS, get_backend

__all__ = ["BACKENDS", "KILLED_MESSAGE", "Proposal", "SearchBackend", "get_backend"]
