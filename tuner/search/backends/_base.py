"""The one interface every search backend implements (the "deciding" half).

A backend is like keras-tuner's Oracle: it proposes parameters (:meth:`ask`),
receives per-epoch validation accuracy (:meth:`should_prune`) and the finished
trial (:meth:`tell`), and keeps its state in the run directory. It never trains:
the same :class:`~tuner.training._runner.TrialRunner` runs trials for every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tuner.trial import TrialRecord
from tuner.search._space import SearchSpace
from tuner.trial import TrialParams

__all__ = ["Proposal", "SearchBackend", "KILLED_MESSAGE"]

KILLED_MESSAGE = "left RUNNING by a process that was killed; marked FAIL on resume"


@dataclass(frozen=True)
class Proposal:
    """A trial the backend wants run: its number, sampled values and full params."""

    number: int
    sampled: dict
    params: TrialParams
    handle: Any = None  # the backend's own trial object


class SearchBackend(ABC):
    """Decides parameters and records results; state lives under ``run_dir``.

    ``storage`` is backend-specific (Optuna: any storage URL; default SQLite
    ``run_dir/study.db``).
    """

    name: ClassVar[str]

    def __init__(self, space: SearchSpace, *, seed: int, run_dir: str | Path,
                 storage: str | None = None, study_name: str = "tltune") -> None:
        self.space = space
        self.seed = seed
        self.run_dir = Path(run_dir)
        self.storage = storage
        self.study_name = study_name

    @abstractmethod
    def open(self, *, resume: bool) -> list[int]:
        """Create the search state (``resume=False``) or load it (``resume=True``).

        Returns the numbers of trials a killed process left RUNNING, now marked
        FAIL (they are not counted and not re-run).
        """

    @abstractmethod
    def ask(self) -> Proposal:
        """The next trial to run (the recommended configuration comes first)."""

    @abstractmethod
    def should_prune(self, proposal: Proposal, step: int, val_accuracy: float) -> bool:
        """Record one epoch's validation accuracy; True when the trial should stop."""

    @abstractmethod
    def tell(self, proposal: Proposal, record: TrialRecord) -> None:
        """Store the finished trial (``record.state``: COMPLETE, PRUNED or FAIL)."""

    @abstractmethod
    def trials(self) -> list[TrialRecord]:
        """Every trial in the state (not waiting ones), ordered by number."""

    @abstractmethod
    def describe(self) -> dict:
        """What the report should say about the backend (sampler, pruner, storage)."""
