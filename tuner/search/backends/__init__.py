"""Search backends (Optuna, KerasTuner): they decide parameters, never train."""

from tuner.search.backends._base import KILLED_MESSAGE, Proposal, SearchBackend
from tuner.search.backends._factory import BACKENDS, get_backend

__all__ = ["BACKENDS", "KILLED_MESSAGE", "Proposal", "SearchBackend", "get_backend"]
